package app

import (
	"encoding/json"
	"log/slog"

	"fyne.io/fyne/v2"

	"github.com/onecxi/phone/screens"
)

// historyMax is how many calls the history keeps; older ones drop off.
const historyMax = 200

// callHistory is the call history, newest first, kept as JSON in the app's
// preferences (prefHistory) so it survives restarts. Used on the UI
// goroutine only.
type callHistory struct {
	prefs   fyne.Preferences
	log     *slog.Logger
	records []screens.CallRecord
}

// loadHistory reads the saved history; an unreadable one starts afresh
// (and is logged), since a history is no reason not to start the phone.
func loadHistory(prefs fyne.Preferences, log *slog.Logger) *callHistory {
	h := &callHistory{prefs: prefs, log: log}
	if s := prefs.String(prefHistory); s != "" {
		if err := json.Unmarshal([]byte(s), &h.records); err != nil {
			log.Warn("call history unreadable; starting a new one", "err", err)
			h.records = nil
		}
	}
	return h
}

// add puts r first and saves; a record of the same call (same start,
// number and direction: the call log sends a record again once it knows
// why the call ended) is replaced where it is instead.
func (h *callHistory) add(r screens.CallRecord) {
	for i, old := range h.records {
		if old.Start.Equal(r.Start) && old.Number == r.Number && old.Direction == r.Direction {
			h.records[i] = r
			h.save()
			return
		}
	}
	h.records = append([]screens.CallRecord{r}, h.records...)
	if len(h.records) > historyMax {
		h.records = h.records[:historyMax]
	}
	h.save()
}

// clear forgets every call.
func (h *callHistory) clear() {
	h.records = nil
	h.save()
}

// all is the history, newest first; the caller must not modify it.
func (h *callHistory) all() []screens.CallRecord { return h.records }

func (h *callHistory) save() {
	b, err := json.Marshal(h.records)
	if err != nil {
		h.log.Warn("saving the call history", "err", err)
		return
	}
	h.prefs.SetString(prefHistory, string(b))
}

package app

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/screens"
)

func TestHistoryPersists(t *testing.T) {
	prefs := test.NewTempApp(t).Preferences()
	log := slog.New(slog.DiscardHandler)
	start := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	first := screens.CallRecord{Direction: screens.DirectionOutgoing, Type: callcore.CallTypeInbound, Number: "90000",
		Start: start, Duration: 65 * time.Second, Outcome: screens.Answered}
	second := screens.CallRecord{Direction: screens.DirectionIncoming, Type: callcore.CallTypeAppToApp, Number: "1002",
		Name: "Ada", Start: start.Add(time.Hour), Outcome: screens.Missed}

	h := loadHistory(prefs, log)
	assert.Empty(t, h.all())
	h.add(first)
	h.add(second)

	again := loadHistory(prefs, log) // as after a restart
	require.Len(t, again.all(), 2)
	assert.Equal(t, second, again.all()[0], "newest first")
	assert.Equal(t, first, again.all()[1])
	assert.Contains(t, prefs.String(prefHistory), `"type":"app_to_app"`, "call types are saved by name")

	again.clear()
	assert.Empty(t, loadHistory(prefs, log).all())
}

// The call log sends a record again once it knows why the call ended: the
// history replaces the record of that call rather than listing it twice.
func TestHistoryReplacesARecordSentAgain(t *testing.T) {
	prefs := test.NewTempApp(t).Preferences()
	log := slog.New(slog.DiscardHandler)
	start := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	call := screens.CallRecord{Direction: screens.DirectionOutgoing, Type: callcore.CallTypeAppToApp, Number: "1002",
		Start: start, Duration: 5 * time.Second, Outcome: screens.Answered}
	missed := screens.CallRecord{Direction: screens.DirectionIncoming, Type: callcore.CallTypeAppToApp, Number: "1003",
		Start: start.Add(time.Second), Outcome: screens.Missed}
	h := loadHistory(prefs, log)
	h.add(call)
	h.add(missed) // rang meanwhile
	again := call
	again.EndReason = callcore.EndReasonNetworkLost
	h.add(again)

	saved := loadHistory(prefs, log).all()
	assert.Equal(t, []screens.CallRecord{missed, again}, saved, "replaced in place, reason saved")
	assert.Contains(t, prefs.String(prefHistory), `"endReason":"network_lost"`)
}

func TestHistoryKeepsTheLatest(t *testing.T) {
	prefs := test.NewTempApp(t).Preferences()
	h := loadHistory(prefs, slog.New(slog.DiscardHandler))
	for i := range historyMax + 5 {
		h.add(screens.CallRecord{Number: fmt.Sprint(i), Outcome: screens.Answered})
	}
	all := loadHistory(prefs, slog.New(slog.DiscardHandler)).all()
	require.Len(t, all, historyMax)
	assert.Equal(t, fmt.Sprint(historyMax+4), all[0].Number)
	assert.Equal(t, "5", all[historyMax-1].Number, "the oldest dropped off")
}

func TestHistoryUnreadableStartsAfresh(t *testing.T) {
	prefs := test.NewTempApp(t).Preferences()
	prefs.SetString(prefHistory, "[{broken")
	h := loadHistory(prefs, slog.New(slog.DiscardHandler))
	assert.Empty(t, h.all())
	h.add(screens.CallRecord{Number: "1"})
	assert.Len(t, loadHistory(prefs, slog.New(slog.DiscardHandler)).all(), 1)
}

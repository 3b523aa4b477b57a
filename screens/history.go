package screens

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onecxi/phone/callcore"
)

// Direction is which way a call went.
type Direction string

// Directions.
const (
	DirectionOutgoing Direction = "outgoing"
	DirectionIncoming Direction = "incoming"
)

// Outcome is how a call went.
type Outcome string

// Outcomes. An outgoing call nobody answered is Missed too (shown as "no
// answer").
const (
	Answered Outcome = "answered"
	Missed   Outcome = "missed"
	Declined Outcome = "declined"
	Failed   Outcome = "failed"
)

// CallRecord is one call in the history.
type CallRecord struct {
	Direction Direction         `json:"direction"`
	Type      callcore.CallType `json:"type"`
	Number    string            `json:"number"`
	Name      string            `json:"name,omitempty"` // the caller's name, when given
	Start     time.Time         `json:"start"`
	Duration  time.Duration     `json:"duration"` // talk time; 0 when not answered
	Outcome   Outcome           `json:"outcome"`
	// EndReason is why the call ended, as the SDK said; "" for calls that
	// never began, and in histories saved before it was recorded.
	EndReason callcore.EndReason `json:"endReason,omitempty"`
}

// Summary is the record's second line: "Service number · outgoing · 01:05",
// and why it ended when its outcome does not say ("· connection lost").
func (r CallRecord) Summary() string {
	s := describeType(r.Type)
	if s == "" {
		s = "Call"
	}
	switch {
	case r.Outcome == Answered:
		s += " · " + string(r.Direction) + " · " + FormatDuration(r.Duration)
	case r.Outcome == Missed && r.Direction == DirectionOutgoing:
		s += " · no answer"
	default:
		s += " · " + string(r.Outcome)
	}
	if note := endReasonNote(r.EndReason, r.Outcome); note != "" {
		s += " · " + note
	}
	return s
}

// When is the record's time of day, or date for older calls.
func (r CallRecord) When(now time.Time) string {
	y1, m1, d1 := r.Start.Local().Date()
	y2, m2, d2 := now.Local().Date()
	if y1 == y2 && m1 == m2 && d1 == d2 {
		return r.Start.Local().Format("15:04")
	}
	return r.Start.Local().Format("2 Jan 15:04")
}

// History lists past calls, newest first; tapping one redials it.
type History struct {
	records []CallRecord // newest first
	redial  func(CallRecord)
	clear   func()
	now     func() time.Time

	List    *widget.List
	Empty   *widget.Label
	Clear   *widget.Button
	content fyne.CanvasObject
}

// NewHistory builds the list. redial is called with a tapped record; clear
// forgets every record.
func NewHistory(redial func(CallRecord), clear func()) *History {
	h := &History{redial: redial, clear: clear, now: time.Now}
	h.List = widget.NewList(
		func() int { return len(h.records) },
		func() fyne.CanvasObject {
			number := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			number.Truncation = fyne.TextTruncateEllipsis
			summary := widget.NewLabel("")
			summary.Importance = widget.LowImportance
			summary.Truncation = fyne.TextTruncateEllipsis
			when := widget.NewLabel("")
			return container.NewBorder(nil, nil, widget.NewIcon(nil), when,
				container.NewVBox(number, summary))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { h.fillRow(h.records[i], o.(*fyne.Container)) },
	)
	h.List.OnSelected = func(i widget.ListItemID) {
		h.List.UnselectAll()
		if i >= 0 && i < len(h.records) {
			h.redial(h.records[i])
		}
	}
	h.Empty = widget.NewLabelWithStyle("No calls yet. Calls you make and receive appear here; tap one to call back.",
		fyne.TextAlignCenter, fyne.TextStyle{})
	h.Empty.Wrapping = fyne.TextWrapWord
	h.Clear = widget.NewButtonWithIcon("Clear history", theme.DeleteIcon(), func() { h.clear() })
	h.Clear.Importance = widget.LowImportance
	h.content = container.NewBorder(nil, h.Clear, nil, nil, container.NewStack(h.Empty, h.List))
	h.Set(nil)
	return h
}

// Content is the screen's root object.
func (h *History) Content() fyne.CanvasObject { return h.content }

// Set shows records, newest first.
func (h *History) Set(records []CallRecord) {
	h.records = records
	if len(records) == 0 {
		h.Empty.Show()
		h.Clear.Disable()
	} else {
		h.Empty.Hide()
		h.Clear.Enable()
	}
	h.List.Refresh()
}

// Records is what the list shows.
func (h *History) Records() []CallRecord { return h.records }

// Tap redials the record in row i, as a tap on the list does.
func (h *History) Tap(i int) { h.List.Select(i) }

func (h *History) fillRow(r CallRecord, row *fyne.Container) {
	body := row.Objects[0].(*fyne.Container)
	icon := row.Objects[1].(*widget.Icon)
	when := row.Objects[2].(*widget.Label)
	number := body.Objects[0].(*widget.Label)
	summary := body.Objects[1].(*widget.Label)
	name := r.Number
	if r.Name != "" && r.Name != r.Number {
		name = r.Name + " (" + r.Number + ")"
	}
	number.SetText(name)
	summary.SetText(r.Summary())
	when.SetText(r.When(h.now()))
	res := fyne.Resource(callMadeIcon)
	if r.Direction == DirectionIncoming {
		res = callReceivedIcon
	}
	if r.Outcome != Answered {
		res = theme.NewErrorThemedResource(res) // missed, declined, failed: red
	}
	icon.SetResource(res)
	number.Importance = widget.MediumImportance
	if r.Direction == DirectionIncoming && r.Outcome == Missed {
		number.Importance = widget.DangerImportance
	}
	number.Refresh()
}

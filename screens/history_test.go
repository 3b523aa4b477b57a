package screens

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/screens/screentest"
)

func TestCallRecordText(t *testing.T) {
	noon := time.Date(2025, 6, 7, 12, 0, 0, 0, time.Local)
	for _, tc := range []struct {
		name          string
		r             CallRecord
		summary, when string
	}{
		{"answered outgoing", CallRecord{Direction: DirectionOutgoing, Type: callcore.CallTypeInbound, Start: noon.Add(-time.Hour), Duration: 65 * time.Second, Outcome: Answered},
			"Service number · outgoing · 01:05", "11:00"},
		{"answered incoming", CallRecord{Direction: DirectionIncoming, Type: callcore.CallTypeAppToApp, Start: noon, Duration: time.Hour, Outcome: Answered},
			"App call · incoming · 1:00:00", "12:00"},
		{"nobody answered", CallRecord{Direction: DirectionOutgoing, Type: callcore.CallTypeOutbound, Start: noon.Add(-24 * time.Hour), Outcome: Missed},
			"Phone call · no answer", "6 Jun 12:00"},
		{"missed", CallRecord{Direction: DirectionIncoming, Type: callcore.CallTypeAppToApp, Start: noon, Outcome: Missed}, "App call · missed", "12:00"},
		{"declined", CallRecord{Direction: DirectionIncoming, Type: callcore.CallTypeAppToApp, Start: noon, Outcome: Declined}, "App call · declined", "12:00"},
		{"failed", CallRecord{Direction: DirectionOutgoing, Type: callcore.CallTypeInbound, Start: noon, Outcome: Failed}, "Service number · failed", "12:00"},
		{"no type", CallRecord{Direction: DirectionIncoming, Start: noon, Outcome: Missed}, "Call · missed", "12:00"},
		{"hung up: the outcome says enough", CallRecord{Direction: DirectionOutgoing, Type: callcore.CallTypeInbound, Start: noon, Duration: 5 * time.Second, Outcome: Answered, EndReason: callcore.EndReasonRemoteHangup},
			"Service number · outgoing · 00:05", "12:00"},
		{"declined: the outcome says enough", CallRecord{Direction: DirectionOutgoing, Type: callcore.CallTypeAppToApp, Start: noon, Outcome: Declined, EndReason: callcore.EndReasonDeclined},
			"App call · declined", "12:00"},
		{"connection lost", CallRecord{Direction: DirectionIncoming, Type: callcore.CallTypeAppToApp, Start: noon, Duration: 65 * time.Second, Outcome: Answered, EndReason: callcore.EndReasonNetworkLost},
			"App call · incoming · 01:05 · connection lost", "12:00"},
		{"the far party's connection lost", CallRecord{Direction: DirectionOutgoing, Type: callcore.CallTypeAppToApp, Start: noon, Duration: 5 * time.Second, Outcome: Answered, EndReason: callcore.EndReasonRemoteLost},
			"App call · outgoing · 00:05 · their connection lost", "12:00"},
		{"keep-alive timeout", CallRecord{Direction: DirectionOutgoing, Type: callcore.CallTypeInbound, Start: noon, Duration: 5 * time.Second, Outcome: Answered, EndReason: callcore.EndReasonKeepaliveTimeout},
			"Service number · outgoing · 00:05 · timed out", "12:00"},
		{"server shut down", CallRecord{Direction: DirectionOutgoing, Type: callcore.CallTypeInbound, Start: noon, Duration: 5 * time.Second, Outcome: Answered, EndReason: callcore.EndReasonServerShutdown},
			"Service number · outgoing · 00:05 · server shut down", "12:00"},
		{"trunk failure", CallRecord{Direction: DirectionOutgoing, Type: callcore.CallTypeOutbound, Start: noon, Outcome: Failed, EndReason: callcore.EndReasonTrunkFailed},
			"Phone call · failed · phone network failed", "12:00"},
		{"failed: said once", CallRecord{Direction: DirectionOutgoing, Type: callcore.CallTypeOutbound, Start: noon, Outcome: Failed, EndReason: callcore.EndReasonFailed},
			"Phone call · failed", "12:00"},
		{"failed after the answer", CallRecord{Direction: DirectionOutgoing, Type: callcore.CallTypeOutbound, Start: noon, Duration: 5 * time.Second, Outcome: Answered, EndReason: callcore.EndReasonFailed},
			"Phone call · outgoing · 00:05 · failed", "12:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.summary, tc.r.Summary())
			assert.Equal(t, tc.when, tc.r.When(noon))
		})
	}
}

func TestHistoryList(t *testing.T) {
	ui := screentest.New(t)
	var redialled []CallRecord
	cleared := 0
	var h *History
	ui.Do(func() { h = NewHistory(func(r CallRecord) { redialled = append(redialled, r) }, func() { cleared++ }) })
	recs := []CallRecord{
		{Direction: DirectionIncoming, Type: callcore.CallTypeAppToApp, Number: "1002", Name: "Ada", Start: time.Now(), Outcome: Missed},
		{Direction: DirectionOutgoing, Type: callcore.CallTypeInbound, Number: "90000", Start: time.Now(), Duration: 5 * time.Second, Outcome: Answered},
	}
	ui.Do(func() {
		assert.True(t, h.Empty.Visible())
		assert.True(t, h.Clear.Disabled())
		h.Set(recs)
		assert.False(t, h.Empty.Visible())
		assert.False(t, h.Clear.Disabled())

		w := test.NewTempWindow(t, h.Content())
		w.Resize(fyne.NewSize(360, 400))
		row := h.List.CreateItem().(*fyne.Container)
		h.List.UpdateItem(0, row)
		body := row.Objects[0].(*fyne.Container)
		assert.Equal(t, "Ada (1002)", body.Objects[0].(*widget.Label).Text)
		assert.Equal(t, widget.DangerImportance, body.Objects[0].(*widget.Label).Importance, "a missed call stands out")
		assert.Equal(t, "App call · missed", body.Objects[1].(*widget.Label).Text)

		h.Tap(1)
		test.Tap(h.Clear)
	})
	require.Len(t, redialled, 1)
	assert.Equal(t, recs[1], redialled[0])
	assert.Equal(t, 1, cleared)
}

func TestDialerRecentNumbers(t *testing.T) {
	ui := screentest.New(t)
	ui.Do(func() {
		d := NewDialer(nil, func() string { return "1001" }, nil)
		d.SetRecent([]CallRecord{
			{Number: "1002", Type: callcore.CallTypeAppToApp},
			{Number: "90000", Type: callcore.CallTypeInbound},
			{Number: "1002", Type: callcore.CallTypeAppToApp},
			{Number: "+14155550100", Type: callcore.CallTypeOutbound},
			{Number: "90050", Type: callcore.CallTypeInbound},
		})
		var labels []string
		for _, o := range d.Recent.Objects {
			labels = append(labels, o.(*widget.Button).Text)
		}
		assert.Equal(t, []string{"1002", "90000", "+14155550100"}, labels, "newest first, each once, three at most")

		test.Tap(d.Recent.Objects[2].(*widget.Button))
		assert.Equal(t, "+14155550100", d.Number.Text)
		assert.Equal(t, "Phone number", d.Kind.Selected)
		test.Tap(d.Recent.Objects[0].(*widget.Button))
		assert.Equal(t, "1002", d.Number.Text)
		assert.Equal(t, "App user", d.Kind.Selected, "calling back, not answering")

		d.SetRecent(nil)
		assert.Empty(t, d.Recent.Objects)
	})
}

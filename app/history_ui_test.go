package app

import (
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/screens"
	"github.com/onecxi/phone/screens/screentest"
)

func TestHistoryRecordsPersistsAndRedials(t *testing.T) {
	ph := newSignedInPhone(t, "none")
	records := func(ph *phone) []screens.CallRecord {
		return screentest.Get(ph.ui, func() []screens.CallRecord { return ph.p.UI.History.Records() })
	}
	assert.Empty(t, records(ph))
	assert.True(t, screentest.Get(ph.ui, func() bool { return ph.p.UI.History.Empty.Visible() }))

	ph.dial(kindDID, "abc") // refused before dialling: not a call
	ph.waitFor(t, "the error", func(u *UI) bool { return u.Dialer.Message.Text != "" && !u.Dialer.Call.Disabled() })
	ph.dial(kindDID, "90000")
	ph.waitAnswered(t)
	ph.tap(func(u *UI) *widget.Button { return u.InCall.Hangup })
	ph.waitScreen(t, "dialer")
	ph.dial(kindDID, "12345") // not a number the server knows
	ph.waitFor(t, "the error", func(u *UI) bool { return u.Dialer.Message.Text == "The number was not found." })

	ph.waitFor(t, "two calls in the history", func(u *UI) bool { return len(u.History.Records()) == 2 })
	got := records(ph)
	assert.Equal(t, "12345", got[0].Number, "newest first")
	assert.Equal(t, screens.Failed, got[0].Outcome)
	assert.Equal(t, screens.DirectionOutgoing, got[1].Direction)
	assert.Equal(t, callcore.CallTypeInbound, got[1].Type)
	assert.Equal(t, "90000", got[1].Number)
	assert.Equal(t, screens.Answered, got[1].Outcome)
	assert.False(t, got[1].Start.IsZero())
	ph.ui.Do(func() {
		assert.False(t, ph.p.UI.History.Empty.Visible())
		recent := ph.p.UI.Dialer.Recent.Objects
		require.Len(t, recent, 2, "recent numbers on the dialer")
		assert.Equal(t, "12345", recent[0].(*widget.Button).Text)
		assert.Equal(t, "90000", recent[1].(*widget.Button).Text)

		ph.p.UI.Dialer.Kind.SetSelected(kindPhone)
		test.Tap(recent[1].(*widget.Button))
		assert.Equal(t, "90000", ph.p.UI.Dialer.Number.Text, "a recent number fills the field")
		assert.Equal(t, kindDID, ph.p.UI.Dialer.Kind.Selected, "with its call type")
	})

	// After a restart the history is still there.
	ph.p.Stop()
	again := startPhone(t, ph.ui, Config{})
	again.waitFor(t, "signed in again", func(u *UI) bool { return u.Status.Importance == widget.SuccessImportance })
	assert.Equal(t, got, records(again))

	// A tap on a call redials it.
	again.ui.Do(func() {
		again.p.UI.Tabs.Select(again.p.UI.HistoryTab)
		again.p.UI.History.Tap(1)
	})
	again.waitFor(t, "the redial answered", func(u *UI) bool {
		return u.Tabs.Selected() == u.PhoneTab && screenName(u) == "in-call" && u.InCall.Timer.Text == "00:00"
	})
	assert.Equal(t, "90000", again.text(func(u *UI) *widget.Label { return u.InCall.Who }))
	again.tap(func(u *UI) *widget.Button { return u.InCall.Hangup })
	again.waitFor(t, "three calls in the history", func(u *UI) bool { return len(u.History.Records()) == 3 })

	again.ui.Do(func() { test.Tap(again.p.UI.History.Clear) })
	assert.Empty(t, records(again))
	assert.Equal(t, "null", again.ui.App().Preferences().String(prefHistory), "cleared in the preferences too")
}

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

// bannerState is what the in-call screen's reconnecting banner shows.
type bannerState struct {
	visible bool
	text    string
}

func TestInCallReconnectingBanner(t *testing.T) {
	ui := screentest.New(t)
	clk := &clock{now: time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)}
	c := screentest.Get(ui, func() *InCall { return NewInCall(nil) })
	banner := func() bannerState {
		return screentest.Get(ui, func() bannerState {
			return bannerState{c.Reconnecting.Visible(), c.Reconnecting.Text()}
		})
	}
	ui.Do(func() {
		c.SetClock(clk.Now)
		c.Begin("1002", callcore.CallTypeAppToApp)
		c.Started()
		test.NewTempWindow(t, c.Content()).Resize(fyne.NewSize(400, 680))
	})
	assert.Equal(t, bannerState{}, banner(), "hidden while the call is fine")

	active := callcore.CallStatus{IsCallOngoing: true, CallType: callcore.CallTypeAppToApp, CurrentDID: "1002"}.
		WithState(callcore.CallStateActive)
	local := bannerState{true, "Reconnecting… your connection was lost"}
	remote := bannerState{true, "1002 is reconnecting…"}
	for _, tc := range []struct {
		name   string
		status callcore.CallStatus
		want   bannerState
	}{
		{"this phone reconnecting", active.WithReconnecting(true), local},
		{"this phone back", active, bannerState{}},
		{"the far party reconnecting", active.WithRemoteReconnecting(true), remote},
		{"the far party back", active, bannerState{}},
		{"both: this phone's own loss comes first", active.WithReconnecting(true).WithRemoteReconnecting(true), local},
		{"this phone back, the far party still reconnecting", active.WithRemoteReconnecting(true), remote},
		{"muted while the far party reconnects", active.WithRemoteReconnecting(true).WithMuted(true), remote},
		{"all back", active, bannerState{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ui.Do(func() { c.Update(tc.status) })
			assert.Equal(t, tc.want, banner())
			assert.Equal(t, tc.status.IsReconnecting, screentest.Get(ui, c.IsReconnecting))
		})
	}

	t.Run("the timer runs on while reconnecting", func(t *testing.T) {
		ui.Do(func() { c.Update(active.WithReconnecting(true)) })
		clk.Add(65 * time.Second)
		require.True(t, ui.Eventually(func() bool { return c.Timer.Text == "01:05" }, 5*time.Second),
			"the timer stopped: %q", screentest.Get(ui, func() string { return c.Timer.Text }))
		assert.Equal(t, local, banner())
	})

	t.Run("the SDK's ReconnectCallback alone", func(t *testing.T) {
		ui.Do(func() { c.Update(active) })
		for _, step := range []struct {
			remote, on bool
			want       bannerState
		}{
			{false, true, local},
			{false, false, bannerState{}},
			{true, true, remote},
			{true, false, bannerState{}},
		} {
			ui.Do(func() { c.SetReconnecting(step.remote, step.on) })
			assert.Equal(t, step.want, banner(), "remote=%t on=%t", step.remote, step.on)
		}
	})

	t.Run("a call ending while reconnecting takes it down", func(t *testing.T) {
		ui.Do(func() { c.Update(active.WithReconnecting(true)) })
		assert.Equal(t, local, banner())
		ui.Do(c.Reset)
		assert.Equal(t, bannerState{}, banner())
	})

	t.Run("a new call starts without it", func(t *testing.T) {
		ui.Do(func() {
			c.SetReconnecting(true, true)
			c.Begin("90000", callcore.CallTypeInbound)
		})
		assert.Equal(t, bannerState{}, banner())
	})
}

func TestRemoteReconnectingText(t *testing.T) {
	assert.Equal(t, "1002 is reconnecting…", RemoteReconnectingText("1002"))
	assert.Equal(t, "The other party is reconnecting…", RemoteReconnectingText(""))
}

func TestDialerShowsWhyTheCallEnded(t *testing.T) {
	ui := screentest.New(t)
	d := screentest.Get(ui, func() *Dialer { return NewDialer(nil, func() string { return "1001" }, nil) })
	for _, tc := range []struct {
		reason     callcore.EndReason
		text       string
		importance widget.Importance
	}{
		{callcore.EndReasonHangup, "Call ended. You hung up.", widget.MediumImportance},
		{callcore.EndReasonRemoteHangup, "Call ended. The other party hung up.", widget.MediumImportance},
		{callcore.EndReasonDeclined, "Call ended. The call was declined.", widget.MediumImportance},
		{callcore.EndReasonNoAnswer, "Call ended. No answer.", widget.MediumImportance},
		{callcore.EndReasonNetworkLost, "Call ended. Your connection was lost and could not be restored.", widget.WarningImportance},
		{callcore.EndReasonRemoteLost, "Call ended. The other party's connection was lost.", widget.WarningImportance},
		{callcore.EndReasonKeepaliveTimeout, "Call ended. The connection timed out.", widget.WarningImportance},
		{callcore.EndReasonServerShutdown, "Call ended. The call server shut down.", widget.WarningImportance},
		{callcore.EndReasonTrunkFailed, "Call ended. The telephone network could not complete the call.", widget.WarningImportance},
		{callcore.EndReasonFailed, "Call ended. The call failed.", widget.WarningImportance},
		{"something_new", "Call ended. The call ended.", widget.WarningImportance},
	} {
		t.Run(string(tc.reason), func(t *testing.T) {
			ui.Do(func() {
				d.ShowEnded(tc.reason)
				assert.Equal(t, tc.text, d.Message.Text)
				assert.Equal(t, tc.importance, d.Message.Importance)
			})
		})
	}

	// A new number replaces it; the next message is in the ordinary colour.
	ui.Do(func() {
		d.ShowEnded(callcore.EndReasonNetworkLost)
		test.Type(d.Number, "9")
		assert.Empty(t, d.Message.Text)

		d.ShowEnded(callcore.EndReasonNetworkLost)
		d.Kind.SetSelected("App user")
		d.Number.SetText("1001")
		test.Tap(d.Call) // refused before the SDK (nil here) is asked
		assert.Equal(t, "That is your own number. Enter a colleague's registered number.", d.Message.Text)
		assert.Equal(t, widget.MediumImportance, d.Message.Importance)
	})
}

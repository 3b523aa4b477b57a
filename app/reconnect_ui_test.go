package app

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/screens"
	"github.com/onecxi/phone/screens/screentest"
)

// inCallView is what the window shows of a call's connection.
type inCallView struct {
	Banner        bool
	BannerText    string
	Status        string
	StatusWarning bool
}

func readInCallView(u *UI) inCallView {
	return inCallView{
		Banner: u.InCall.Reconnecting.Visible(), BannerText: u.InCall.Reconnecting.Text(),
		Status: u.Status.Text, StatusWarning: u.Status.Importance == widget.WarningImportance,
	}
}

// beginFakeCall feeds the UI, from another goroutine as the SDK's
// dispatcher does, the events of an answered app call with otherNum.
func beginFakeCall(t *testing.T, ph *phone) callcore.CallStatus {
	t.Helper()
	u := ph.p.UI
	active := callcore.CallStatus{IsCallOngoing: true, CallType: callcore.CallTypeAppToApp, CurrentDID: otherNum,
		RegisteredNumber: ownNum}.WithState(callcore.CallStateActive)
	u.OnWebSocketStatusChanged(true)
	u.OnCallStatusChanged(active)
	u.OnCallStarted(callcore.CallTypeAppToApp, otherNum, ownNum)
	ph.waitAnswered(t)
	return active
}

// The "Reconnecting…" banner follows the SDK's events: this phone's own
// connection lost and restored, then the far party's; the call timer runs
// on throughout.
func TestReconnectingBannerDuringACall(t *testing.T) {
	ph := newSignedInPhone(t, "none")
	u := ph.p.UI
	clk := &fakeClock{now: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
	ph.ui.Do(func() { u.InCall.SetClock(clk.Now) })
	active := beginFakeCall(t, ph)
	connected := inCallView{Status: "● Online as " + ownNum + " · call connected"}
	ph.waitFor(t, "the call connected", func(u *UI) bool { return readInCallView(u) == connected })

	steps := []struct {
		name   string
		events func()
		want   inCallView
	}{
		{"this phone's connection lost", func() {
			u.OnWebSocketStatusChanged(false)
			u.OnCallReconnecting(false)
			u.OnCallStatusChanged(active.WithReconnecting(true))
		}, inCallView{true, screens.ReconnectingText, callReconnectingStatus, true}},
		{"the call resumed", func() {
			u.OnWebSocketStatusChanged(true)
			u.OnCallReconnected(false)
			u.OnCallStatusChanged(active)
		}, connected},
		{"the far party's connection lost", func() {
			u.OnCallReconnecting(true)
			u.OnCallStatusChanged(active.WithRemoteReconnecting(true))
		}, inCallView{true, otherNum + " is reconnecting…", connected.Status, false}},
		{"the far party back", func() {
			u.OnCallReconnected(true)
			u.OnCallStatusChanged(active)
		}, connected},
		{"the status alone (no ReconnectCallback)", func() {
			u.OnCallStatusChanged(active.WithReconnecting(true))
		}, inCallView{true, screens.ReconnectingText, callReconnectingStatus, true}},
		{"and back", func() { u.OnCallStatusChanged(active) }, connected},
		{"the callback alone (no status)", func() { u.OnCallReconnecting(false) },
			inCallView{true, screens.ReconnectingText, callReconnectingStatus, true}},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.events()
			ph.waitFor(t, st.name, func(u *UI) bool { return readInCallView(u) == st.want })
			// The call goes on: the timer counts through every step.
			clk.Add(time.Second)
			want := screens.FormatDuration(time.Duration(i+1) * time.Second)
			ph.waitFor(t, "the timer at "+want, func(u *UI) bool { return u.InCall.Timer.Text == want })
		})
	}

	// The call ends while reconnecting: the banner goes with it.
	u.OnCallStatusChanged(callcore.CallStatus{})
	u.OnCallEnded(callcore.CallTypeAppToApp, otherNum)
	ph.waitScreen(t, "dialer")
	ph.ui.Do(func() {
		assert.False(t, u.InCall.Reconnecting.Visible())
		assert.NotEqual(t, callReconnectingStatus, u.Status.Text)
	})
	u.OnCallReconnected(false) // late: the call is over
	ph.ui.Flush()
	assert.False(t, screentest.Get(ph.ui, func() bool { return u.InCall.Reconnecting.Visible() }))
}

// At the end of a call the dialer says why it ended, and its history entry
// keeps the reason: the SDK tells it just before onCallEnded, after the
// idle status has already ended the call on screen.
func TestEndReasonShownAtCallEnd(t *testing.T) {
	for _, tc := range []struct {
		reason  callcore.EndReason
		message string
		warning bool
		summary string
	}{
		{callcore.EndReasonHangup, "Call ended. You hung up.", false, "App call · outgoing · 00:07"},
		{callcore.EndReasonRemoteHangup, "Call ended. The other party hung up.", false, "App call · outgoing · 00:07"},
		{callcore.EndReasonNetworkLost, "Call ended. Your connection was lost and could not be restored.", true,
			"App call · outgoing · 00:07 · connection lost"},
		{callcore.EndReasonRemoteLost, "Call ended. The other party's connection was lost.", true,
			"App call · outgoing · 00:07 · their connection lost"},
		{callcore.EndReasonKeepaliveTimeout, "Call ended. The connection timed out.", true,
			"App call · outgoing · 00:07 · timed out"},
		{callcore.EndReasonServerShutdown, "Call ended. The call server shut down.", true,
			"App call · outgoing · 00:07 · server shut down"},
	} {
		t.Run(string(tc.reason), func(t *testing.T) {
			ph := newSignedInPhone(t, "none")
			u := ph.p.UI
			clk := &fakeClock{now: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
			ph.ui.Do(func() { u.calls.now = clk.Now })
			ph.dialFake(t)
			beginFakeCall(t, ph)
			clk.Add(7 * time.Second)

			u.OnWebSocketStatusChanged(false)
			u.OnCallStatusChanged(callcore.CallStatus{})
			u.OnCallEndReason(callcore.CallTypeAppToApp, tc.reason)
			u.OnCallEnded(callcore.CallTypeAppToApp, otherNum)
			ph.waitScreen(t, "dialer")
			ph.waitFor(t, "the end reason", func(u *UI) bool { return u.Dialer.Message.Text == tc.message })
			assert.Equal(t, tc.warning, screentest.Get(ph.ui, func() bool {
				return u.Dialer.Message.Importance == widget.WarningImportance
			}))

			ph.waitFor(t, "the call in the history", func(u *UI) bool { return len(u.History.Records()) == 1 })
			r := screentest.Get(ph.ui, func() screens.CallRecord { return u.History.Records()[0] })
			assert.Equal(t, tc.reason, r.EndReason)
			assert.Equal(t, screens.Answered, r.Outcome)
			assert.Equal(t, tc.summary, r.Summary())
			assert.Equal(t, []screens.CallRecord{r}, screentest.Get(ph.ui, func() []screens.CallRecord {
				return slices.Clone(u.deps.history.all())
			}), "replaced, not added twice")

			// The next call replaces the message.
			ph.ui.Do(func() { u.Dialer.Number.SetText("9") })
			assert.Empty(t, ph.text(func(u *UI) *widget.Label { return u.Dialer.Message }))
		})
	}
}

// dialFake has the dialer's call log track a call to otherNum as the
// dialer does when it places one, without placing it.
func (ph *phone) dialFake(t *testing.T) {
	t.Helper()
	ph.ui.Do(func() {
		ph.p.UI.calls.Dialing(otherNum, callcore.CallTypeAppToApp)
		ph.p.UI.calls.Dialed(nil)
	})
	require.False(t, ph.p.SDK.IsCallActive())
}

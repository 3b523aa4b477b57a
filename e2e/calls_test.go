package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/server"
)

// Tones each side sends; far enough apart that Goertzel tells them apart.
const (
	toneA     = 440.0
	toneB     = 1004.0
	trunkTone = 1004.0
)

func TestInboundEchoDIDReturnsYourOwnTone(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	a := e.newPhone(t, "1001", toneA)
	require.NoError(t, a.sdk.StartInBoundCall(ctx(t), "90000", "1001"))
	a.waitFor("started inbound 90000 1001")
	a.hears(toneA)
	st := a.sdk.GetCallStatus()
	assert.True(t, st.IsCallOngoing)
	assert.Equal(t, callcore.CallTypeInbound, st.CallType)
	assert.Equal(t, "90000", st.CurrentDID)

	require.NoError(t, a.sdk.EndCall(ctx(t)))
	a.waitFor("ended inbound 90000")
	assert.False(t, a.sdk.IsCallActive())
}

func TestIVRReceivesDTMFAndReadsItBack(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	a := e.newPhone(t, "1001", 0) // silent microphone: only the IVR speaks
	require.NoError(t, a.sdk.StartInBoundCall(ctx(t), "90050", "1001"))
	a.waitFor("started inbound 90050 1001")
	// The welcome prompt is speech.
	require.Eventually(t, func() bool { return dsp.Energy(a.dev.Last(window)) > 1e-4 }, waitAudio, 20*time.Millisecond)

	require.NoError(t, a.sdk.SendDTMF("5"))
	ev := e.serverEvent(t, func(ev server.Event) bool { return ev.Type == server.EventDTMF })
	assert.Equal(t, "5", ev.Digit, "the IVR received the digit")
	// The read-back: the digit's tone pair (770 + 1336 Hz), then speech.
	require.Eventually(t, func() bool {
		rec := a.dev.Last(150 * time.Millisecond)
		return dsp.ToneShare(rec, 770) > 0.3 && dsp.ToneShare(rec, 1336) > 0.3
	}, waitAudio, 10*time.Millisecond, "770+1336 Hz never played")
	assert.ErrorIs(t, a.sdk.SendDTMF("A"), callcore.ErrInvalidInput)
}

func TestOutboundThroughSimulatedTrunk(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	a := e.newPhone(t, "1001", toneA)
	require.NoError(t, a.sdk.StartOutBoundCall(ctx(t), "+14155550100", "1001"))
	a.waitFor("started outbound +14155550100 1001")
	a.hears(trunkTone)
	ev := e.serverEvent(t, func(ev server.Event) bool { return ev.Type == server.EventAnswered })
	require.Eventually(t, func() bool {
		rec := e.trunk.Received(ev.CallID)
		if len(rec) < 3200 {
			return false
		}
		return dsp.ToneShare(rec[len(rec)-3200:], toneA) > heard
	}, waitAudio, 20*time.Millisecond, "the far end never heard the caller's tone")

	require.NoError(t, a.sdk.SendDTMF("7"))
	require.Eventually(t, func() bool { return e.trunk.Digits(ev.CallID) == "7" }, waitEvent, 10*time.Millisecond)
	require.NoError(t, a.sdk.EndCall(ctx(t)))
	a.waitFor("ended outbound +14155550100")
}

func TestOutboundBusyNumberFails(t *testing.T) {
	t.Parallel()
	e := startServer(t, func(c *server.Config) { c.Trunk.Busy = []string{"5550000"} })
	a := e.newPhone(t, "1001", toneA)
	err := a.sdk.StartOutBoundCall(ctx(t), "5550000", "1001")
	if err == nil { // busy may be reported after ringing
		a.waitFor("error callFailed")
		a.waitFor("ended outbound 5550000")
		return
	}
	assert.ErrorIs(t, err, callcore.ErrCallFailed)
}

// appCall connects A (toneA) to B (toneB) with B answering through its
// events connection, and returns both.
func appCall(t *testing.T, e *env) (a, b *phone) {
	t.Helper()
	a = e.newPhone(t, "1001", toneA)
	b = e.newPhone(t, "1002", toneB, answering(platform.ActionAccept))
	require.NoError(t, b.sdk.ListenForIncomingCalls(ctx(t), "1002"))
	require.NoError(t, a.sdk.StartAppToAppInboundCall(ctx(t), "1002", "1001"))
	a.waitFor("started app_to_app 1002 1001")
	b.waitFor("started app_to_app 1001 1002")
	return a, b
}

func TestAppToAppBothSidesHearEachOther(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	a, b := appCall(t, e)
	a.hears(toneB)
	b.hears(toneA)
	// Neither hears themself: audio is routed by call, not echoed.
	assert.Less(t, dsp.ToneShare(a.dev.Last(window), toneA), notHeard)
	assert.Less(t, dsp.ToneShare(b.dev.Last(window), toneB), notHeard)
	require.Len(t, b.plat.ShownCalls(), 1)
	assert.Equal(t, "1001", b.plat.ShownCalls()[0].Handle)

	require.NoError(t, b.sdk.SendDTMF("#"))
	e.serverEvent(t, func(ev server.Event) bool { return ev.Type == server.EventDTMF && ev.Digit == "#" })
	a.waitFor("remote dtmf #")
}

func TestRemoteEndFiresOnCallEnded(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	a, b := appCall(t, e)
	require.NoError(t, b.sdk.EndCall(ctx(t)))
	a.waitFor("ended app_to_app 1002")
	b.waitFor("ended app_to_app 1001")
	assert.False(t, a.sdk.IsCallActive())
	require.NoError(t, a.sdk.FlushCallbacks(ctx(t)))
	assert.False(t, a.lastStatus().IsCallOngoing, "the last status says the call is over")
}

func TestDeclineFiresOnCallDeclined(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	a := e.newPhone(t, "1001", toneA)
	b := e.newPhone(t, "1002", toneB, answering(platform.ActionDecline))
	require.NoError(t, b.sdk.ListenForIncomingCalls(ctx(t), "1002"))
	require.NoError(t, a.sdk.StartAppToAppInboundCall(ctx(t), "1002", "1001"))
	a.waitFor("declined app_to_app 1002")
	a.waitFor("ended app_to_app 1002")
	assert.NotContains(t, a.snapshot(), "started app_to_app 1002 1001")
	assert.False(t, b.sdk.IsCallActive())
}

func TestHoldStopsAudioBothWaysAndPlaysMusicToTheHeldParty(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	a, b := appCall(t, e)
	a.hears(toneB)
	b.hears(toneA)

	require.NoError(t, a.sdk.HoldCall(ctx(t), true))
	assert.True(t, a.sdk.IsOnHold())
	require.NoError(t, a.sdk.FlushCallbacks(ctx(t)))
	assert.True(t, a.lastStatus().IsOnHold, "onCallStatusChanged reported the hold")
	a.doesNotHear(toneB)
	b.doesNotHear(toneA)
	// B, the held party, hears music: sound that is not A's tone.
	require.Eventually(t, func() bool { return dsp.Energy(b.dev.Last(window)) > 1e-4 }, waitAudio, 20*time.Millisecond)

	require.NoError(t, a.sdk.HoldCall(ctx(t), false))
	a.hears(toneB)
	b.hears(toneA)
}

func TestMuteSilencesOnlyTheMutedMicrophone(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	a, b := appCall(t, e)
	b.hears(toneA)

	require.NoError(t, a.sdk.MuteCall(ctx(t), true))
	require.NoError(t, a.sdk.FlushCallbacks(ctx(t)))
	assert.True(t, a.lastStatus().IsMuted)
	b.doesNotHear(toneA)
	a.hears(toneB) // A still hears B

	require.NoError(t, a.sdk.MuteCall(ctx(t), false))
	b.hears(toneA)
}

func TestCallerHangingUpWhileRingingDismissesTheCallee(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	a := e.newPhone(t, "1001", toneA)
	b := e.newPhone(t, "1002", toneB) // never answers
	require.NoError(t, b.sdk.ListenForIncomingCalls(ctx(t), "1002"))
	require.NoError(t, a.sdk.StartAppToAppInboundCall(ctx(t), "1002", "1001"))
	require.Eventually(t, func() bool { return len(b.plat.ShownCalls()) == 1 }, waitEvent, 10*time.Millisecond)
	id := b.plat.ShownCalls()[0].CallID
	require.NoError(t, a.sdk.EndCall(ctx(t)))
	require.Eventually(t, func() bool { return !b.plat.Showing(id) }, waitEvent, 10*time.Millisecond,
		"the callee's incoming-call UI was not dismissed")
}

func TestAppToAppFailures(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	a := e.newPhone(t, "1001", toneA)
	tests := []struct {
		name string
		to   string
		kind error
	}{
		{"offline user", "1999", callcore.ErrCallFailed},
		{"own number", "1001", callcore.ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := a.sdk.StartAppToAppInboundCall(ctx(t), tt.to, "1001")
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.kind)
			assert.False(t, a.sdk.IsCallActive())
		})
	}
}

func TestRegisteredNumberAlreadyInACallIsRefused(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	a := e.newPhone(t, "1001", toneA)
	twin := e.newPhone(t, "1001", toneB) // another device with the same number
	require.NoError(t, a.sdk.StartInBoundCall(ctx(t), "90000", "1001"))
	a.waitFor("started inbound 90000 1001")
	err := twin.sdk.StartInBoundCall(ctx(t), "90000", "1001")
	require.ErrorIs(t, err, callcore.ErrCallFailed)
	assert.Contains(t, err.Error(), "in a call")
}

func TestDIDRoutedToAnAppUserRingsAndConnects(t *testing.T) {
	t.Parallel()
	e := startServer(t, func(c *server.Config) { c.Accounts[0].DIDs["90100"] = "app:1002" })
	a := e.newPhone(t, "1001", toneA)
	b := e.newPhone(t, "1002", toneB, answering(platform.ActionAccept))
	require.NoError(t, b.sdk.ListenForIncomingCalls(ctx(t), "1002"))
	require.NoError(t, a.sdk.StartInBoundCall(ctx(t), "90100", "1001"))
	a.waitFor("started inbound 90100 1001")
	require.Eventually(t, func() bool { return b.sdk.GetCallStatus().State == callcore.CallStateActive }, waitEvent, 10*time.Millisecond)
	assert.Equal(t, callcore.CallTypeInbound, b.sdk.GetCallStatus().CallType, "the agent sees a customer (inbound) call")
	a.hears(toneB)
	b.hears(toneA)
	require.Len(t, b.plat.ShownCalls(), 1, "rang once, not again on answering")
}

package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/server"
)

// resumeCall is a call whose one party (lost) reaches the server through a
// proxy, set up for one call type.
type resumeCall struct {
	e      *env
	p      *proxy
	lost   *phone // its connection goes through p
	remote *phone // the far party when it is an app user, else nil
	callID string
	// flows asserts that audio passes both ways now: after the moment
	// since, counted in frames the lost phone received.
	flows func(t *testing.T)
}

// resumeCases set up one call of each type with the caller (or, for the
// answer, the callee) behind the proxy.
var resumeCases = []struct {
	name  string
	setup func(t *testing.T) *resumeCall
}{
	{"inbound", func(t *testing.T) *resumeCall {
		e := startServer(t)
		p := startProxy(t, e.url[len("http://"):])
		a := e.newPhoneVia(t, p, "1001", toneA)
		require.NoError(t, a.sdk.StartInBoundCall(ctx(t), "90000", "1001"))
		a.waitFor("started inbound 90000 1001")
		rc := &resumeCall{e: e, p: p, lost: a}
		// The echo DID: hearing your own tone is audio both ways.
		rc.flows = func(t *testing.T) { freshAudio(t, a); a.hears(toneA) }
		return rc
	}},
	{"outbound", func(t *testing.T) *resumeCall {
		e := startServer(t)
		p := startProxy(t, e.url[len("http://"):])
		a := e.newPhoneVia(t, p, "1001", toneA)
		require.NoError(t, a.sdk.StartOutBoundCall(ctx(t), "+14155550100", "1001"))
		a.waitFor("started outbound +14155550100 1001")
		ev := e.serverEvent(t, func(ev server.Event) bool { return ev.Type == server.EventAnswered })
		rc := &resumeCall{e: e, p: p, lost: a, callID: ev.CallID}
		rc.flows = func(t *testing.T) {
			freshAudio(t, a)
			a.hears(trunkTone)
			// The telephone side hears the caller again: new samples, and
			// the caller's tone in them.
			before := len(e.trunk.Received(ev.CallID))
			require.Eventually(t, func() bool {
				rec := e.trunk.Received(ev.CallID)
				return len(rec) >= before+3200 && dsp.ToneShare(rec[len(rec)-3200:], toneA) > heard
			}, waitAudio, 20*time.Millisecond, "the trunk never heard the caller again")
		}
		return rc
	}},
	{"app_to_app", func(t *testing.T) *resumeCall {
		p, a, b := proxiedAppCall(t)
		b.waitFor("started app_to_app 1001 1002")
		rc := &resumeCall{p: p, lost: a, remote: b}
		rc.flows = func(t *testing.T) {
			freshAudio(t, a)
			freshAudio(t, b)
			a.hears(toneB)
			b.hears(toneA)
		}
		return rc
	}},
	{"app_to_app_answer", func(t *testing.T) *resumeCall {
		e := startServer(t)
		p := startProxy(t, e.url[len("http://"):])
		a := e.newPhone(t, "1001", toneA)
		b := e.newPhoneVia(t, p, "1002", toneB, answering(platform.ActionAccept))
		require.NoError(t, b.sdk.ListenForIncomingCalls(ctx(t), "1002"))
		require.NoError(t, a.sdk.StartAppToAppInboundCall(ctx(t), "1002", "1001"))
		a.waitFor("started app_to_app 1002 1001")
		b.waitFor("started app_to_app 1001 1002")
		rc := &resumeCall{e: e, p: p, lost: b, remote: a}
		rc.flows = func(t *testing.T) {
			freshAudio(t, a)
			freshAudio(t, b)
			a.hears(toneB)
			b.hears(toneA)
		}
		return rc
	}},
}

// freshAudio waits until p has received more than a listening window's
// worth of frames from now on, so what it hears next arrived after this
// point (after a resume: on the new connection).
func freshAudio(t *testing.T, p *phone) {
	t.Helper()
	from := p.sdk.CallStats().FramesReceived
	need := uint64(window/(20*time.Millisecond)) + 5
	require.Eventually(t, func() bool { return p.sdk.CallStats().FramesReceived >= from+need }, waitAudio,
		10*time.Millisecond, "%s receives no audio (%d frames since)", p.number, p.sdk.CallStats().FramesReceived-from)
}

// count is how many times want was recorded.
func (p *phone) count(want string) int {
	n := 0
	for _, e := range p.snapshot() {
		if e == want {
			n++
		}
	}
	return n
}

// waitForCount waits until want has been recorded n times.
func (p *phone) waitForCount(want string, n int, wait time.Duration) {
	p.t.Helper()
	require.Eventually(p.t, func() bool { return p.count(want) >= n }, wait, 10*time.Millisecond,
		"%s never got %q %d times; got %v", p.number, want, n, p.snapshot())
}

// resumeGap cuts every connection through the proxy (a TCP reset, as a
// Wi-Fi to mobile handover looks) and returns how long the lost phone then
// went without receiving audio.
func resumeGap(t *testing.T, rc *resumeCall) time.Duration {
	t.Helper()
	a := rc.lost
	rc.flows(t)
	before := a.sdk.CallStats().FramesReceived
	cut := time.Now()
	rc.p.cut()
	var back time.Time
	require.Eventually(t, func() bool {
		if a.sdk.CallStats().FramesReceived > before {
			back = time.Now()
			return true
		}
		return false
	}, 10*time.Second, time.Millisecond, "no audio after the reset")
	return back.Sub(cut)
}

// TestResetResumesEveryCallType: a TCP reset mid-call is not the end of the
// call. The SDK reconnects and resumes it, audio flows both ways again
// within 2 s, and both sides are told; then stalls of 5 s and 15 s (past the
// SDK's media timeout: it reconnects) are survived the same way.
func TestResetAndStallsResumeEveryCallType(t *testing.T) {
	t.Parallel()
	for _, tc := range resumeCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rc := tc.setup(t)
			a := rc.lost

			gap := resumeGap(t, rc)
			assert.Less(t, gap, 2*time.Second, "audio gap after a reset")
			t.Logf("%s: audio back %v after the reset", tc.name, gap.Round(time.Millisecond))
			a.waitForCount("reconnecting local", 1, waitEvent)
			a.waitForCount("reconnected local", 1, waitEvent)
			rc.flows(t)
			if b := rc.remote; b != nil {
				// The far party hears of a reset only if the server noticed
				// it before the resume (a few ms on loopback); if it did,
				// it also hears it is over.
				require.Eventually(t, func() bool {
					return b.count("reconnecting remote") == b.count("reconnected remote")
				}, waitEvent, 10*time.Millisecond, "%v", b.snapshot())
			}

			for i, stall := range []time.Duration{5 * time.Second, 15 * time.Second} {
				var remoteBefore int
				if b := rc.remote; b != nil {
					remoteBefore = b.count("reconnected remote")
				}
				rc.p.stall(stall)
				a.waitForCount("reconnecting local", 2+i, waitEvent)
				a.waitForCount("reconnected local", 2+i, 2*waitEvent)
				rc.flows(t)
				if b := rc.remote; b != nil {
					b.waitForCount("reconnecting remote", remoteBefore+1, waitEvent)
					b.waitForCount("reconnected remote", remoteBefore+1, waitEvent)
					assert.False(t, b.lastStatus().IsRemoteReconnecting)
				}
			}
			assert.True(t, a.sdk.IsCallActive())
			assert.False(t, a.lastStatus().IsReconnecting)
			assert.Equal(t, 3, a.sdk.CallStats().Resumes)
			assert.NotContains(t, a.snapshot(), "ended", "nothing ended")

			// Then a hang-up is a hang-up.
			require.NoError(t, a.sdk.EndCall(ctx(t)))
			a.waitFor("reason hangup")
			if b := rc.remote; b != nil {
				b.waitFor("reason remote_hangup")
			}
		})
	}
}

// TestOutageEndsEveryCallTypeWithNetworkLost: a network that stays down
// past the server's resume grace (30 s) ends the call on both sides with
// network_lost — never "hangup" — and the server logs it so.
func TestOutageEndsEveryCallTypeWithNetworkLost(t *testing.T) {
	t.Parallel()
	for _, tc := range resumeCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rc := tc.setup(t)
			a := rc.lost
			rc.flows(t)
			start := time.Now()
			go rc.p.stall(40 * time.Second)
			a.waitForCount("reconnecting local", 1, waitEvent)
			if b := rc.remote; b != nil {
				b.waitForCount("reconnecting remote", 1, waitEvent)
			}
			a.waitForWithin("reason network_lost", 45*time.Second)
			a.waitFor(fmt.Sprintf("ended %s", endedOf(a)))
			took := time.Since(start)
			assert.Greater(t, took, 30*time.Second, "the call waited out the grace")
			if b := rc.remote; b != nil {
				b.waitFor("reason remote_network_lost")
				assert.NotContains(t, b.snapshot(), "reason remote_hangup")
			}
			assert.NotContains(t, a.snapshot(), "reconnected local")
			errs := a.errors()
			require.NotEmpty(t, errs)
			assert.ErrorIs(t, errs[len(errs)-1], callcore.ErrWebSocketConnectionFailed)
			if rc.e != nil {
				ev := rc.e.serverEvent(t, func(ev server.Event) bool { return ev.Type == server.EventEnded })
				assert.Equal(t, "network_lost", ev.Reason)
			}
		})
	}
}

// endedOf is the "ended <type> <number>" suffix of p's current call.
func endedOf(p *phone) string {
	for _, e := range p.snapshot() {
		var ct, did, reg string
		if n, _ := fmt.Sscanf(e, "started %s %s %s", &ct, &did, &reg); n == 3 {
			return ct + " " + did
		}
	}
	return "?"
}

// errors returns the errors onCallError reported.
func (p *phone) errors() []error {
	p.log.mu.Lock()
	defer p.log.mu.Unlock()
	return append([]error(nil), p.log.errs...)
}

// TestHangingUpWhileReconnecting: the user gives up on a call that is
// reconnecting. It ends at once on this side, and as soon as the network
// lets it through the far party is told it was a hang-up — not left to wait
// out the grace and then told the connection was lost.
func TestHangingUpWhileReconnecting(t *testing.T) {
	t.Parallel()
	p, a, b := proxiedAppCall(t)
	b.waitFor("started app_to_app 1001 1002")
	b.hears(toneA)

	stallEnds := time.Now().Add(6 * time.Second)
	go p.stall(6 * time.Second)
	a.waitForCount("reconnecting local", 1, waitEvent)
	require.True(t, a.lastStatus().IsReconnecting)
	require.NoError(t, a.sdk.EndCall(ctx(t)))
	a.waitFor("reason hangup")
	a.waitFor("ended app_to_app 1002")

	b.waitForWithin("reason remote_hangup", time.Until(stallEnds)+waitEvent)
	assert.Less(t, time.Since(stallEnds), 10*time.Second, "well within the 30 s grace")
	assert.NotContains(t, b.snapshot(), "reason remote_network_lost")
}

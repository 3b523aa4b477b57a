package sip_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/server"
)

// Call resumption on SIP trunk calls: when the app's connection to the
// server is reset mid-call, the SDK resumes the call on a new WebSocket and
// the trunk side simply waits. The SIP dialog is never touched (no BYE, no
// re-INVITE to baresip), and audio flows both ways again once the app is
// back.

// newPhoneVia is newPhone with the phone's connection to the server going
// through p.
func (e *gwEnv) newPhoneVia(t *testing.T, p *tcpProxy, freq float64, opts ...platform.HeadlessOption) *phone {
	t.Helper()
	direct := e.url
	e.url = p.url()
	defer func() { e.url = direct }()
	return e.newPhone(t, freq, opts...)
}

// side names whose connection a reconnect event is about.
func side(remote bool) string {
	if remote {
		return "remote"
	}
	return "local"
}

// count is how many SDK callbacks were exactly want.
func (p *phone) count(want string) int {
	n := 0
	for _, e := range p.snapshot() {
		if e == want {
			n++
		}
	}
	return n
}

// receivedSamples is how many samples baresip has decoded from us so far
// (its sndfile dump).
func (b *baresip) receivedSamples() int {
	files, _ := filepath.Glob(filepath.Join(b.dir, "dump-*-dec.wav"))
	if len(files) == 0 {
		return 0
	}
	return len(readWAV(files[len(files)-1]))
}

// flowsBothWays asserts that audio passes both ways now, on whatever
// connection the app has: the app receives new frames and hears baresip's
// tone in them, and baresip decodes new samples with the app's tone.
func flowsBothWays(t *testing.T, a *phone, b *baresip) {
	t.Helper()
	from := a.sdk.CallStats().FramesReceived
	need := uint64(window/(20*time.Millisecond)) + 5
	require.Eventually(t, func() bool { return a.sdk.CallStats().FramesReceived >= from+need }, waitAudio,
		10*time.Millisecond, "the app receives no audio (%d frames since)", a.sdk.CallStats().FramesReceived-from)
	a.hears(baresipTone)

	before := b.receivedSamples()
	n := int(window.Seconds() * 8000)
	require.Eventually(t, func() bool {
		return b.receivedSamples() >= before+n && dsp.ToneShare(b.received(window), appTone) > heard
	}, waitAudio, 50*time.Millisecond, "baresip never heard the app again (share %.2f)",
		dsp.ToneShare(b.received(window), appTone))
}

// sipBye matches a BYE request in baresip's SIP trace (-s), either way.
const sipBye = `(?m)^BYE sip:`

// cutAndResume resets the app's connection mid-call and asserts the call
// comes back whole: the app is told it reconnects and is reconnected, audio
// flows both ways again, the server held and resumed the call, and
// baresip's dialog was left alone.
func cutAndResume(t *testing.T, e *gwEnv, p *tcpProxy, a *phone, b *baresip) {
	t.Helper()
	flowsBothWays(t, a, b)
	invites := b.count(`(?m)^INVITE sip:`)
	require.Positive(t, invites, "baresip's SIP trace (-s) shows the INVITE")

	before := a.sdk.CallStats().FramesReceived
	cut := time.Now()
	p.cut()
	require.Eventually(t, func() bool { return a.sdk.CallStats().FramesReceived > before }, 10*time.Second,
		time.Millisecond, "no audio after the reset")
	t.Logf("audio back %v after the reset", time.Since(cut).Round(time.Millisecond))

	require.Eventually(t, func() bool { return a.count("reconnecting local") == 1 && a.count("reconnected local") == 1 },
		waitEvent, 10*time.Millisecond, "the app was not told it reconnected: %v", a.snapshot())
	flowsBothWays(t, a, b)
	assert.True(t, a.sdk.IsCallActive())
	assert.False(t, a.sdk.GetCallStatus().IsReconnecting)
	assert.Equal(t, 1, a.sdk.CallStats().Resumes)
	// The server held the call and spliced the new socket in: after seeing
	// the old one fail ("is back"), or before it noticed (a resume on
	// loopback can beat the old socket's read error: "resumed on a new
	// connection").
	logged := e.log.String()
	assert.True(t, strings.Contains(logged, "call party is back") || strings.Contains(logged, "call party resumed on a new connection"),
		"the server's log shows the resume")
	assert.Equal(t, 1, e.srv.Stats().ActiveCalls)

	// The trunk side simply waited: no BYE, no re-INVITE, no hang-up.
	assert.Zero(t, b.count(sipBye), "baresip got or sent a BYE")
	assert.Equal(t, invites, b.count(`(?m)^INVITE sip:`), "the dialog was re-INVITEd")
	assert.Zero(t, b.count(`terminated \(duration|session closed`), "baresip's call ended")
	for _, ev := range a.snapshot() {
		assert.NotRegexp(t, `^(ended|error|reason) `, ev)
	}
}

// hangUpSendsBye: the app hangs up after the resume, and it is an ordinary
// hang-up: baresip gets a BYE (on the dialog it has had all along) and its
// call ends.
func hangUpSendsBye(t *testing.T, a *phone, b *baresip, ended string) {
	t.Helper()
	require.NoError(t, a.sdk.EndCall(testCtx(t)))
	a.waitFor("reason hangup")
	a.waitFor(ended)
	b.waitLog(sipBye, waitEvent)
	b.waitLog(`terminated \(duration|session closed`, waitEvent)
}

func TestOutboundTrunkCallResumesAfterAReset(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber, trace: true})
	e := startGateway(t, trunkTo(b.sipPort, ""), nil)
	p := startProxy(t, e.url[len("http://"):])
	a := e.newPhoneVia(t, p, appTone)

	a.callBob()
	b.waitLog(`Call established`, waitEvent)
	cutAndResume(t, e, p, a, b)
	hangUpSendsBye(t, a, b, "ended outbound "+bobNumber)
}

func TestInboundTrunkCallToAnAppResumesAfterAReset(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber, trace: true})
	e := startGateway(t, trunkTo(b.sipPort, ""), map[string]string{"5001": server.RouteAppPrefix + "1002"})
	p := startProxy(t, e.url[len("http://"):])
	agent := e.newPhoneVia(t, p, appTone, platform.WithAutoAnswer(func(platform.IncomingCall) platform.Action { return platform.ActionAccept }))
	require.NoError(t, agent.sdk.ListenForIncomingCalls(testCtx(t), "1002"))

	b.command("dial", fmt.Sprintf("sip:5001@%s", e.gw.Addr()))
	agent.waitFor("started inbound")
	b.waitLog(`Call established`, waitEvent)
	cutAndResume(t, e, p, agent, b)
	hangUpSendsBye(t, agent, b, "ended inbound")
}

// A network that stays down past the server's resume grace ends the call
// as network_lost, and the trunk side is then hung up properly: baresip
// gets a BYE rather than a dialog left open with no media.
func TestTrunkCallLostPastTheGraceSendsBye(t *testing.T) {
	t.Parallel()
	const grace = 2 * time.Second
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber, trace: true})
	e := startGatewayWith(t, trunkTo(b.sipPort, ""), nil, func(c *server.Config) { c.ResumeGrace = grace })
	p := startProxy(t, e.url[len("http://"):])
	a := e.newPhoneVia(t, p, appTone)
	a.callBob()
	b.waitLog(`Call established`, waitEvent)
	flowsBothWays(t, a, b)

	p.down.Store(true)
	start := time.Now()
	p.cut()
	a.waitFor("reconnecting local")
	b.waitLog(sipBye, grace+waitEvent)
	// The SDK may give up a little before the grace is over (its next retry
	// would land past it); the server, which hangs up the trunk, does not.
	assert.GreaterOrEqual(t, time.Since(start), grace, "the trunk side waited out the grace")
	b.waitLog(`terminated \(duration|session closed`, waitEvent)
	a.waitFor("reason network_lost")
	a.waitFor("ended outbound " + bobNumber)
	assert.Zero(t, a.count("reconnected local"))
	require.Eventually(t, func() bool { return e.srv.Stats().ActiveCalls == 0 }, waitEvent, 20*time.Millisecond)
}

package sip_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
)

// CANCEL in both directions against baresip: a call given up while the
// other side still rings must stop the ringing there, with no call left
// behind in the server.

func TestAppHangingUpWhileBaresipRingsSendsCANCEL(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber, answerMode: "manual", trace: true})
	e := startGateway(t, trunkTo(b.sipPort, ""), nil)
	a := e.newPhone(t, appTone)
	require.NoError(t, a.sdk.StartOutBoundCall(testCtx(t), bobNumber, "1001"))
	b.waitLog(`Incoming call from`, waitEvent)

	require.NoError(t, a.sdk.EndCall(testCtx(t)))
	a.waitFor("ended outbound " + bobNumber)
	b.waitLog(`(?m)^CANCEL sip:`+bobNumber+`@`, waitEvent)
	// baresip answers the INVITE 487 and drops the ringing call.
	b.waitLog(`SIP/2\.0 487 `, waitEvent)
	assert.Zero(t, b.count(`Call established`), "the call was never answered")
	require.Eventually(t, func() bool { return e.srv.Stats().ActiveCalls == 0 }, waitEvent, 20*time.Millisecond)
}

func TestCallerHangingUpWhileTheAppRingsCancelsIt(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber, trace: true})
	e := startGateway(t, trunkTo(b.sipPort, ""), map[string]string{"5001": server.RouteAppPrefix + "1002"})
	agent := e.newPhone(t, appTone) // rings and is never answered
	require.NoError(t, agent.sdk.ListenForIncomingCalls(testCtx(t), "1002"))

	b.command("dial", fmt.Sprintf("sip:5001@%s", e.gw.Addr()))
	require.Eventually(t, func() bool { return len(agent.plat.ShownCalls()) == 1 }, waitEvent, 20*time.Millisecond,
		"the agent's app never rang")
	id := agent.plat.ShownCalls()[0].CallID
	b.waitLog(`SIP/2\.0 180 `, waitEvent) // the caller hears ringing meanwhile

	b.command("hangup", "")
	b.waitLog(`(?m)^CANCEL sip:5001@`, waitEvent)
	b.waitLog(`SIP/2\.0 487 `, waitEvent)
	require.Eventually(t, func() bool { return !agent.plat.Showing(id) }, waitEvent, 20*time.Millisecond,
		"the agent's incoming-call UI was not dismissed")
	require.Eventually(t, func() bool { return e.srv.Stats().ActiveCalls == 0 }, waitEvent, 20*time.Millisecond)
	assert.False(t, agent.sdk.IsCallActive())
}

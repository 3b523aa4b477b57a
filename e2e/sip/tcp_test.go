package sip_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
)

// baresip's SIP trace (-s) prints each message's transport and addresses as
// "TCP 127.0.0.1:a -> 127.0.0.1:b"; these tests look for it to prove the
// call did not quietly go over UDP.

func TestOutboundCallOverTCPToBaresip(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber, trace: true})
	e := startGateway(t, trunkTo(b.sipPort, `,"transport":"tcp"`), nil)
	a := e.newPhone(t, appTone)

	a.callBob()
	b.waitLog(`TCP 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+`, waitEvent)
	a.hears(baresipTone)
	baresipHears(t, b, appTone)

	require.NoError(t, a.sdk.EndCall(testCtx(t)))
	a.waitFor("ended outbound " + bobNumber)
	b.waitLog(`(?s)TCP .*BYE sip:`, waitEvent)
}

func TestInboundCallOverTCPFromBaresip(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber, trace: true})
	e := startGateway(t, trunkTo(b.sipPort, ""), map[string]string{"5000": server.RouteEcho})
	b.command("dial", fmt.Sprintf("sip:5000@%s;transport=tcp", e.gw.Addr()))
	b.waitLog(`Call established`, waitEvent)
	b.waitLog(`TCP 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+`, waitEvent)
	baresipHears(t, b, baresipTone)
	b.command("hangup", "")
	require.Eventually(t, func() bool { return e.srv.Stats().ActiveCalls == 0 }, waitEvent, 20*time.Millisecond)
}

package sip_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
)

func TestRTPTimeoutEndsTheCallWithBYE(t *testing.T) {
	t.Parallel()
	peer := startTrunkPeer(t, trunkOptions{silent: true})
	e := startGateway(t, `{"listen":"127.0.0.1:0","rtpPortMin":31000,"rtpPortMax":31999,"rtpTimeout":"1s",
		"answerTimeout":"6s","responseTimeout":"2s","trunks":[{"name":"silent","host":"127.0.0.1","port":`+
		strconv.Itoa(peer.port)+`}]}`, nil)
	a := e.newPhone(t, appTone)
	a.callBob()
	started := time.Now()

	require.Eventually(t, func() bool { _, _, byes := peer.counts(); return byes == 1 }, 4*time.Second, 10*time.Millisecond,
		"the gateway never sent BYE; log:\n%s", e.log.String())
	assert.GreaterOrEqual(t, time.Since(started), 800*time.Millisecond, "not before rtpTimeout")
	got := a.waitFor("error ")
	assert.Contains(t, got, "no audio from the far end")
	a.waitFor("ended outbound " + bobNumber)
}

func TestRTPTimeoutEndsAnInboundCallWithBYE(t *testing.T) {
	t.Parallel()
	peer := startTrunkPeer(t, trunkOptions{})
	e := startGateway(t, `{"listen":"127.0.0.1:0","rtpPortMin":31000,"rtpPortMax":31999,"rtpTimeout":"1s",
		"answerTimeout":"6s","responseTimeout":"2s","trunks":[{"name":"peer","host":"127.0.0.1","port":`+
		strconv.Itoa(peer.port)+`}]}`, map[string]string{"5000": server.RouteEcho})
	// The caller's media session is up but never sends a packet.
	_, _ = peer.call(t, e.gw.Addr(), "5000")
	started := time.Now()

	require.Eventually(t, func() bool { _, _, byes := peer.counts(); return byes == 1 }, 4*time.Second, 10*time.Millisecond,
		"the gateway never sent BYE; log:\n%s", e.log.String())
	assert.GreaterOrEqual(t, time.Since(started), 800*time.Millisecond, "not before rtpTimeout")
	require.Eventually(t, func() bool { return e.srv.Stats().ActiveCalls == 0 }, waitEvent, 10*time.Millisecond)
}

package sip_test

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/internal/natstest"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/natsbus"
	"github.com/onecxi/phone/server/servertest"
)

// joinCluster opens a cluster bus on natsURL for node id, closed when the
// test ends (after the server using it has shut down: register it first).
func joinCluster(t *testing.T, natsURL, id string, log *slog.Logger) *natsbus.Bus {
	t.Helper()
	bus, err := natsbus.Open(natsbus.Options{URLs: natsURL, Name: id, Interval: 100 * time.Millisecond, Log: log})
	require.NoError(t, err)
	t.Cleanup(func() { _ = bus.Close() })
	return bus
}

// An inbound call from baresip to a DID routed to an app user arrives on
// node n1's SIP gateway and rings the user's events connection on node n2
// (both servers on one NATS); the app answers on n2, bridged to the call's
// home n1; audio flows both ways (Goertzel) and the app hangs up: baresip
// gets its BYE.
func TestInboundCallFromBaresipRingsAnAppOnAnotherNode(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber})

	natsURL := natstest.Start(t)

	dids := map[string]string{"5001": server.RouteAppPrefix + "1002"}
	log2buf := &servertest.SyncBuffer{}
	log2 := slog.New(slog.NewTextHandler(log2buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	bus1 := joinCluster(t, natsURL, "n1", slog.New(slog.DiscardHandler))
	bus2 := joinCluster(t, natsURL, "n2", log2)

	// n1: the gateway's node, the call's home.
	e1 := startGatewayWith(t, trunkTo(b.sipPort, ""), dids, func(c *server.Config) { c.NodeID = "n1" }, server.WithCluster(bus1))

	// n2: the same account (and key), no trunk of its own to speak of.
	cfg2, _ := server.DemoConfig()
	cfg2.NodeID = "n2"
	cfg2.RingTimeout = 10 * time.Second
	cfg2.Accounts[0].APIKeyHashes = []string{server.HashKey(e1.key)}
	for k, v := range dids {
		cfg2.Accounts[0].DIDs[k] = v
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("n2 log:\n%s", log2buf.String())
		}
	})
	srv2, url2 := servertest.StartServer(t, cfg2, server.WithLogger(log2), server.WithCluster(bus2))
	require.Eventually(t, func() bool { return len(e1.srv.Nodes()) == 2 && len(srv2.Nodes()) == 2 }, waitEvent, 10*time.Millisecond,
		"each node sees both")
	e2 := &gwEnv{srv: srv2, url: url2, key: e1.key, log: log2buf}

	agent := e2.newPhone(t, appTone, platform.WithAutoAnswer(func(platform.IncomingCall) platform.Action { return platform.ActionAccept }))
	require.NoError(t, agent.sdk.ListenForIncomingCalls(testCtx(t), "1002"))
	require.Eventually(t, func() bool { return srv2.Stats().EventConns == 1 }, waitEvent, 10*time.Millisecond,
		"the app's events connection is on n2")
	assert.Zero(t, e1.srv.Stats().EventConns, "and none on n1")

	dialed := time.Now()
	b.command("dial", fmt.Sprintf("sip:5001@%s", e1.gw.Addr()))
	agent.waitFor("started inbound")
	b.waitLog(`Call established`, waitEvent)
	established := time.Since(dialed)
	assert.Equal(t, 1, e1.srv.Stats().ActiveCalls, "the call lives on n1, the gateway's node")
	assert.Zero(t, srv2.Stats().ActiveCalls, "n2 only bridges the app to it")
	agent.hears(baresipTone)
	baresipHears(t, b, appTone)
	t.Logf("measured: INVITE to n1 → call established with the app on n2 in %v; both tones heard %v after dialling",
		established.Round(time.Millisecond), time.Since(dialed).Round(time.Millisecond))
	assert.NotZero(t, e1.srv.Metrics().BridgeFramesSent, "n1 sent baresip's audio over the bridge")
	assert.NotZero(t, srv2.Metrics().BridgeFramesSent, "n2 sent the app's audio over the bridge")

	// The agent hangs up on n2: the home n1 ends the call and baresip gets
	// a BYE.
	require.NoError(t, agent.sdk.EndCall(testCtx(t)))
	agent.waitFor("ended inbound")
	b.waitLog(`session closed: Connection reset by peer|terminated \(duration`, waitEvent)
	require.Eventually(t, func() bool { return e1.srv.Stats().ActiveCalls == 0 }, waitEvent, 20*time.Millisecond)
}

package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/wire"
)

func TestMetricsListenConfig(t *testing.T) {
	cfg, _ := testConfig()
	cfg.MetricsListen = "127.0.0.1:9471"
	_, err := server.New(cfg, server.WithLogger(testLogger()))
	require.ErrorIs(t, err, server.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "metricsListen")
	assert.Contains(t, err.Error(), "WithMetrics")

	cfg.MetricsListen = "nope"
	err = cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "metricsListen")

	c, err := server.ParseConfig([]byte(`{"metricsListen": "127.0.0.1:9471",
		"accounts": [{"name": "acme", "apiKeyHashes": ["` + server.HashKey(server.GenerateKey()) + `"]}]}`))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:9471", c.MetricsListen)
}

// Handler's caller serves it, so from then on the server is ready; Drain
// and Shutdown turn /readyz 503 while /healthz stays 200.
func TestReadyzFollowsTheServersLife(t *testing.T) {
	cfg, _ := testConfig()
	srv, err := server.New(cfg, server.WithLogger(testLogger()))
	require.NoError(t, err)
	assert.False(t, srv.Ready(), "not serving yet")
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	status := func(path string) int {
		resp, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.True(t, srv.Ready())
	assert.Equal(t, http.StatusOK, status(wire.PathReady))
	assert.Equal(t, http.StatusNotFound, status(server.PathMetrics), "never on the call listener")
	require.NoError(t, srv.Drain(t.Context())) // no calls: returns at once, still draining
	assert.False(t, srv.Ready())
	assert.Equal(t, http.StatusServiceUnavailable, status(wire.PathReady))
	assert.Equal(t, http.StatusOK, status(wire.PathHealth))
	m := srv.Metrics()
	assert.True(t, m.Draining)
	assert.False(t, m.Ready)
	require.NoError(t, srv.Shutdown(t.Context()))
	assert.True(t, srv.Metrics().ShuttingDown)
}

// Metrics counts calls by type and state as they start and end.
func TestMetricsSnapshotCountsCalls(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a := h.call("A", "acme", inbound("90000", "1001"))
	a.expect(wire.TypeAnswered)
	m := h.srv.Metrics()
	in := m.Calls[0]
	require.Equal(t, server.CallTypeInbound, in.Type)
	assert.Equal(t, 1, in.Active)
	assert.Equal(t, uint64(1), in.Started)
	assert.True(t, m.Ready)
	assert.Equal(t, 1, m.CallSockets)

	a.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
	require.Eventually(t, func() bool {
		m = h.srv.Metrics()
		return m.Calls[0].Active == 0 && m.CallSockets == 0
	}, waitMsg, tick)
	hangup := -1
	for i, r := range server.EndReasons {
		if r == wire.ReasonHangup {
			hangup = i
		}
	}
	assert.Equal(t, uint64(1), m.Calls[0].Ended[hangup])
	var total uint64
	for _, ct := range m.Calls {
		for _, n := range ct.Ended {
			total += n
		}
	}
	assert.Equal(t, uint64(1), total)
}

package metrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/metrics"
	"github.com/onecxi/phone/server/push"
)

type fakeSource struct{ m server.Metrics }

func (f fakeSource) Metrics() server.Metrics { return f.m }

// The collector exports a snapshot as it is: every call type and end
// reason, push outcomes, sockets and the drain state.
func TestCollectorExportsTheSnapshot(t *testing.T) {
	var m server.Metrics
	for i := range m.Calls {
		m.Calls[i].Type = server.CallTypes[i]
	}
	m.Calls[0].Active, m.Calls[0].Started = 2, 7
	m.Calls[2].Ringing = 1
	m.Calls[0].Ended[0] = 3
	m.Calls[0].Ended[len(server.EndReasons)-1] = 4 // other
	m.FramesRelayed, m.FramesDropped, m.FramesMalformed = 1000, 10, 1
	m.Push = push.Stats{Sent: 5, Rejected: 1, Dead: 2, Dropped: 3, Retried: 4, Pruned: 2}
	m.CallSockets, m.EventConns = 3, 9
	m.Draining = true
	m.ClusterNodes = 3
	m.BridgeFramesSent, m.BridgeFramesReceived, m.BridgeFramesDropped = 50, 40, 2
	m.BridgeDelay = server.Histogram{Bounds: []float64{0.001, 0.01}, Counts: []uint64{30, 8, 2}, SumSeconds: 0.2}

	rec := httptest.NewRecorder()
	metrics.HandlerFor(fakeSource{m}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, server.PathMetrics, nil))
	require.Equal(t, http.StatusOK, rec.Code)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	require.NoError(t, err)
	body := rec.Body.String()
	for _, line := range []string{
		`onecxi_calls{state="active",type="inbound"} 2`,
		`onecxi_calls{state="ringing",type="app_to_app"} 1`,
		`onecxi_calls_started_total{type="inbound"} 7`,
		`onecxi_calls_ended_total{reason="hangup",type="inbound"} 3`,
		`onecxi_calls_ended_total{reason="other",type="inbound"} 4`,
		`onecxi_frames_relayed_total 1000`,
		`onecxi_frames_dropped_total 10`,
		`onecxi_frames_malformed_total 1`,
		`onecxi_push_sent_total 5`,
		`onecxi_push_failures_total{reason="rejected"} 1`,
		`onecxi_push_failures_total{reason="dead_token"} 2`,
		`onecxi_push_failures_total{reason="dropped"} 3`,
		`onecxi_push_retries_total 4`,
		`onecxi_push_tokens_pruned_total 2`,
		`onecxi_websocket_connections{endpoint="call"} 3`,
		`onecxi_websocket_connections{endpoint="events"} 9`,
		`onecxi_ready 0`,
		`onecxi_draining 1`,
		`onecxi_shutting_down 0`,
		`onecxi_cluster_nodes 3`,
		`onecxi_bridge_frames_total{direction="sent"} 50`,
		`onecxi_bridge_frames_total{direction="received"} 40`,
		`onecxi_bridge_frames_total{direction="dropped"} 2`,
		`onecxi_bridge_relay_delay_seconds_bucket{le="0.001"} 30`,
		`onecxi_bridge_relay_delay_seconds_bucket{le="0.01"} 38`,
		`onecxi_bridge_relay_delay_seconds_bucket{le="+Inf"} 40`,
		`onecxi_bridge_relay_delay_seconds_count 40`,
		`onecxi_bridge_relay_delay_seconds_sum 0.2`,
	} {
		assert.Contains(t, body, line+"\n")
	}
	assert.Len(t, fams["onecxi_calls"].GetMetric(), 2*len(server.CallTypes))
	assert.Len(t, fams["onecxi_calls_ended_total"].GetMetric(), len(server.CallTypes)*len(server.EndReasons))
}

// End reasons outside the fixed set are counted as "other".
func TestUnknownEndReasonsAreOther(t *testing.T) {
	assert.Equal(t, "hangup", server.EndReasonLabel("hangup"))
	assert.Equal(t, "busy", server.EndReasonLabel("busy"))
	assert.Equal(t, server.EndReasonOther, server.EndReasonLabel("self_call"))
	assert.Equal(t, server.EndReasonOther, server.EndReasonLabel("<script>"))
	assert.Equal(t, server.EndReasonOther, server.EndReasonLabel(""))
	assert.Equal(t, server.EndReasonOther, server.EndReasons[len(server.EndReasons)-1])
}

// The layering rule: the phone embeds package server, and neither links
// the Prometheus client nor NATS; onecxi-server does.
func TestPhoneAndServerCoreDoNotLinkPrometheusOrNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	deps := func(pkg string) string {
		cmd := exec.CommandContext(ctx, goBin, "list", "-deps", pkg)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	for _, pkg := range []string{".", "./server"} {
		d := deps(pkg)
		// (True, not NotContains: the failure message would be the whole list.)
		assert.False(t, strings.Contains(d, "prometheus"), "go list -deps %s | grep prometheus", pkg)
		assert.False(t, strings.Contains(d, "nats"), "go list -deps %s | grep nats", pkg)
	}
	cmd := deps("./cmd/onecxi-server")
	for _, want := range []string{"github.com/prometheus/client_golang/prometheus", "github.com/nats-io/nats.go", "github.com/nats-io/nats-server/v2/server"} {
		assert.True(t, strings.Contains(cmd, want+"\n"), "onecxi-server links %s", want)
	}
}

// The seam end to end, without the e2e suite: a real server on
// 127.0.0.1:0 with the handler wired, scraped on its operations listener
// before it serves calls (/readyz 503 there, /healthz 200).
func TestOperationsListenerBeforeServing(t *testing.T) {
	cfg, _ := server.DemoConfig()
	cfg.MetricsListen = "127.0.0.1:0"
	srv, err := server.New(cfg, server.WithMetrics(metrics.Handler))
	require.NoError(t, err)
	addr, err := srv.ListenMetrics(t.Context())
	require.NoError(t, err)
	base := "http://" + addr.String()
	status := func(path string) int {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, status("/healthz"))
	assert.Equal(t, http.StatusServiceUnavailable, status("/readyz"), "not serving calls yet")
	assert.Equal(t, http.StatusOK, status(server.PathMetrics))
	require.NoError(t, srv.Shutdown(t.Context()))
	_, err = http.Get(base + "/healthz")
	assert.Error(t, err, "Shutdown closes the operations listener")
}

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/metrics"
	"github.com/onecxi/phone/wire"
)

// scrape is one GET /metrics, parsed.
type scrape map[string]*dto.MetricFamily

func scrapeMetrics(t *testing.T, base string) scrape {
	t.Helper()
	resp, err := http.Get(base + server.PathMetrics)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// value is the value of name's series with exactly these labels (name=value
// pairs); it fails the test if there is none.
func (s scrape) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	v, ok := s.lookup(name, labels...)
	require.True(t, ok, "no series %s%v", name, labels)
	return v
}

func (s scrape) lookup(name string, labels ...string) (float64, bool) {
	f := s[name]
	if f == nil {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// labelValues are the values label takes over name's series.
func (s scrape) labelValues(name, label string) []string {
	var vals []string
	for _, m := range s[name].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label && !slices.Contains(vals, lp.GetValue()) {
				vals = append(vals, lp.GetValue())
			}
		}
	}
	slices.Sort(vals)
	return vals
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// startMetricsServer is startServer with the Prometheus metrics wired as
// onecxi-server wires them, on a second listener; it returns the env and the
// operations listener's base URL.
func startMetricsServer(t *testing.T) (*env, string) {
	t.Helper()
	e := startServerWith(t, []server.Option{server.WithMetrics(metrics.Handler)},
		func(c *server.Config) { c.MetricsListen = "127.0.0.1:0" })
	addr, err := e.srv.ListenMetrics(context.Background())
	require.NoError(t, err)
	return e, "http://" + addr.String()
}

// An echo call and an app-to-app call, then a scrape: the counters say what
// happened, with bounded labels and nothing per account.
func TestMetricsCountCallsAndFrames(t *testing.T) {
	t.Parallel()
	e, ops := startMetricsServer(t)

	assert.Equal(t, http.StatusOK, get(t, ops+wire.PathReady))
	assert.Equal(t, http.StatusOK, get(t, ops+wire.PathHealth))
	assert.Equal(t, http.StatusNotFound, get(t, e.url+server.PathMetrics), "no metrics on the call listener")
	before := scrapeMetrics(t, ops)
	assert.Zero(t, before.value(t, "onecxi_calls_started_total", "type", "inbound"))
	assert.Equal(t, 1.0, before.value(t, "onecxi_ready"))
	assert.Zero(t, before.value(t, "onecxi_draining"))

	// An echo call, hung up by the caller.
	a := e.newPhone(t, "1001", toneA)
	require.NoError(t, a.sdk.StartInBoundCall(ctx(t), "90000", "1001"))
	a.hears(toneA)
	during := scrapeMetrics(t, ops)
	assert.Equal(t, 1.0, during.value(t, "onecxi_calls", "type", "inbound", "state", "active"))
	assert.Equal(t, 1.0, during.value(t, "onecxi_websocket_connections", "endpoint", "call"))
	require.NoError(t, a.sdk.EndCall(ctx(t)))
	a.waitFor("ended inbound 90000")

	// An app-to-app call, hung up by the callee.
	a2, b := appCall(t, e)
	a2.hears(toneB)
	b.hears(toneA)
	during = scrapeMetrics(t, ops)
	assert.Equal(t, 1.0, during.value(t, "onecxi_calls", "type", "app_to_app", "state", "active"))
	assert.Equal(t, 2.0, during.value(t, "onecxi_websocket_connections", "endpoint", "call"))
	assert.GreaterOrEqual(t, during.value(t, "onecxi_websocket_connections", "endpoint", "events"), 1.0)
	require.NoError(t, b.sdk.EndCall(ctx(t)))
	a2.waitFor("ended app_to_app 1002")
	b.waitFor("ended app_to_app 1001")

	var s scrape
	require.Eventually(t, func() bool {
		s = scrapeMetrics(t, ops)
		v, _ := s.lookup("onecxi_calls_ended_total", "type", "app_to_app", "reason", wire.ReasonHangup)
		w, _ := s.lookup("onecxi_websocket_connections", "endpoint", "call")
		return v == 1 && w == 0
	}, waitEvent, 10*time.Millisecond, "the app call's end is counted and its sockets are gone")
	assert.Equal(t, 1.0, s.value(t, "onecxi_calls_started_total", "type", "inbound"))
	assert.Equal(t, 1.0, s.value(t, "onecxi_calls_started_total", "type", "app_to_app"))
	assert.Zero(t, s.value(t, "onecxi_calls_started_total", "type", "outbound"))
	assert.Equal(t, 1.0, s.value(t, "onecxi_calls_ended_total", "type", "inbound", "reason", wire.ReasonHangup))
	for _, typ := range server.CallTypes {
		for _, state := range []string{"ringing", "active"} {
			assert.Zero(t, s.value(t, "onecxi_calls", "type", typ, "state", state), "%s %s", typ, state)
		}
	}
	// Both calls carried audio (each side was heard).
	st := e.srv.Stats()
	relayed := s.value(t, "onecxi_frames_relayed_total")
	assert.Greater(t, relayed, 0.0)
	assert.LessOrEqual(t, relayed, float64(st.FramesRelayed), "read from the server's counter")
	_ = s.value(t, "onecxi_frames_dropped_total")
	_ = s.value(t, "onecxi_push_sent_total")
	assert.Zero(t, s.value(t, "onecxi_push_failures_total", "reason", metrics.PushDropped))
	_ = s.value(t, "go_goroutines")

	// Bounded labels: fixed sets, nothing naming an account or a number.
	assert.Equal(t, sorted(server.CallTypes[:]), s.labelValues("onecxi_calls_ended_total", "type"))
	assert.Equal(t, sorted(server.EndReasons[:]), s.labelValues("onecxi_calls_ended_total", "reason"))
	assert.Len(t, s["onecxi_calls_ended_total"].GetMetric(), len(server.CallTypes)*len(server.EndReasons))
	for name, f := range s {
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				assert.NotContains(t, []string{"account", "number", "callId", "device"}, lp.GetName(), name)
				assert.NotContains(t, []string{"demo", "1001", "1002", "90000"}, lp.GetValue(), name)
			}
		}
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// A drain: /readyz turns 503 on both listeners while /healthz stays 200, and
// the metrics say so.
func TestReadyzTurns503DuringADrainAndHealthzStays200(t *testing.T) {
	t.Parallel()
	e, ops := startMetricsServer(t)
	a := e.newPhone(t, "1001", toneA)
	require.NoError(t, a.sdk.StartInBoundCall(ctx(t), "90000", "1001"))
	a.hears(toneA)
	for _, base := range []string{e.url, ops} {
		assert.Equal(t, http.StatusOK, get(t, base+wire.PathReady), base)
	}

	drained := make(chan error, 1)
	go func() { drained <- e.srv.Drain(context.Background()) }()
	require.Eventually(t, e.srv.Draining, waitEvent, 10*time.Millisecond)
	for _, base := range []string{e.url, ops} {
		assert.Equal(t, http.StatusServiceUnavailable, get(t, base+wire.PathReady), base)
		assert.Equal(t, http.StatusOK, get(t, base+wire.PathHealth), base)
	}
	s := scrapeMetrics(t, ops)
	assert.Equal(t, 1.0, s.value(t, "onecxi_draining"))
	assert.Zero(t, s.value(t, "onecxi_ready"))
	assert.Equal(t, 1.0, s.value(t, "onecxi_calls", "type", "inbound", "state", "active"), "the call goes on")

	require.NoError(t, a.sdk.EndCall(ctx(t)))
	select {
	case err := <-drained:
		require.NoError(t, err)
	case <-time.After(waitEvent):
		t.Fatal("the drain did not end with the call")
	}
	assert.Equal(t, http.StatusOK, get(t, ops+wire.PathHealth))
	assert.Equal(t, 1.0, scrapeMetrics(t, ops).value(t, "onecxi_calls_ended_total", "type", "inbound", "reason", wire.ReasonHangup))
}

// Package metrics exports the reference server's counters to Prometheus
// (github.com/prometheus/client_golang) for cmd/onecxi-server. It lives
// outside package server so that the phone, which embeds the server core,
// links no metrics library: package server only offers the seam
// (server.WithMetrics, Server.Metrics, Config.MetricsListen).
//
// Every value is read from the server's own atomic counters when scraped
// (Server.Metrics): a scrape adds no work and no lock to the calls, and the
// per-frame relay path is not touched at all.
//
// Labels come from fixed sets (call types, states, end reasons with unknown
// ones counted as "other", push outcomes, WebSocket endpoints), never from
// accounts, numbers or call IDs: the series are bounded and say nothing
// about a tenant. The operations listener is still best kept private
// (Config.MetricsListen: loopback or an internal network), because call
// volumes are business data.
//
// Metrics (all prefixed onecxi_):
//
//	calls{type,state}                  gauge    calls ringing or active now
//	calls_started_total{type}          counter  calls created
//	calls_ended_total{type,reason}     counter  calls ended, by end reason
//	frames_relayed_total               counter  client audio frames passed on
//	frames_dropped_total               counter  frames not passed on (muted, held, not answered, receiver's queue full)
//	frames_malformed_total             counter  binary messages that were not audio frames
//	push_sent_total                    counter  pushes the provider accepted
//	push_failures_total{reason}        counter  rejected, dead_token, dropped (queue full)
//	push_retries_total                 counter  retries scheduled after 429/5xx
//	push_tokens_pruned_total           counter  device records forgotten for dead tokens
//	websocket_connections{endpoint}    gauge    live /v1/call ("call") and /v1/events ("events") connections
//	ready                              gauge    1 while /readyz says 200
//	draining                           gauge    1 once a drain has begun
//	shutting_down                      gauge    1 once shutdown has begun
//	cluster_nodes                      gauge    live cluster nodes this node sees, itself included (0: no cluster)
//
// and the Go runtime's and the process's standard metrics (go_*, process_*).
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/onecxi/phone/server"
)

const ns = "onecxi"

// Push failure reasons, the values of push_failures_total's reason label.
const (
	PushRejected  = "rejected"
	PushDeadToken = "dead_token"
	PushDropped   = "dropped"
)

// Source is what the collector reads: *server.Server.
type Source interface {
	Metrics() server.Metrics
}

// Collector is a prometheus.Collector of a server's metrics.
type Collector struct {
	src Source

	calls, started, ended         *prometheus.Desc
	relayed, dropped, malformed   *prometheus.Desc
	pushSent, pushFailed          *prometheus.Desc
	pushRetries, pushPruned       *prometheus.Desc
	sockets                       *prometheus.Desc
	ready, draining, shuttingDown *prometheus.Desc
	clusterNodes                  *prometheus.Desc
	bridgeFrames, bridgeDelay     *prometheus.Desc
}

// NewCollector returns a collector reading src at every scrape.
func NewCollector(src Source) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(ns, "", name), help, labels, nil)
	}
	return &Collector{
		src:          src,
		calls:        d("calls", "Calls now, by type and state (ringing, active).", "type", "state"),
		started:      d("calls_started_total", "Calls created, by type.", "type"),
		ended:        d("calls_ended_total", "Calls ended, by type and end reason (unknown reasons: other).", "type", "reason"),
		relayed:      d("frames_relayed_total", "Client audio frames handed to the other party or a server endpoint."),
		dropped:      d("frames_dropped_total", "Client audio frames not passed on: muted, held, not yet answered, or the receiver's queue full."),
		malformed:    d("frames_malformed_total", "Binary messages from clients that were not valid audio frames."),
		pushSent:     d("push_sent_total", "Pushes the provider (APNs, FCM) accepted."),
		pushFailed:   d("push_failures_total", "Pushes not delivered, by reason: rejected (also after the last retry), dead_token, dropped (queue full).", "reason"),
		pushRetries:  d("push_retries_total", "Push retries scheduled after the provider deferred (429, 5xx)."),
		pushPruned:   d("push_tokens_pruned_total", "Device records forgotten because the provider reported their token dead."),
		sockets:      d("websocket_connections", "Live WebSocket connections, by endpoint: call (/v1/call), events (/v1/events).", "endpoint"),
		ready:        d("ready", "1 while the server takes new calls (/readyz 200), else 0."),
		draining:     d("draining", "1 once the server has begun draining, else 0."),
		shuttingDown: d("shutting_down", "1 once the server has begun shutting down, else 0."),
		clusterNodes: d("cluster_nodes", "Live cluster nodes this node sees, itself included; 0 without a cluster."),
		bridgeFrames: d("bridge_frames_total", "Audio frames of calls across nodes, by direction: sent to other nodes, received from them, dropped on the way.", "direction"),
		bridgeDelay:  d("bridge_relay_delay_seconds", "How long audio frames took from another node to this one (by the two hosts' clocks)."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.calls, c.started, c.ended, c.relayed, c.dropped, c.malformed,
		c.pushSent, c.pushFailed, c.pushRetries, c.pushPruned, c.sockets, c.ready, c.draining, c.shuttingDown, c.clusterNodes,
		c.bridgeFrames, c.bridgeDelay} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one snapshot per scrape.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	m := c.src.Metrics()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	flag := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	for _, ct := range m.Calls {
		gauge(c.calls, float64(ct.Ringing), ct.Type, "ringing")
		gauge(c.calls, float64(ct.Active), ct.Type, "active")
		counter(c.started, ct.Started, ct.Type)
		for i, n := range ct.Ended {
			counter(c.ended, n, ct.Type, server.EndReasons[i])
		}
	}
	counter(c.relayed, m.FramesRelayed)
	counter(c.dropped, m.FramesDropped)
	counter(c.malformed, m.FramesMalformed)
	counter(c.pushSent, m.Push.Sent)
	counter(c.pushFailed, m.Push.Rejected, PushRejected)
	counter(c.pushFailed, m.Push.Dead, PushDeadToken)
	counter(c.pushFailed, m.Push.Dropped, PushDropped)
	counter(c.pushRetries, m.Push.Retried)
	counter(c.pushPruned, m.Push.Pruned)
	gauge(c.sockets, float64(m.CallSockets), "call")
	gauge(c.sockets, float64(m.EventConns), "events")
	gauge(c.ready, flag(m.Ready))
	gauge(c.draining, flag(m.Draining))
	gauge(c.shuttingDown, flag(m.ShuttingDown))
	gauge(c.clusterNodes, float64(m.ClusterNodes))
	counter(c.bridgeFrames, m.BridgeFramesSent, "sent")
	counter(c.bridgeFrames, m.BridgeFramesReceived, "received")
	counter(c.bridgeFrames, m.BridgeFramesDropped, "dropped")
	h := m.BridgeDelay
	buckets := make(map[float64]uint64, len(h.Bounds))
	var n uint64
	for i, ub := range h.Bounds {
		n += h.Counts[i]
		buckets[ub] = n // Prometheus buckets are cumulative
	}
	if len(h.Counts) > len(h.Bounds) {
		n += h.Counts[len(h.Bounds)]
	}
	ch <- prometheus.MustNewConstHistogram(c.bridgeDelay, n, h.SumSeconds, buckets)
}

// Registry returns a registry with src's collector and the Go runtime and
// process collectors.
func Registry(src Source) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(src),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler serves s's metrics in the Prometheus text format: what
// server.WithMetrics wants (server.WithMetrics(metrics.Handler)).
func Handler(s *server.Server) http.Handler { return HandlerFor(s) }

// HandlerFor serves src's metrics (Registry) in the Prometheus text format.
func HandlerFor(src Source) http.Handler {
	return promhttp.HandlerFor(Registry(src), promhttp.HandlerOpts{})
}

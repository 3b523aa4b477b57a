package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/wire"
)

// PathMetrics is where the operations listener (ServeMetrics) serves the
// metrics. /healthz and /readyz (wire.PathHealth, wire.PathReady) are
// served on the call listener and on the operations listener.
const PathMetrics = "/metrics"

// Call types, the values of Metrics' CallTypeStats.Type: the protocol's call
// kinds, and a trunk caller's call to a DID (Server.Inbound).
const (
	CallTypeInbound      = "inbound"       // an app dialled a DID
	CallTypeOutbound     = "outbound"      // an app dialled a phone number (trunk)
	CallTypeAppToApp     = "app_to_app"    // an app called another app user
	CallTypeTrunkInbound = "trunk_inbound" // a trunk caller dialled a DID
)

// CallTypes lists every call type, in Metrics' order.
var CallTypes = [...]string{CallTypeInbound, CallTypeOutbound, CallTypeAppToApp, CallTypeTrunkInbound}

type callType uint8

const (
	typeInbound callType = iota
	typeOutbound
	typeAppToApp
	typeTrunkInbound
	numCallTypes
)

// EndReasonOther is the end reason Metrics counts a reason outside
// EndReasons as, so the set of label values stays fixed.
const EndReasonOther = "other"

// EndReasons lists the end reasons Metrics counts by name (Event.Reason of
// EventEnded): the protocol's end reasons, and the error codes a call can
// end with. Anything else counts as EndReasonOther, the last entry.
var EndReasons = [...]string{
	wire.ReasonHangup, wire.ReasonRemote, wire.ReasonDeclined, wire.ReasonNoAnswer,
	wire.ReasonCancelled, wire.ReasonShutdown, wire.ReasonNetworkLost, wire.ReasonKeepaliveTimeout,
	wire.ReasonTrunkFailed, string(wire.CodeBusy), string(wire.CodeUnreachable), wire.ReasonError,
	string(wire.CodeInternal), EndReasonOther,
}

const numEndReasons = len(EndReasons)

// EndReasonLabel is the label Metrics counts reason under: reason itself if
// it is one of EndReasons, else EndReasonOther.
func EndReasonLabel(reason string) string { return EndReasons[endReasonIndex(reason)] }

func endReasonIndex(reason string) int {
	for i, r := range EndReasons {
		if r == reason {
			return i
		}
	}
	return numEndReasons - 1
}

// callCounters count calls by type and state, for Metrics. The registry
// goroutine writes them as calls change state (never the relay path);
// Metrics reads them.
type callCounters struct {
	ringing, active [numCallTypes]atomic.Int64
	started         [numCallTypes]atomic.Uint64
	ended           [numCallTypes][numEndReasons]atomic.Uint64
}

// typeOf is the call type of a call placed by l with kind.
func typeOf(l *leg, kind wire.CallKind) callType {
	switch {
	case l.sock == nil:
		return typeTrunkInbound
	case kind == wire.KindOutbound:
		return typeOutbound
	case kind == wire.KindAppToApp:
		return typeAppToApp
	}
	return typeInbound
}

// setState moves c to state s, keeping the call counters.
func (r *registry) setState(c *call, s callState) {
	if c.state == s {
		return
	}
	cc := &r.stats.calls
	switch c.state {
	case stateRinging:
		cc.ringing[c.typ].Add(-1)
	case stateActive:
		cc.active[c.typ].Add(-1)
	}
	switch s {
	case stateRinging:
		cc.ringing[c.typ].Add(1)
	case stateActive:
		cc.active[c.typ].Add(1)
	}
	c.state = s
}

// Metrics is a read-only snapshot of what the server counts, for an
// operator's metrics (package server/metrics exports it to Prometheus).
// It holds no account, number or call ID: nothing in it identifies a
// tenant or a person.
type Metrics struct {
	Stats
	// CallSockets are the live /v1/call WebSocket connections (EventConns,
	// in Stats, the /v1/events ones).
	CallSockets int
	// Calls has one entry per CallTypes entry, in that order.
	Calls [len(CallTypes)]CallTypeStats
	// Ready is what /readyz says: serving and taking new calls.
	Ready bool
	// Draining: Drain has begun. ShuttingDown: Shutdown has begun.
	Draining, ShuttingDown bool
	// ClusterNodes is the live nodes this node sees, itself included
	// (WithCluster); 0 without a cluster.
	ClusterNodes int
	// Audio frames of calls across nodes (WithCluster): sent to other
	// nodes, received from them, and dropped on the way (the bus refused
	// one, or it arrived for a bridge that had just closed).
	BridgeFramesSent, BridgeFramesReceived, BridgeFramesDropped uint64
	// BridgeDelay is how long the frames received took from the other
	// node (by the two nodes' clocks, which must agree: NTP).
	BridgeDelay Histogram
}

// CallTypeStats count one type of call.
type CallTypeStats struct {
	Type            string
	Ringing, Active int    // calls in that state now
	Started         uint64 // calls created since the start
	// Ended counts ended calls by end reason: one entry per EndReasons
	// entry, in that order.
	Ended [len(EndReasons)]uint64
}

// Metrics returns a snapshot of the server's counters. It takes no lock and
// does not wait for the registry.
func (s *Server) Metrics() Metrics {
	m := Metrics{
		Stats:        s.Stats(),
		CallSockets:  int(s.stats.callSockets.Load()),
		Ready:        s.Ready(),
		Draining:     s.draining.Load(),
		ShuttingDown: s.shutting.Load(),
		ClusterNodes: len(s.Nodes()),

		BridgeFramesSent:     s.stats.bridgeSent.Load(),
		BridgeFramesReceived: s.stats.bridgeReceived.Load(),
		BridgeFramesDropped:  s.stats.bridgeDropped.Load(),
		BridgeDelay:          s.stats.bridgeDelay.snapshot(),
	}
	cc := &s.stats.calls
	for i := range m.Calls {
		ct := &m.Calls[i]
		ct.Type = CallTypes[i]
		ct.Ringing = int(cc.ringing[i].Load())
		ct.Active = int(cc.active[i].Load())
		ct.Started = cc.started[i].Load()
		for j := range ct.Ended {
			ct.Ended[j] = cc.ended[i][j].Load()
		}
	}
	return m
}

// Ready reports whether the server takes new calls: it is serving (Serve
// has begun, or Handler was taken for a caller's http.Server) and neither
// draining nor shutting down. It is what GET /readyz answers.
func (s *Server) Ready() bool {
	return s.serving.Load() && !s.draining.Load() && !s.shutting.Load()
}

// handleHealth is GET /healthz: liveness. The process answers, so 200,
// whether or not it takes new calls (that is /readyz): a liveness probe
// that failed during a drain would have the calls it lets finish killed.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReady is GET /readyz: readiness (Ready). 503 shutting_down while
// draining or shutting down, 503 unavailable before serving.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	switch {
	case s.shutting.Load():
		writeError(w, http.StatusServiceUnavailable, wire.CodeShuttingDown, "the server is shutting down")
	case s.draining.Load():
		writeError(w, http.StatusServiceUnavailable, wire.CodeShuttingDown, drainingMessage)
	case !s.serving.Load():
		writeError(w, http.StatusServiceUnavailable, wire.CodeShuttingDown, "the server is not serving yet")
	default:
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}
}

// WithMetrics sets what serves /metrics on the operations listener
// (Config.MetricsListen, ServeMetrics): handler is called once, by New,
// with the new server, whose Metrics it should read when scraped. Package
// server/metrics provides the Prometheus one; package server itself links
// no metrics library.
func WithMetrics(handler func(*Server) http.Handler) Option {
	return func(o *options) { o.metrics = handler }
}

// opsRoutes are the operations listener's endpoints.
func (s *Server) opsRoutes(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(wire.PathHealth, allow(http.MethodGet, s.handleHealth))
	mux.HandleFunc(wire.PathReady, allow(http.MethodGet, s.handleReady))
	if metrics != nil {
		mux.Handle(PathMetrics, metrics)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, wire.CodeNotFound, "no such endpoint")
	})
	return mux
}

// ServeMetrics serves the operations endpoints (/metrics as WithMetrics
// set it, /healthz, /readyz) on ln, plain HTTP, until Shutdown, which
// closes it after the call listener: the metrics stay readable while the
// server drains. It returns nil after Shutdown. Config.MetricsListen is the
// address onecxi-server listens on for it.
func (s *Server) ServeMetrics(ln net.Listener) error {
	if s.shutting.Load() {
		_ = ln.Close()
		return nil
	}
	s.log.Info("serving metrics", "url", "http://"+ln.Addr().String()+PathMetrics)
	err := s.opsHTTP.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serve metrics %s: %w", ln.Addr(), err)
}

// ListenMetrics listens on Config.MetricsListen and serves the operations
// endpoints there (ServeMetrics) on a goroutine, returning the address. With
// no MetricsListen it does nothing and returns nil.
func (s *Server) ListenMetrics(ctx context.Context) (net.Addr, error) {
	if s.cfg.MetricsListen == "" {
		return nil, nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("metrics listen: %w", err)
	}
	go func() {
		if err := s.ServeMetrics(ln); err != nil {
			s.log.Error("metrics listener", "err", err)
		}
	}()
	return ln.Addr(), nil
}

// newOpsHTTP is the operations listener's http.Server.
func (s *Server) newOpsHTTP(metrics http.Handler) *http.Server {
	return &http.Server{
		Handler:           s.opsRoutes(metrics),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    wire.MaxHeaderBytes,
	}
}

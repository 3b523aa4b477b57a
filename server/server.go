package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/onecxi/phone/server/accounts"
	"github.com/onecxi/phone/server/cdr"
	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/server/push"
	"github.com/onecxi/phone/server/trunk"
	"github.com/onecxi/phone/wire"
)

// Name is what the server calls itself in /v1/auth/check replies.
const Name = "onecxi-reference-server"

// ShutdownTimeout bounds the graceful shutdown Serve starts when its context
// ends.
const ShutdownTimeout = 10 * time.Second

// Server is a OneCxi call server. Create it with New, serve with Serve or
// ListenAndServe, let live calls finish with Drain, stop it with Shutdown
// (which also stops its goroutines).
type Server struct {
	cfg        Config
	log        *slog.Logger
	auth       *authenticator
	guard      *authGuard // failed-authentication back-off (authlimit.go)
	proxies    proxies    // Config.TrustedProxies
	devices    devices.Store
	records    *cdr.Writer  // nil: no call detail records
	push       *push.Pusher // nil: no push provider configured
	startLimit time.Duration
	tls        *tls.Config
	upgrader   websocket.Upgrader
	http       *http.Server
	handler    http.Handler
	opsHTTP    *http.Server // the operations listener (ServeMetrics)
	cluster    Cluster      // nil: a single node (WithCluster)
	bridge     *bridge      // calls across the cluster's nodes; nil: a single node
	reg        *registry
	goes       tracker
	stats      *counters

	// base is the context of every WebSocket; cancelling it closes them all
	// (the last resort of Shutdown).
	base       context.Context
	cancelBase context.CancelFunc
	stopReg    context.CancelFunc

	serving      atomic.Bool   // Serve has begun, or Handler was taken (Ready)
	draining     atomic.Bool   // Drain has begun: new work is refused (drain.go)
	stopping     chan struct{} // closed when Shutdown begins: a Drain returns
	shutting     atomic.Bool
	shutdownOnce sync.Once
	shutdownErr  error
}

// counters are the server's atomic counters, shared by the registry, the
// legs' relay path and Stats.
type counters struct {
	activeCalls, eventConns      atomic.Int64
	callLegs                     atomic.Int64 // live /v1/call connections
	framesRelayed, framesDropped atomic.Uint64
	framesMalformed              atomic.Uint64
	callSockets                  atomic.Int64 // live /v1/call WebSockets
	calls                        callCounters // by type and state (ops.go)
	// Audio frames sent to and received from other nodes, and dropped on
	// the way (bridge.go), and how long they took.
	bridgeSent, bridgeReceived, bridgeDropped atomic.Uint64
	bridgeDelay                               delayHist
}

// New validates cfg and returns a server ready to serve. Its registry
// goroutine runs until Shutdown.
//
// New opens nothing outside the process: what a configuration names beyond
// the core is passed in as options — the device store (WithDeviceStore),
// push transports (WithPush) and a SIP trunk (WithTrunk). Package
// server/providers opens the store and transports a configuration names;
// without them a server keeps registrations in memory and rings events
// connections only.
func New(cfg Config, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.check(cfg); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	store := o.accounts
	if store == nil {
		store = accounts.NewMemory()
	}
	seedCtx, cancelSeed := context.WithTimeout(context.Background(), 30*time.Second)
	err := SeedAccounts(seedCtx, store, cfg, o.log)
	cancelSeed()
	if err != nil {
		return nil, err
	}
	auth := newAuthenticator(store, o.log)
	trusted, err := parseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("%w: trustedProxies: %w", ErrInvalidConfig, err)
	}
	s := &Server{
		cfg:        cfg,
		log:        o.log,
		auth:       auth,
		guard:      newAuthGuard(cfg.Limits, o.authClock),
		proxies:    trusted,
		devices:    o.devices,
		startLimit: o.startTimeout,
		stats:      &counters{},
		stopping:   make(chan struct{}),
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", wire.QuotePath(cfg.TLSCert), wire.QuotePath(cfg.TLSKey), wire.QuoteError(err))
		}
		s.tls = &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			// WebSocket upgrades need HTTP/1.1.
			NextProtos: []string{"http/1.1"},
		}
	}
	tr := o.trunk
	if tr == nil && cfg.Trunk.Type == TrunkSimulated {
		st, err := trunk.NewSimulated(cfg.Trunk.Simulated(), s.log)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		tr = st
	}
	if s.devices == nil {
		s.log.Info("device registry in memory: registrations are lost at restart (set deviceDb to keep them)")
		s.devices = devices.NewMemory()
	}
	s.push = push.New(s.log, s.devices, o.push...)
	var records callRecorder
	if o.calls != nil {
		s.records = cdr.NewWriter(o.calls, s.log, 0)
		records = s.records
	}
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   2048,
		WriteBufferSize:  2048,
		// Write buffers are only needed during a write; pooling them keeps a
		// thousand idle-between-frames connections from holding one each.
		WriteBufferPool: &sync.Pool{},
		Subprotocols:    []string{wire.Subprotocol},
		CheckOrigin:     checkOrigin,
		Error:           upgradeError,
	}
	s.base, s.cancelBase = context.WithCancel(context.Background())
	var peers peerNotifier
	if o.cluster != nil {
		s.bridge = newBridge(s, o.cluster)
		peers = s.bridge
	}
	var regCtx context.Context
	regCtx, s.stopReg = context.WithCancel(context.Background())
	s.reg = newRegistry(routing{
		log:         s.log,
		node:        cfg.NodeID,
		records:     records,
		ringTimeout: cfg.RingTimeout,
		maxCalls:    cfg.MaxCalls,
		limits:      cfg.Limits,
		resumeGrace: cfg.ResumeGrace,
		environment: cfg.Environment,
		trunk:       tr,
		push:        s.push,
		hook:        o.hook,
		spawn:       s.goes.goTracked,
		stats:       s.stats,
		pushTargets: s.pushTargetsFor,
		ringPeers:   s.ringPeersFor,
		peers:       peers,
	})
	go s.reg.run(regCtx)

	s.handler = s.drainGate(s.routes())
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    wire.MaxHeaderBytes,
		TLSConfig:         s.tls,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	var metrics http.Handler
	if o.metrics != nil {
		metrics = o.metrics(s)
	}
	s.opsHTTP = s.newOpsHTTP(metrics)
	s.opsHTTP.ErrorLog = s.http.ErrorLog
	if o.cluster != nil {
		self := NodeInfo{ID: cfg.NodeID, Version: BuildVersion()}
		if err := o.cluster.Join(self, s.nodeStatus, s.bridge); err != nil {
			s.stopReg()
			s.cancelBase()
			<-s.reg.done
			_ = s.push.Stop(context.Background())
			if s.records != nil {
				_ = s.records.Close(context.Background())
			}
			return nil, fmt.Errorf("join the cluster: %w", err)
		}
		s.cluster = o.cluster
		s.bridge.start()
	}
	return s, nil
}

// Handler returns the server's HTTP handler (all endpoints of PROTOCOL.md),
// for use with a caller-managed http.Server or httptest. The caller serves
// it, so from this call on the server counts as serving (Ready, /readyz).
func (s *Server) Handler() http.Handler {
	s.serving.Store(true)
	return s.handler
}

// Serve accepts connections on ln until Shutdown, or until ctx ends, which
// drains the server (Drain: live calls go on for up to the configured
// DrainTimeout, unless Shutdown is called meanwhile) and then shuts it down
// gracefully (bounded by ShutdownTimeout). With a TLS certificate configured
// it serves https and wss. It returns nil after a graceful shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// Beneath TLS, so call sockets get the relay's non-blocking fast path
	// (wire.Conn) with or without it.
	ln = wire.WrapListener(ln)
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
	}
	scheme := "http"
	if s.tls != nil {
		scheme = "https"
	}
	s.log.Info("serving", "url", scheme+"://"+ln.Addr().String(), "environment", s.cfg.Environment)
	errc := make(chan error, 1)
	s.serving.Store(true)
	go func() { errc <- s.http.Serve(ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
		_ = s.Drain(context.WithoutCancel(ctx)) // it logs how the drain ended
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
		defer cancel()
		err := s.Shutdown(sctx)
		<-errc
		return err
	}
}

// ListenAndServe listens on the configured address and serves (see Serve).
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Shutdown stops the server gracefully: it stops accepting connections,
// sends every live call end{reason:"shutdown"} and closes it with 1001,
// closes the events connections, and waits for every goroutine it started,
// bounded by ctx (after which remaining connections are closed at once).
// It does not wait for calls to finish (that is Drain's job), and called
// during a Drain it cuts the drain short. Later calls return the first
// call's result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		s.shutting.Store(true)
		close(s.stopping)
		s.log.Info("shutting down")
		var errs []error
		if s.cluster != nil {
			// Phones bridged here to calls elsewhere resume through
			// another node; calls living here end and their bridged
			// parties hear it; then the other nodes stop counting on this
			// one at once.
			s.bridge.moveEdges(true)
			_ = s.reg.do(s.reg.shutdown)
			if err := s.cluster.Leave(ctx); err != nil {
				errs = append(errs, fmt.Errorf("leave the cluster: %w", err))
			}
			s.bridge.close()
		}
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop http: %w", err))
		}
		_ = s.reg.do(s.reg.shutdown)
		s.goes.close()
		if err := s.goes.wait(ctx); err != nil {
			errs = append(errs, fmt.Errorf("wait for connections: %w", err))
		}
		s.cancelBase()
		s.stopReg()
		<-s.reg.done
		if err := s.push.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
		if s.records != nil {
			// The registry has stopped: every call's record is queued.
			if err := s.records.Close(ctx); err != nil {
				errs = append(errs, fmt.Errorf("write call detail records: %w", err))
			}
		}
		// Last, so a scrape can see the shutdown through.
		if err := s.opsHTTP.Shutdown(ctx); err != nil {
			_ = s.opsHTTP.Close()
			errs = append(errs, fmt.Errorf("stop metrics http: %w", err))
		}
		s.shutdownErr = errors.Join(errs...)
	})
	return s.shutdownErr
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		ActiveCalls:     int(s.stats.activeCalls.Load()),
		EventConns:      int(s.stats.eventConns.Load()),
		FramesRelayed:   s.stats.framesRelayed.Load(),
		FramesDropped:   s.stats.framesDropped.Load(),
		FramesMalformed: s.stats.framesMalformed.Load(),
		Push:            s.push.Stats(),
	}
}

// tracker counts goroutines and connections so Shutdown can wait for them.
// Unlike sync.WaitGroup it may be added to while being waited on, and
// refuses additions once closed.
type tracker struct {
	mu     sync.Mutex
	n      int
	closed bool
	zero   chan struct{} // closed when n drops to 0 after close
}

func (t *tracker) add() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.n++
	return true
}

func (t *tracker) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.n == 0 && t.zero != nil {
		close(t.zero)
		t.zero = nil
	}
}

// goTracked runs f on a goroutine Shutdown waits for; false (and f not
// run) once shutting down has got past the point of waiting.
func (t *tracker) goTracked(f func()) bool {
	if !t.add() {
		return false
	}
	go func() {
		defer t.done()
		f()
	}()
	return true
}

func (t *tracker) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
}

// wait waits for the count to reach zero, bounded by ctx.
func (t *tracker) wait(ctx context.Context) error {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return nil
	}
	if t.zero == nil {
		t.zero = make(chan struct{})
	}
	zero := t.zero
	t.mu.Unlock()
	select {
	case <-zero:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pushTargetsFor returns the devices a start message would ring by push:
// the callee's devices (app_to_app, or a DID routed to an app user) whose
// provider is configured. It reads the device store, so it runs on the
// leg's goroutine; a store failure rings the events connections only.
func (s *Server) pushTargetsFor(acct *account, m wire.Message) []devices.Device {
	callee := calleeOf(acct, m)
	if s.push == nil || callee == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(s.base, 2*time.Second)
	defer cancel()
	devs, err := s.devices.ByNumber(ctx, acct.name, callee)
	if err != nil {
		s.log.Error("device registry lookup failed; ringing online devices only", "account", acct.name, "err", err)
		return nil
	}
	return s.push.Targets(devs)
}

// calleeOf is the app user a start message rings: app_to_app's To, or the
// user a DID routes to; "" for anything else.
func calleeOf(acct *account, m wire.Message) string {
	if m.Type != wire.TypeStart {
		return ""
	}
	switch m.Kind {
	case wire.KindAppToApp:
		return m.To
	case wire.KindInbound:
		if rt, ok := acct.route(m.To); ok && rt.kind == routeApp {
			return rt.number
		}
	}
	return ""
}

// ErrNoPush is returned by TestPush when no push provider is configured.
var ErrNoPush = errors.New("no push provider is configured (push.apns or push.fcm)")

// TestPush sends a test call push to every push-capable device of number,
// synchronously, and reports each outcome; after ring it sends the matching
// "end" so the phones stop ringing (push.Pusher.Test). It is the support
// tool behind `onecxi-server test-push`.
func (s *Server) TestPush(ctx context.Context, account, number string, ring time.Duration) ([]push.Report, error) {
	if s.push == nil {
		return nil, ErrNoPush
	}
	if !wire.ValidNumber(number) {
		return nil, fmt.Errorf("%s is not a registered number", wire.Quote(number))
	}
	devs, err := s.devices.ByNumber(ctx, account, number)
	if err != nil {
		return nil, err
	}
	p := wire.PushPayload{CallFrom: "0", CallTo: number, CallType: wire.PushAppToApp, RegisteredNumber: number,
		CallerName: "OneCxi test push", CallID: "test_" + newCallID(), Environment: s.cfg.Environment,
		Timestamp: time.Now().UnixMilli(), Event: wire.EventInitial}
	return s.push.Test(ctx, devs, p, ring), nil
}

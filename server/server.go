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

	"github.com/onecxi/phone/wire"
)

// Name is what the server calls itself in /v1/auth/check replies.
const Name = "onecxi-reference-server"

// ShutdownTimeout bounds the graceful shutdown Serve starts when its context
// ends.
const ShutdownTimeout = 10 * time.Second

// Server is a OneCxi call server. Create it with New, serve with Serve or
// ListenAndServe, stop it with Shutdown (which also stops its goroutines).
type Server struct {
	cfg        Config
	log        *slog.Logger
	hook       func(Event)
	auth       *authenticator
	trunk      Trunk
	notifiers  []Notifier
	devices    DeviceStore
	ownDevices bool    // opened by New, so closed by Shutdown
	push       *pusher // nil: no push provider configured
	startLimit time.Duration
	tls        *tls.Config
	upgrader   websocket.Upgrader
	http       *http.Server
	handler    http.Handler
	reg        *registry
	goes       tracker

	// base is the context of every WebSocket; cancelling it closes them all
	// (the last resort of Shutdown).
	base       context.Context
	cancelBase context.CancelFunc
	stopReg    context.CancelFunc

	shutting     atomic.Bool
	shutdownOnce sync.Once
	shutdownErr  error

	activeCalls, eventConns      atomic.Int64
	callLegs                     atomic.Int64 // live /v1/call connections
	framesRelayed, framesDropped atomic.Uint64
}

// New validates cfg and returns a server ready to serve. Its registry
// goroutine runs until Shutdown.
func New(cfg Config, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	auth, err := newAuthenticator(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	s := &Server{
		cfg:        cfg,
		log:        o.log,
		hook:       o.hook,
		auth:       auth,
		trunk:      o.trunk,
		startLimit: o.startTimeout,
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", cfg.TLSCert, cfg.TLSKey, err)
		}
		s.tls = &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			// WebSocket upgrades need HTTP/1.1.
			NextProtos: []string{"http/1.1"},
		}
	}
	if s.trunk == nil && cfg.Trunk.Type == TrunkSIP {
		return nil, fmt.Errorf("%w: trunk.type %q: the SIP gateway (package sipgw) must be passed with WithTrunk", ErrInvalidConfig, TrunkSIP)
	}
	if s.trunk == nil && cfg.Trunk.Type == TrunkSimulated {
		st, err := NewSimulatedTrunk(cfg.Trunk, s.log)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		s.trunk = st
	}
	switch {
	case o.devices != nil:
		s.devices = o.devices
	case cfg.DeviceDB != "":
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ds, err := OpenSQLiteDevices(ctx, cfg.DeviceDB)
		cancel()
		if err != nil {
			return nil, err
		}
		s.devices, s.ownDevices = ds, true
	default:
		s.log.Info("device registry in memory: registrations are lost at restart (set deviceDb to keep them)")
		s.devices, s.ownDevices = NewMemoryDevices(), true
	}
	if err := s.startPush(o.pushHTTP); err != nil {
		if s.ownDevices {
			_ = s.devices.Close()
		}
		return nil, err
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
	var regCtx context.Context
	regCtx, s.stopReg = context.WithCancel(context.Background())
	s.reg = newRegistry(s)
	s.notifiers = append([]Notifier{eventsNotifier{s.reg}}, o.notifiers...)
	go s.reg.run(regCtx)

	s.handler = s.routes()
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		TLSConfig:         s.tls,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// Handler returns the server's HTTP handler (all endpoints of PROTOCOL.md),
// for use with a caller-managed http.Server or httptest.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve accepts connections on ln until Shutdown, or until ctx ends, which
// shuts the server down gracefully (bounded by ShutdownTimeout). With a TLS
// certificate configured it serves https and wss. It returns nil after a
// graceful shutdown.
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
	go func() { errc <- s.http.Serve(ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
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
// Later calls return the first call's result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		s.shutting.Store(true)
		s.log.Info("shutting down")
		var errs []error
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
		if err := s.push.stop(ctx); err != nil {
			errs = append(errs, err)
		}
		if s.ownDevices {
			if err := s.devices.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close device registry: %w", err))
			}
		}
		s.shutdownErr = errors.Join(errs...)
	})
	return s.shutdownErr
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		ActiveCalls:   int(s.activeCalls.Load()),
		EventConns:    int(s.eventConns.Load()),
		FramesRelayed: s.framesRelayed.Load(),
		FramesDropped: s.framesDropped.Load(),
		Push:          s.push.stats(),
	}
}

func (s *Server) emit(e Event) {
	if s.hook != nil {
		s.hook(e)
	}
}

// spawn runs f on a goroutine Shutdown waits for; false once shutting down
// has got past the point of waiting.
func (s *Server) spawn(f func()) bool { return s.goes.goTracked(f) }

// post queues m on conn and never blocks, for the registry goroutine: a
// peer that has let its control queue fill is closed by wire.Conn itself.
func (s *Server) post(conn LegConn, m wire.Message) bool {
	return conn.Send(m) == nil
}

// closeAfterSend closes conn with code after the control messages queued so
// far (end, error, declined) are written; wire.Conn.Close flushes them and
// never blocks.
func (s *Server) closeAfterSend(conn LegConn, code int, reason string) {
	conn.Close(code, reason)
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

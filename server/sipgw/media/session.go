package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/rtp"
)

// Sink takes wire frames of far-end audio. It must not block; it takes
// ownership of raw and reports whether it took the frame. The server's
// audio sinks (call legs, wire.Conn) are Sinks.
type Sink interface {
	SendAudioRaw(raw []byte) bool
}

// DefaultTimeout is how long a session waits for RTP before OnTimeout.
const DefaultTimeout = 30 * time.Second

// SessionConfig is what Start needs of a session.
type SessionConfig struct {
	// Remote is where to send until the far end's first packet shows its
	// real address (see the package doc, Symmetric RTP).
	Remote netip.AddrPort
	// Codec is the negotiated codec: PCMU or PCMA.
	Codec Codec
	// EventPT is the telephone-event payload type, 0 for none.
	EventPT uint8
	// Sink receives decoded far-end audio as wire frames.
	Sink Sink
	// OnDTMF reports a far-end digit once per event. It runs on the
	// receiving goroutine: it must not block, nor call Close (which waits
	// for that goroutine).
	OnDTMF func(digit byte)
	// OnTimeout is called once when no RTP has arrived for Timeout while
	// our direction is sendrecv: a far end holding us (we are recvonly) may
	// well send nothing, and one we hold need not. It runs on a goroutine
	// of its own and may call Close.
	OnTimeout func()
	// Timeout defaults to DefaultTimeout.
	Timeout time.Duration
	// Log defaults to slog.Default().
	Log *slog.Logger
}

// Session is one RTP audio stream on one UDP socket: Listen, Start with the
// negotiated parameters, then SendAudioRaw and SendDTMF toward the far end
// while far-end audio goes to the Sink. All methods are safe for concurrent
// use.
type Session struct {
	conn  *net.UDPConn
	local netip.AddrPort
	epoch time.Time // monotonic base of lastRecv

	mu        sync.Mutex // serialises Start, Close and the writers of state
	started   bool
	closedSet bool
	stopAfter func() bool
	cfg       SessionConfig // set by Start, read-only afterwards

	// state is replaced, never modified, so the packet paths read it
	// without a lock.
	state   atomic.Pointer[state]
	running atomic.Bool // started and not closed
	closed  chan struct{}
	once    sync.Once
	wg      sync.WaitGroup

	// lastRecv is when (ns since epoch) the last valid packet arrived or
	// the timeout clock was reset.
	lastRecv atomic.Int64

	txMu     sync.Mutex // guards tx; taken before mu, never after
	tx       txState
	markNext atomic.Bool // the next audio packet starts a talk spurt
	dtmfQ    chan byte
	dtmfBusy atomic.Bool // an event is being sent: audio is suppressed

	rx rxState // the receiving goroutine's

	stats counters
}

// state is what both directions of the packet path read.
type state struct {
	remote  netip.AddrPort // where we send: given, or the latched source
	given   netip.AddrPort // the remote of Start or Update
	codec   Codec
	law     law
	eventPT uint8
	dir     Direction // what we do
}

// dtmfQueue bounds the digits waiting to be sent.
const dtmfQueue = 32

// Listen binds a UDP socket on ip (all interfaces if ip is not valid) at an
// even port in [portMin, portMax], starting from a random one, or at any
// port if both are 0. It returns ErrNoPort if every port is busy.
func Listen(ip netip.Addr, portMin, portMax int) (*Session, error) {
	var conn *net.UDPConn
	var err error
	if portMin == 0 && portMax == 0 {
		conn, err = listenUDP(ip, 0)
	} else {
		conn, err = listenRange(ip, portMin, portMax)
	}
	if err != nil {
		return nil, err
	}
	s := &Session{
		conn:   conn,
		local:  conn.LocalAddr().(*net.UDPAddr).AddrPort(),
		epoch:  time.Now(),
		closed: make(chan struct{}),
		dtmfQ:  make(chan byte, dtmfQueue),
	}
	s.state.Store(&state{dir: SendRecv})
	return s, nil
}

func listenRange(ip netip.Addr, portMin, portMax int) (*net.UDPConn, error) {
	if portMin < 1 || portMax > 0xFFFF || portMin > portMax {
		return nil, fmt.Errorf("%w: invalid range %d-%d", ErrNoPort, portMin, portMax)
	}
	lo := portMin + portMin%2
	if lo > portMax {
		return nil, fmt.Errorf("%w: no even port in %d-%d", ErrNoPort, portMin, portMax)
	}
	n := (portMax-lo)/2 + 1
	// A random start spreads calls over the range, so a new call seldom
	// gets the port a just-ended one's far end still sends to.
	start := rand.IntN(n)
	for i := range n {
		port := lo + 2*((start+i)%n)
		conn, err := listenUDP(ip, port)
		if err == nil {
			return conn, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) && !errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("media: listen on port %d: %w", port, err)
		}
	}
	return nil, fmt.Errorf("%w: %d-%d all busy", ErrNoPort, portMin, portMax)
}

func listenUDP(ip netip.Addr, port int) (*net.UDPConn, error) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
	if err != nil {
		return nil, err
	}
	return conn, nil
}

// LocalAddr is the bound address; with an unspecified ip, SDP must carry a
// real address of the host instead.
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// Start begins sending and receiving with cfg. The session stops when ctx
// ends or on Close. It fails if cfg.Codec is not G.711, or if the session
// was started or closed before.
func (s *Session) Start(ctx context.Context, cfg SessionConfig) error {
	if !cfg.Codec.Supported() {
		return fmt.Errorf("%w: %s", ErrUnsupportedCodec, cfg.Codec.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closedSet:
		return ErrClosed
	case s.started:
		return ErrStarted
	}
	s.started = true
	s.configure(cfg)
	s.running.Store(true)
	s.wg.Add(3)
	go s.readLoop()
	go s.dtmfLoop()
	go s.watchdog()
	s.stopAfter = context.AfterFunc(ctx, func() { _ = s.Close() })
	return nil
}

// configure sets cfg up without starting goroutines (tests use it alone).
func (s *Session) configure(cfg SessionConfig) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	cfg.Log = cfg.Log.With("rtp_local", s.local.String())
	s.cfg = cfg
	dir := SendRecv
	if old := s.state.Load(); old != nil {
		dir = old.dir // SetDirection may come first
	}
	s.state.Store(&state{
		remote: cfg.Remote, given: cfg.Remote,
		codec: cfg.Codec, law: cfg.Codec.law(), eventPT: cfg.EventPT,
		dir: dir,
	})
	s.tx.init()
	s.markNext.Store(true)
	s.touch()
}

// Update applies a re-INVITE's parameters. A new remote undoes the latch:
// we send there until its packets arrive. An unsupported codec is ignored
// (and logged); check Codec.Supported before.
func (s *Session) Update(remote netip.AddrPort, codec Codec, eventPT uint8) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := *s.state.Load()
	if remote != st.given {
		st.given, st.remote = remote, remote
	}
	if codec.Supported() {
		st.codec, st.law = codec, codec.law()
	} else if s.cfg.Log != nil {
		s.cfg.Log.Error("RTP update with an unsupported codec ignored", "codec", codec.Name)
	}
	st.eventPT = eventPT
	s.state.Store(&st)
	s.touch()
}

// SetDirection sets what we do: SendOnly sends and drops what arrives
// (holding the far end), RecvOnly receives without sending, Inactive
// neither. It restarts the timeout clock. An invalid direction is ignored.
func (s *Session) SetDirection(d Direction) {
	if !d.Valid() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := *s.state.Load()
	if !st.dir.Sends() && d.Sends() {
		s.markNext.Store(true)
	}
	st.dir = d
	s.state.Store(&st)
	s.touch()
}

// Close stops the session and waits for its goroutines. It may be called
// more than once and before Start.
func (s *Session) Close() error {
	var err error
	s.once.Do(func() {
		s.mu.Lock()
		s.closedSet = true
		stop := s.stopAfter
		s.mu.Unlock()
		s.running.Store(false)
		close(s.closed)
		if stop != nil {
			stop()
		}
		if cerr := s.conn.Close(); cerr != nil {
			err = fmt.Errorf("media: close RTP socket: %w", cerr)
		}
	})
	s.wg.Wait()
	return err
}

func (s *Session) mono() int64 { return int64(time.Since(s.epoch)) }

// touch restarts the timeout clock.
func (s *Session) touch() { s.lastRecv.Store(s.mono()) }

// watchdog calls OnTimeout when nothing has arrived for Timeout while our
// direction is sendrecv.
func (s *Session) watchdog() {
	timeout := s.cfg.Timeout
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case <-s.closed:
			s.wg.Done()
			return
		case <-timer.C:
		}
		idle := time.Duration(s.mono() - s.lastRecv.Load())
		switch {
		case s.state.Load().dir != SendRecv:
			timer.Reset(timeout) // SetDirection restarts the clock anyway
			continue
		case idle < timeout:
			timer.Reset(timeout - idle)
			continue
		}
		// Done before the callback, which may call Close.
		s.wg.Done()
		if s.running.Load() {
			s.cfg.Log.Info("RTP timeout", "idle", idle.Round(time.Millisecond))
			if s.cfg.OnTimeout != nil {
				s.cfg.OnTimeout()
			}
		}
		return
	}
}

// rtpHeaderSize is an RTP header without CSRCs or extension.
const rtpHeaderSize = 12

// maxDatagram bounds what we read; larger datagrams are cut and then fail
// to parse or play.
const maxDatagram = 8192

// newHeader is the fixed part of our packets' headers.
func newHeader() rtp.Header { return rtp.Header{Version: 2} }

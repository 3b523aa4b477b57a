package callcore

import (
	"context"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/wire"
)

// Reconnect backoff of the events connection: doubling from listenMinBackoff
// to listenMaxBackoff, each wait drawn from its upper half (jitter, so a
// server restart is not met by every client at the same instant). A
// connection that lived listenStableAfter resets it.
var (
	listenMinBackoff  = 500 * time.Millisecond
	listenMaxBackoff  = 30 * time.Second
	listenStableAfter = 30 * time.Second
)

// listener is the background events connection.
type listener struct {
	number    string
	cancel    context.CancelFunc
	done      chan struct{}
	ready     chan struct{} // closed at the first hello: the server has registered us
	readyOnce sync.Once
	// draining is set when the server says it is draining: the close that
	// follows is expected, and reconnecting starts over from the shortest
	// backoff.
	draining atomic.Bool
	// wake and backingOff let a network change cut the reconnect backoff
	// short (network.go).
	wake       chan struct{} // buffered 1
	backingOff atomic.Bool   // between a loss and the next registered connection
}

func (l *listener) markReady() { l.readyOnce.Do(func() { close(l.ready) }) }

func (l *listener) isReady() bool {
	select {
	case <-l.ready:
		return true
	default:
		return false
	}
}

func (l *listener) stop() {
	l.cancel()
	<-l.done
}

// ListenForIncomingCalls keeps the events WebSocket (/v1/events) for
// registeredNumber open in the background and handles every incoming-call
// event as HandleIncomingCallWithUI handles a push (the event's push object
// is already typed, so it is decoded by IncomingCallFromPush, not as a map),
// so a running desktop app rings without a push service. It is an extension
// over the guide.
//
// It returns once the server has registered the connection (its hello), so
// a call placed to registeredNumber right after it returns rings here; or
// with the dial's error (ErrWebSocketConnectionFailed, ErrInitializationFailed
// for rejected credentials). After a loss it
// reconnects with exponential backoff and jitter until ctx ends,
// StopListening or Dispose; rejected credentials stop it and are reported
// through onCallError. A second call replaces the first listener.
//
// A server that drains (PROTOCOL.md, "Server drain") says so on the events
// connection and closes it when its drain ends; the SDK logs the notice
// (and tells a ServerDrainingCallback), reports the close like any loss
// (OnListeningChanged(false)), and reconnects from its shortest backoff
// (0.25-0.5 s, then doubling while the server is unreachable), so the app
// is listening again as soon as a server takes it (OnListeningChanged(true)).
//
// An app that learns the device's network has changed calls
// [SDK.NetworkChanged]: a listener waiting out its backoff then redials at
// once instead of up to 30 s later.
func (s *SDK) ListenForIncomingCalls(ctx context.Context, registeredNumber string) error {
	cr, err := s.initialized()
	if err != nil {
		return err
	}
	n := strings.TrimSpace(registeredNumber)
	if n == "" {
		return newError(ErrInvalidInput, nil, "registeredNumber is empty")
	}
	if !wire.ValidNumber(n) {
		return newError(ErrInvalidInput, nil, "registeredNumber %s is not a number", wire.Quote(n))
	}
	s.StopListening()
	lctx, cancel := context.WithCancel(ctx)
	conn, err := s.dialEvents(lctx, cr, n)
	if err != nil {
		cancel()
		return err
	}
	l := &listener{number: n, cancel: cancel, done: make(chan struct{}), ready: make(chan struct{}),
		wake: make(chan struct{}, 1)}
	s.mu.Lock()
	if s.disposed {
		s.mu.Unlock()
		cancel()
		conn.Close(wire.CloseGoingAway, "")
		return errNotInitialized()
	}
	old := s.listener
	s.listener = l
	s.mu.Unlock()
	if old != nil { // a concurrent ListenForIncomingCalls won the race before us
		old.stop()
	}
	go s.listen(lctx, l, conn)
	timer := time.NewTimer(handshakeTimeout)
	defer timer.Stop()
	var failure *Error
	select {
	case <-l.ready:
		s.log.Info("callcore: listening for incoming calls", "registered_number", n)
		return nil
	case <-l.done:
		failure = newError(ErrWebSocketConnectionFailed, ctx.Err(), "the events connection closed before the server registered it")
	case <-timer.C:
		failure = newError(ErrWebSocketConnectionFailed, nil, "the server did not register the events connection within %v", handshakeTimeout)
	}
	s.mu.Lock()
	if s.listener == l {
		s.listener = nil
	}
	s.mu.Unlock()
	l.stop()
	return failure
}

// StopListening stops the events connection started by
// ListenForIncomingCalls and waits for it to close. A no-op when not
// listening.
func (s *SDK) StopListening() {
	s.mu.Lock()
	l := s.listener
	s.listener = nil
	s.mu.Unlock()
	if l != nil {
		l.stop()
	}
}

// IsListening reports whether ListenForIncomingCalls's connection (or its
// reconnection loop) is running.
func (s *SDK) IsListening() bool {
	s.mu.Lock()
	l := s.listener
	s.mu.Unlock()
	if l == nil {
		return false
	}
	select {
	case <-l.done:
		return false
	default:
		return true
	}
}

func (s *SDK) dialEvents(ctx context.Context, cr credentials, number string) (*wire.Conn, error) {
	q := url.Values{wire.QueryRegisteredNumber: {number}}
	if id, err := s.deviceID(); err == nil {
		q.Set(wire.QueryDeviceID, id) // so answering here does not tell this install "end"
	}
	ws, err := s.dial(ctx, cr, wire.PathEvents, q)
	if err != nil {
		return nil, err
	}
	return wire.NewConn(ws, s.log), nil
}

// listen runs the events connection and reconnects it.
func (s *SDK) listen(ctx context.Context, l *listener, conn *wire.Conn) {
	defer close(l.done)
	defer l.cancel()
	defer func() {
		// Stopped for good by a failure (refused credentials): say so. A
		// stop the app asked for (StopListening, Dispose, ctx) is not news.
		if l.isReady() && ctx.Err() == nil {
			s.emitListening(false)
		}
	}()
	backoff := listenMinBackoff
	for {
		since := time.Now()
		err := conn.Run(ctx, wire.Handlers{
			OnMessage: func(m wire.Message) { s.onEvent(ctx, l, conn, m) },
			OnBadMessage: func(err error) {
				s.log.Debug("callcore: bad events message", "err", err)
			},
		})
		if ctx.Err() != nil || !l.isReady() {
			return // stopped, or the first connection never registered
		}
		if l.draining.Swap(false) {
			// Expected: the server announced it. Whatever earlier losses
			// did to the backoff, try again promptly.
			s.log.Info("callcore: events connection closed by a draining server; reconnecting", "err", err)
			backoff = listenMinBackoff
		} else {
			s.log.Info("callcore: events connection lost; reconnecting", "err", err)
		}
		// Backing off before the app hears of the loss: a NetworkChanged
		// the app calls on hearing it finds the listener waiting.
		l.startBackoff()
		s.emitListening(false)
		if time.Since(since) > listenStableAfter {
			backoff = listenMinBackoff
		}
		var notBefore time.Time // a Retry-After the server asked for
		for {
			wait := backoff/2 + rand.N(backoff/2+1)
			wait = max(wait, time.Until(notBefore))
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-l.wake:
				t.Stop()
				// The network the last attempts failed on is gone: what
				// they taught the backoff no longer holds.
				backoff = listenMinBackoff
				if time.Now().Before(notBefore) {
					continue // the server said when; asking sooner gets another 429
				}
				s.log.Info("callcore: the network changed; reconnecting the events connection now")
			case <-t.C:
				backoff = min(backoff*2, listenMaxBackoff)
			}
			cr, err := s.initialized()
			if err != nil {
				return // disposed
			}
			c, err := s.dialEvents(ctx, cr, l.number)
			if err == nil {
				l.backingOff.Store(false)
				conn = c
				break
			}
			if ctx.Err() != nil {
				return
			}
			if KindOf(err) == ErrInitializationFailed {
				s.log.Warn("callcore: events connection refused; not listening any more", "err", err)
				s.emitError(err, CallTypeNone)
				return
			}
			if ra := RetryAfter(err); ra > 0 {
				notBefore = time.Now().Add(ra)
			}
			s.log.Debug("callcore: events reconnect failed", "err", err, "next_in", max(backoff, time.Until(notBefore)))
		}
	}
}

// emitDrainingLocked tells a ServerDrainingCallback that the server is
// draining. Callers hold s.mu.
func (s *SDK) emitDrainingLocked(left time.Duration) {
	s.disp.emit(func(cb CallProgressCallback) {
		if dc, ok := cb.(ServerDrainingCallback); ok {
			dc.OnServerDraining(left)
		}
	})
}

// emitListening tells a ListeningCallback about the events connection.
func (s *SDK) emitListening(up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disp.emit(func(cb CallProgressCallback) {
		if lc, ok := cb.(ListeningCallback); ok {
			lc.OnListeningChanged(up)
		}
	})
}

// onEvent handles one events message on the events reader goroutine.
func (s *SDK) onEvent(ctx context.Context, l *listener, conn *wire.Conn, m wire.Message) {
	switch m.Type {
	case wire.TypeIncoming:
		// The typed push goes straight to the handling HandleIncomingCallWithUI
		// uses. Decode guarantees Push != nil.
		d, err := IncomingCallFromPush(*m.Push)
		if err == nil {
			err = s.handleIncoming(ctx, d)
		}
		if err != nil {
			s.log.Warn("callcore: incoming call event not handled", "call_id", m.CallID, "err", err)
		}
	case wire.TypePing:
		_ = conn.Send(wire.Message{Type: wire.TypePong, TS: m.TS})
	case wire.TypeHello:
		l.markReady()
		s.emitListening(true)
		s.log.Debug("callcore: events connection registered")
	case wire.TypeDraining:
		left := time.Duration(m.MS) * time.Millisecond
		l.draining.Store(true)
		s.log.Info("callcore: the server is draining; the events connection will close and reconnect", "within", left)
		s.mu.Lock()
		s.emitDrainingLocked(left)
		s.mu.Unlock()
	}
}

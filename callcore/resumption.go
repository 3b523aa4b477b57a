package callcore

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/onecxi/phone/wire"
)

// How the SDK restores a call's lost connection (reconnect.go has the API).
var (
	// resumeBackoff are the waits before each resume attempt; the last
	// repeats until the server's grace is over.
	resumeBackoff = []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}
	// resumeAttemptTimeout bounds one attempt (dial, upgrade, the server's
	// reply), so a network that swallows packets is retried rather than
	// waited on.
	resumeAttemptTimeout = 4 * time.Second
	// watchPeriod is how often an answered call checks that something
	// still arrives (MediaTimeout).
	watchPeriod = 250 * time.Millisecond
	// hangupAfterLoss bounds the best-effort resume that tells the server a
	// call ended while reconnecting was hung up.
	hangupAfterLoss = 3 * time.Second
)

// errSilent is a call socket's end when nothing arrived for MediaTimeout.
var errSilent = errors.New("nothing received from the server for " + MediaTimeout.String())

// socket is one WebSocket of a call: the first, or one a resume opened.
// Its reader goroutine runs wire.Conn.Run with the call's handlers.
type socket struct {
	conn     *wire.Conn
	opened   time.Time
	done     chan struct{}
	err      error // Run's, once done is closed
	silent   bool  // dropped by the media watchdog (set before Drop)
	resuming bool  // reader goroutine: the first message answers a resume
	first    chan wire.Message
}

// open starts k's reader on the call's handlers.
func (c *call) open(conn *wire.Conn, resuming bool) *socket {
	k := &socket{conn: conn, opened: time.Now(), done: make(chan struct{}), resuming: resuming, first: make(chan wire.Message, 1)}
	go func() {
		k.err = conn.Run(c.ctx, wire.Handlers{
			OnMessage: func(m wire.Message) {
				if k.resuming {
					k.resuming = false
					c.onResumeReply(k, m)
					return
				}
				c.onMessage(m)
			},
			OnAudio: c.media.onAudio,
			OnBadMessage: func(err error) {
				c.s.log.Debug("callcore: bad message from server", "err", err)
			},
		})
		close(k.done)
	}()
	return k
}

// wait returns when k's socket is closed, with why: Run's error, errSilent
// when the watchdog dropped it, nil for a clean close. Meanwhile, in an
// answered resumable call, it drops the socket once nothing (audio, pong,
// message) has arrived for MediaTimeout.
func (c *call) wait(k *socket) error {
	t := time.NewTicker(watchPeriod)
	defer t.Stop()
	for {
		select {
		case <-k.done:
			if k.silent {
				return errSilent
			}
			return k.err
		case now := <-t.C:
			c.s.mu.Lock()
			watch := c.token != "" && c.phase == phaseActive && !c.localEnd && c.remoteEnd == ""
			since := latest(k.conn.LastRead(), k.opened, c.answeredAt)
			c.s.mu.Unlock()
			if watch && now.Sub(since) > MediaTimeout && !k.silent {
				k.silent = true
				k.conn.Drop()
			}
		}
	}
}

// resumable reports whether c should try to resume after its socket ended
// with err. Callers hold s.mu.
func (c *call) resumableLocked(err error) bool {
	return err != nil && c.token != "" && c.placed && !c.abandoned && !c.localEnd &&
		c.remoteEnd == "" && !c.declined && c.endErr == nil && c.phase != phaseEnded
}

// reconnect restores c's lost connection: it tells the app, redials with
// backoff and resumes the call on a new socket, until the server's grace
// is over. It returns the new socket, or nil when the call is over (why is
// then in c's fields: endReason, remoteEnd, endErr, localEnd).
func (c *call) reconnect(cause error) *socket {
	s := c.s
	s.mu.Lock()
	if !c.resumableLocked(cause) {
		s.mu.Unlock()
		return nil
	}
	lostAt := time.Now()
	deadline := lostAt.Add(c.grace)
	select {
	case <-c.kick: // left from an earlier loss
	default:
	}
	var notBefore time.Time // a Retry-After the server asked for
	c.reconnecting, c.lostSelf = true, true
	c.conn = nil
	c.media.attach(nil)
	if c.wsOpen {
		c.wsOpen = false
		s.disp.emit(func(cb CallProgressCallback) { cb.OnWebSocketStatusChanged(false) })
	}
	s.disp.emit(func(cb CallProgressCallback) {
		if rc, ok := cb.(ReconnectCallback); ok {
			rc.OnCallReconnecting(false)
		}
	})
	s.updateCallStatusLocked(c, func(st CallStatus) CallStatus { return st.WithReconnecting(true) })
	id, token := c.serverID, c.token
	cr := s.creds
	s.mu.Unlock()
	s.log.Info("callcore: call connection lost; reconnecting", "call_id", id, "err", cause, "grace", c.grace)

	for attempt := 0; ; attempt++ {
		// The last attempt is made just before the grace ends rather than
		// skipped: a network back in the last seconds still saves the call.
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		wait := min(max(resumeBackoff[min(attempt, len(resumeBackoff)-1)], time.Until(notBefore)), left*9/10)
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-c.kick:
			timer.Stop()
		case <-c.ctx.Done():
			timer.Stop()
			c.hangUpAfterLoss(cr, id, token, deadline)
			return nil
		}
		if cr == nil {
			break
		}
		k, done, retryAfter := c.tryResume(*cr, id, token, deadline)
		if retryAfter > 0 {
			notBefore = time.Now().Add(retryAfter)
		}
		if k != nil {
			s.log.Info("callcore: call resumed", "call_id", id, "after", time.Since(lostAt).Round(time.Millisecond), "attempts", attempt+1)
			return k
		}
		if done {
			return nil
		}
		if c.ctx.Err() != nil {
			c.hangUpAfterLoss(cr, id, token, deadline)
			return nil
		}
	}
	s.mu.Lock()
	c.endReason = EndReasonNetworkLost
	if c.endErr == nil {
		c.endErr = newError(ErrWebSocketConnectionFailed, cause, "the connection to the server was lost and not restored within %v", c.grace)
	}
	s.mu.Unlock()
	s.log.Info("callcore: call connection not restored in time", "call_id", id, "grace", c.grace)
	return nil
}

// tryResume makes one attempt: dial, resume{callId, token}, and the
// server's reply. It returns the new socket once resumed, or done when the
// call is over for good (the server ended it, or refused the resume), and
// the Retry-After of a refused upgrade (429: a failed-auth back-off).
func (c *call) tryResume(cr credentials, id, token string, deadline time.Time) (k *socket, done bool, retryAfter time.Duration) {
	s := c.s
	ctx, cancel := context.WithDeadline(c.ctx, earliest(deadline, time.Now().Add(resumeAttemptTimeout)))
	defer cancel()
	ws, err := s.dial(ctx, cr, wire.PathCall, nil)
	if err != nil {
		s.log.Debug("callcore: resume attempt failed", "call_id", id, "err", err)
		if errors.Is(err, ErrInitializationFailed) { // 401: the credentials were revoked
			s.mu.Lock()
			c.endReason, c.endErr = EndReasonFailed, err
			s.mu.Unlock()
			return nil, true, 0
		}
		return nil, false, RetryAfter(err)
	}
	conn := wire.NewConn(ws, s.log)
	k = c.open(conn, true)
	if err := conn.Send(wire.Message{Type: wire.TypeResume, CallID: id, Token: token}); err != nil {
		conn.Close(wire.CloseNormal, "")
		return nil, false, 0
	}
	select {
	case m := <-k.first:
		switch m.Type {
		case wire.TypeResumed:
			return k, false, 0
		case wire.TypeEnd:
			// The call ended while this side was away; the server says how.
			<-k.done
			s.mu.Lock()
			c.remoteEnd = m.Reason
			s.mu.Unlock()
			return nil, true, 0
		case wire.TypeError:
			<-k.done
			s.log.Info("callcore: the server refused the resume", "call_id", id, "code", m.Code)
			s.mu.Lock()
			c.endReason = EndReasonNetworkLost
			c.endErr = newError(ErrWebSocketConnectionFailed, &ServerError{Code: m.Code, Message: m.Message},
				"the connection to the server was lost and the call could not be resumed")
			s.mu.Unlock()
			return nil, true, 0
		}
		s.log.Debug("callcore: unexpected reply to resume", "type", m.Type)
	case <-k.done:
	case <-ctx.Done():
		select {
		case m := <-k.first: // the reply won the race: it may have installed k
			if m.Type == wire.TypeResumed {
				return k, false, 0
			}
		default:
		}
	}
	conn.Drop()
	<-k.done
	return nil, false, 0
}

// onResumeReply takes the first message on a resuming socket, on its
// reader goroutine. resumed makes the socket the call's at once, before
// any message the server kept for this side is read after it.
func (c *call) onResumeReply(k *socket, m wire.Message) {
	if m.Type == wire.TypeResumed {
		s := c.s
		s.mu.Lock()
		c.conn = k.conn
		c.reconnecting = false
		c.resumes++
		c.wsOpen = true
		muted, held := c.media.isMuted(), c.media.isHeld()
		c.media.resumed(k.conn)
		s.disp.emit(func(cb CallProgressCallback) { cb.OnWebSocketStatusChanged(true) })
		s.disp.emit(func(cb CallProgressCallback) {
			if rc, ok := cb.(ReconnectCallback); ok {
				rc.OnCallReconnected(false)
			}
		})
		s.updateCallStatusLocked(c, func(st CallStatus) CallStatus { return st.WithReconnecting(false) })
		s.mu.Unlock()
		// A mute or hold changed while away reached only this side: the
		// server hears the state again (requests without ref get no reply).
		_ = k.conn.Send(wire.Message{Type: wire.TypeMute, On: wire.Bool(muted)})
		if m.State == "active" {
			_ = k.conn.Send(wire.Message{Type: wire.TypeHold, On: wire.Bool(held)})
		}
		s.networkBack() // the network works: the events connection may retry now
	}
	k.first <- m // buffered 1; one first message per socket
	if m.Type != wire.TypeResumed {
		k.conn.Close(wire.CloseNormal, "")
	}
}

// onRemoteReconnect applies reconnecting/reconnected about the far party.
func (c *call) onRemoteReconnect(on bool) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.call != c || c.remoteReconnecting == on {
		return
	}
	c.remoteReconnecting = on
	if on {
		c.remoteLost = true
	}
	s.disp.emit(func(cb CallProgressCallback) {
		if rc, ok := cb.(ReconnectCallback); ok {
			if on {
				rc.OnCallReconnecting(true)
			} else {
				rc.OnCallReconnected(true)
			}
		}
	})
	s.updateCallStatusLocked(c, func(st CallStatus) CallStatus { return st.WithRemoteReconnecting(on) })
}

// hangUpAfterLoss tells the server that a call this side hung up while
// reconnecting is over, so the far party does not wait out the grace: in
// the background, until the grace ends, resume attempts each followed at
// once by end (the server reads them in order: the resume splices the
// socket in, the end hangs up).
func (c *call) hangUpAfterLoss(cr *credentials, id, token string, deadline time.Time) {
	c.s.mu.Lock()
	local := c.localEnd
	c.s.mu.Unlock()
	if cr == nil || !local || id == "" {
		return
	}
	go func() {
		for attempt := 0; ; attempt++ {
			wait := resumeBackoff[min(attempt, len(resumeBackoff)-1)]
			if time.Now().Add(wait).After(deadline) {
				return
			}
			time.Sleep(wait) // the backoff between attempts
			if c.sendEndOnce(*cr, id, token, deadline) {
				return
			}
		}
	}()
}

// sendEndOnce is one attempt of hangUpAfterLoss; true once the server has
// answered (resumed then closed after the end, or refused: either way the
// call is over there).
func (c *call) sendEndOnce(cr credentials, id, token string, deadline time.Time) bool {
	ctx, cancel := context.WithDeadline(context.Background(), earliest(deadline, time.Now().Add(resumeAttemptTimeout)))
	defer cancel()
	ws, err := c.s.dial(ctx, cr, wire.PathCall, nil)
	if err != nil {
		return errors.Is(err, ErrInitializationFailed)
	}
	conn := wire.NewConn(ws, c.s.log)
	answered := make(chan struct{}, 1)
	_ = conn.Send(wire.Message{Type: wire.TypeResume, CallID: id, Token: token})
	_ = conn.Send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
	go func() {
		_ = conn.Run(ctx, wire.Handlers{OnMessage: func(wire.Message) {
			select {
			case answered <- struct{}{}:
			default:
			}
		}})
	}()
	select {
	case <-answered:
		conn.Close(wire.CloseNormal, "")
		return true
	case <-ctx.Done():
		conn.Drop()
		return false
	}
}

// kickReconnect makes a reconnecting call retry at once (the network is
// back).
func (c *call) kickReconnect() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// endReasonLocked says why c ended, from what it knows at teardown. runErr
// is the last socket's error. Callers hold s.mu.
func (c *call) endReasonLocked(runErr error) EndReason {
	switch {
	case c.endReason != "":
		return c.endReason
	case c.localEnd:
		return EndReasonHangup
	case c.declined:
		return EndReasonDeclined
	case c.remoteEnd != "":
		return c.fromWireReason(c.remoteEnd)
	case c.endErr != nil:
		return c.fromServerCode(ServerCode(c.endErr))
	case runErr != nil && errors.Is(runErr, os.ErrDeadlineExceeded):
		return EndReasonKeepaliveTimeout
	case runErr != nil:
		return EndReasonNetworkLost
	}
	return EndReasonRemoteHangup
}

// fromWireReason maps the server's end reason.
func (c *call) fromWireReason(r string) EndReason {
	switch r {
	case wire.ReasonRemote, wire.ReasonHangup, wire.ReasonCancelled:
		return EndReasonRemoteHangup
	case wire.ReasonDeclined:
		return EndReasonDeclined
	case wire.ReasonNoAnswer:
		return EndReasonNoAnswer
	case wire.ReasonNetworkLost:
		if c.reconnecting || (c.lostSelf && !c.remoteLost) {
			return EndReasonNetworkLost
		}
		return EndReasonRemoteLost
	case wire.ReasonKeepaliveTimeout:
		return EndReasonKeepaliveTimeout
	case wire.ReasonShutdown:
		return EndReasonServerShutdown
	}
	return c.fromServerCode(wire.Code(r))
}

// fromServerCode maps a failure code: on a call to the telephone network
// the trunk's failures are trunk_failed.
func (c *call) fromServerCode(code wire.Code) EndReason {
	switch code {
	case wire.CodeNoAnswer:
		return EndReasonNoAnswer
	case wire.CodeShuttingDown:
		return EndReasonServerShutdown
	case wire.CodeTrunkFailed:
		return EndReasonTrunkFailed
	case wire.CodeBusy, wire.CodeNotFound, wire.CodeUnreachable:
		if c.p.kind == wire.KindOutbound {
			return EndReasonTrunkFailed
		}
	}
	return EndReasonFailed
}

func latest(ts ...time.Time) time.Time {
	var t time.Time
	for _, x := range ts {
		if x.After(t) {
			t = x
		}
	}
	return t
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

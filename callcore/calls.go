package callcore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/wire"
)

// StartInBoundCall dials a server DID (guide 8.1), for example support or an
// IVR. See startCall for when it returns and what it reports.
func (s *SDK) StartInBoundCall(ctx context.Context, did, registeredNumber string) error {
	return s.startCall(ctx, callParams{
		typ: CallTypeInbound, kind: wire.KindInbound,
		to: did, registeredNumber: registeredNumber, toName: "did",
	})
}

// StartOutBoundCall dials a phone number through the server (guide 8.2).
func (s *SDK) StartOutBoundCall(ctx context.Context, userMobile, registeredNumber string) error {
	return s.startCall(ctx, callParams{
		typ: CallTypeOutbound, kind: wire.KindOutbound,
		to: userMobile, registeredNumber: registeredNumber, toName: "userMobile",
	})
}

// StartAppToAppInboundCall calls another app user by their registered
// number (guide 8.3). Calling your own number is ErrInvalidInput.
func (s *SDK) StartAppToAppInboundCall(ctx context.Context, inputNumber, registeredNumber string) error {
	return s.startCall(ctx, callParams{
		typ: CallTypeAppToApp, kind: wire.KindAppToApp,
		to: inputNumber, registeredNumber: registeredNumber, toName: "inputNumber",
	})
}

// StartAppToAppOutboundCall answers an incoming app-to-app call from
// inputNumber (guide 8.4); callFromNumber is the caller ID to show. When a
// pending incoming call from inputNumber is known (from a push or the events
// connection) its call ID goes to the server so exactly that call is
// answered; otherwise the server picks the oldest call ringing from
// inputNumber.
func (s *SDK) StartAppToAppOutboundCall(ctx context.Context, inputNumber, registeredNumber, callFromNumber string) error {
	return s.startCall(ctx, callParams{
		typ: CallTypeAppToApp, kind: wire.KindAppToAppAnswer,
		to: inputNumber, registeredNumber: registeredNumber, callFrom: callFromNumber,
		toName: "inputNumber",
	})
}

// callParams is one Start call's arguments.
type callParams struct {
	typ              CallType
	kind             wire.CallKind
	to               string // DID, phone number or the other user's number
	registeredNumber string
	callFrom         string // app_to_app_answer: caller ID to show
	callID           string // app_to_app_answer: the ringing call, when known
	toName           string // the guide's parameter name of to, for errors
}

// validate applies the guide's input rules: no empty or whitespace-only
// parameter; numbers must be numbers (digits, optional leading +); an
// app-to-app call must not be to oneself.
func (p *callParams) validate() error {
	fields := []struct {
		name string
		v    *string
	}{{p.toName, &p.to}, {"registeredNumber", &p.registeredNumber}}
	if p.kind == wire.KindAppToAppAnswer {
		fields = append(fields, struct {
			name string
			v    *string
		}{"callFromNumber", &p.callFrom})
	}
	for _, f := range fields {
		*f.v = strings.TrimSpace(*f.v)
		if *f.v == "" {
			return newError(ErrInvalidInput, nil, "%s is empty", f.name)
		}
		if !wire.ValidNumber(*f.v) {
			return newError(ErrInvalidInput, nil, "%s %s is not a number (digits with an optional leading +, at most %d)",
				f.name, wire.Quote(*f.v), wire.MaxNumberLen)
		}
	}
	if p.typ == CallTypeAppToApp && p.to == p.registeredNumber {
		return newError(ErrInvalidInput, nil, "%s %s is your own registered number: an app-to-app call needs two different numbers",
			p.toName, p.to)
	}
	return nil
}

// call phases, also the media's modes.
const (
	phaseConnecting int32 = iota
	phaseRinging
	phaseActive
	phaseEnded
)

// call is one call from Start's reservation to its teardown.
type call struct {
	s       *SDK
	p       callParams
	media   *media
	quality *qualitySampler

	qualityDone sync.WaitGroup // the quality sampler, from the answer on

	ctx    context.Context // the call's life; cancelled at teardown or to abort a start
	cancel context.CancelFunc
	first  chan error    // the server's first reply: nil (ringing/answered/declined) or the failure
	done   chan struct{} // closed when teardown is complete

	finishOnce sync.Once

	refMu   sync.Mutex
	nextRef uint32
	waiters map[uint32]chan wire.Message

	// Guarded by s.mu.
	conn       *wire.Conn
	dev        audio.Device
	phase      int32
	replied    bool   // the first reply arrived
	placed     bool   // Start returns (or returned) nil: onCallEnded will fire
	abandoned  bool   // Start gave up (ctx, timeout): no callbacks
	localEnd   bool   // EndCall, Dispose or push "end"
	remoteEnd  string // the far end's end reason
	declined   bool
	wsOpen     bool
	statusSent bool  // an onCallStatusChanged for this call went out
	endErr     error // reported by onCallError at teardown
	serverID   string
	startedAt  time.Time

	// Call resumption (resumption.go).
	token              string        // from resumable: the call can be resumed
	grace              time.Duration // how long the server waits for a resume
	reconnecting       bool          // this side's connection is lost; resuming
	lostSelf           bool          // this side's connection was lost at some point
	remoteReconnecting bool          // the far party's is
	remoteLost         bool          // the far party's was lost at some point
	resumes            int
	endReason          EndReason // set when the SDK itself decides why the call ended
	kick               chan struct{}
	answeredAt         time.Time
	endedAt            time.Time
}

func (s *SDK) newCall(p callParams) *call {
	ctx, cancel := context.WithCancel(context.Background())
	c := &call{
		s: s, p: p, ctx: ctx, cancel: cancel,
		media:     newMedia(s.log),
		first:     make(chan error, 1),
		done:      make(chan struct{}),
		waiters:   make(map[uint32]chan wire.Message),
		startedAt: time.Now(),
		kick:      make(chan struct{}, 1),
	}
	c.quality = &qualitySampler{c: c}
	return c
}

// errEndedWhileConnecting is Start's error when EndCall (or Dispose, or a
// push "end") ended the call before the server replied.
func errEndedWhileConnecting() *Error {
	return newError(ErrCallFailed, nil, "the call was ended before it connected")
}

// startCall is every Start method. Guards, in order: ErrNotInitialized,
// ErrInvalidInput, ErrCallInProgress (atomically: of two concurrent starts
// exactly one proceeds), ErrPermissionDenied. Then it opens the audio device
// (ErrAudioSessionSetupFailed; nothing is dialled), dials the call WebSocket
// (ErrWebSocketConnectionFailed; ErrInitializationFailed on 401), sends
// start and returns when the server's first reply arrives:
//
//   - ringing or answered: nil. The call is in progress; onCallStarted fires
//     on answer and onCallEnded once when it ends.
//   - error: ErrCallFailed with the server's message; ServerCode(err) says
//     why (unreachable, busy, not_found, …).
//
// An error return means the call never existed for the app: onCallStarted,
// onCallEnded and onCallError do not fire for it (onWebSocketStatusChanged
// and onCallStatusChanged do, as the socket and state really changed).
func (s *SDK) startCall(ctx context.Context, p callParams) error {
	cr, err := s.initialized()
	if err != nil {
		return err
	}
	if err := p.validate(); err != nil {
		return err
	}
	if p.kind == wire.KindAppToAppAnswer && p.callID == "" {
		p.callID = s.pendingCallIDFrom(p.to)
	}
	c := s.newCall(p)
	s.mu.Lock()
	switch {
	case s.disposed || s.creds == nil:
		s.mu.Unlock()
		return errNotInitialized()
	case s.call != nil:
		s.mu.Unlock()
		return newError(ErrCallInProgress, nil, "end the current call first")
	}
	s.call = c
	s.quality = CallQuality{}
	s.mu.Unlock()

	granted, err := s.plat.CheckPermissions(ctx)
	if err != nil || !granted {
		s.finishCall(c, nil)
		if ctx.Err() != nil {
			return newError(ErrCallFailed, ctx.Err(), "cancelled")
		}
		return platformError(ErrPermissionDenied, err, "microphone permission is not granted")
	}

	s.mu.Lock()
	if c.localEnd {
		s.mu.Unlock()
		s.finishCall(c, nil)
		return errEndedWhileConnecting()
	}
	c.statusSent = true
	s.emitStatusLocked(CallStatus{
		CallType: p.typ, CurrentDID: p.to, RegisteredNumber: p.registeredNumber,
	}.WithState(CallStateConnecting))
	s.mu.Unlock()

	// The platform first, then the audio device: on iOS this is where
	// CallKit learns of the call and activates the audio session, and
	// audio started before that stays silent (a call answered from the
	// lock screen). The title names the far party (Android's ongoing-call
	// notification, CallKit's handle for an outgoing call).
	if err := s.plat.StartForegroundService(ctx, serviceTitle(p)); err != nil {
		s.log.Debug("callcore: foreground service not started", "err", err)
	}
	dev, err := s.cfg.audio()
	if err == nil && dev == nil {
		err = audio.ErrNoDevice
	}
	if err != nil {
		s.finishCall(c, nil)
		return newError(ErrAudioSessionSetupFailed, err, "opening the audio device")
	}
	s.mu.Lock()
	c.dev = dev
	s.mu.Unlock()
	if err := dev.Start(c.ctx, c.media); err != nil {
		s.finishCall(c, nil)
		return newError(ErrAudioSessionSetupFailed, err, "starting audio device %s", dev.Name())
	}

	dialCtx, cancelDial := context.WithCancel(ctx)
	stop := context.AfterFunc(c.ctx, cancelDial)
	ws, err := s.dial(dialCtx, cr, wire.PathCall, nil)
	stop()
	cancelDial()
	if err != nil {
		s.mu.Lock()
		ended := c.localEnd
		s.mu.Unlock()
		s.finishCall(c, nil)
		if ended {
			return errEndedWhileConnecting()
		}
		return err
	}
	conn := wire.NewConn(ws, s.log)
	s.mu.Lock()
	if c.localEnd {
		s.mu.Unlock()
		_ = ws.Close()
		s.finishCall(c, nil)
		return errEndedWhileConnecting()
	}
	c.conn = conn
	c.wsOpen = true
	s.disp.emit(func(cb CallProgressCallback) { cb.OnWebSocketStatusChanged(true) })
	s.mu.Unlock()
	c.media.attach(conn)
	go c.run(c.open(conn, false))

	start := wire.Message{
		Type: wire.TypeStart, Kind: p.kind, To: p.to, RegisteredNumber: p.registeredNumber,
		CallFrom: p.callFrom, CallID: p.callID,
	}
	if p.kind == wire.KindAppToAppAnswer {
		if id, err := s.deviceID(); err == nil {
			start.DeviceID = id // this install's other connections are not told "end"
		}
	}
	if err := conn.Send(start); err != nil {
		conn.Close(wire.CloseNormal, "")
		<-c.done
		return newError(ErrCallFailed, err, "sending start")
	}
	s.log.Info("callcore: call started", "kind", p.kind, "to", p.to, "registered_number", p.registeredNumber)
	return s.awaitFirstReply(ctx, c)
}

// awaitFirstReply waits for the server's answer to start, bounded by ctx and
// wire.StartTimeout (the server replies at once: ringing or answered).
func (s *SDK) awaitFirstReply(ctx context.Context, c *call) error {
	timer := time.NewTimer(wire.StartTimeout)
	defer timer.Stop()
	select {
	case err := <-c.first:
		if err != nil {
			<-c.done // the reader closed the socket; state is reset when done closes
		}
		return err
	case <-c.done:
		select {
		case err := <-c.first:
			return err
		default:
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if c.localEnd {
			return errEndedWhileConnecting()
		}
		return newError(ErrWebSocketConnectionFailed, nil, "the connection closed before the server replied")
	case <-ctx.Done():
		return s.abandonStart(c, newError(ErrCallFailed, ctx.Err(), "gave up waiting for the server"))
	case <-timer.C:
		return s.abandonStart(c, newError(ErrCallFailed, nil, "the server did not reply within %v", wire.StartTimeout))
	}
}

// abandonStart hangs up a call whose start Start stopped waiting for. If the
// first reply won the race, the call is placed and Start succeeds after all.
func (s *SDK) abandonStart(c *call, err error) error {
	s.mu.Lock()
	if c.placed {
		s.mu.Unlock()
		return nil
	}
	c.abandoned, c.localEnd = true, true
	conn := c.conn
	s.mu.Unlock()
	_ = conn.Send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonCancelled})
	conn.Close(wire.CloseNormal, wire.ReasonCancelled)
	<-c.done
	return err
}

// run is the call's goroutine: it waits on each of the call's sockets in
// turn (their readers deliver every server message and audio frame, in
// order), restores a lost one (reconnect), and tears the call down when the
// last one closes.
func (c *call) run(k *socket) {
	for {
		err := c.wait(k)
		if k = c.reconnect(err); k == nil {
			c.s.finishCall(c, err)
			return
		}
	}
}

// replyLocked delivers the first reply (once). Callers hold s.mu.
func (c *call) replyLocked(err error) {
	if c.replied {
		return
	}
	c.replied = true
	if err == nil {
		c.placed = true
	}
	c.first <- err
}

func (c *call) onMessage(m wire.Message) {
	s := c.s
	switch m.Type {
	case wire.TypeRinging:
		s.mu.Lock()
		if c.phase == phaseConnecting {
			c.phase = phaseRinging
			c.media.setPhase(phaseRinging)
			if m.CallID != "" {
				c.serverID = m.CallID
			}
			s.updateCallStatusLocked(c, func(st CallStatus) CallStatus {
				return st.WithState(CallStateRinging).WithCallID(c.serverID)
			})
		}
		c.replyLocked(nil)
		s.mu.Unlock()

	case wire.TypeAnswered:
		s.mu.Lock()
		if c.phase != phaseActive && c.phase != phaseEnded {
			c.phase = phaseActive
			c.answeredAt = time.Now()
			if m.CallID != "" {
				c.serverID = m.CallID
			}
			c.media.setPhase(phaseActive)
			c.quality.start(s.cfg.qualityInterval)
			p := c.p
			s.disp.emit(func(cb CallProgressCallback) { cb.OnCallStarted(p.typ, p.to, p.registeredNumber) })
			s.updateCallStatusLocked(c, func(st CallStatus) CallStatus {
				return st.WithState(CallStateActive).WithCallID(c.serverID)
			})
			// After the events: when Start returns they are already queued.
			c.replyLocked(nil)
		}
		s.mu.Unlock()
		s.log.Info("callcore: call answered", "call_id", m.CallID)

	case wire.TypeDeclined:
		s.mu.Lock()
		c.declined = true
		c.replyLocked(nil)
		s.mu.Unlock()
		c.conn.Close(wire.CloseNormal, wire.ReasonDeclined)

	case wire.TypeEnd:
		s.mu.Lock()
		c.remoteEnd = m.Reason
		if c.remoteEnd == "" {
			c.remoteEnd = wire.ReasonRemote
		}
		switch m.Reason {
		case wire.ReasonDeclined:
			c.declined = true
		case wire.ReasonNoAnswer:
			if c.endErr == nil {
				c.endErr = newError(ErrCallFailed, &ServerError{Code: wire.CodeNoAnswer, Message: "no answer"}, "%s", DescribeServerCode(wire.CodeNoAnswer))
			}
		}
		c.replyLocked(newError(ErrCallFailed, nil, "the server ended the call (%s)", c.remoteEnd))
		s.mu.Unlock()
		c.conn.Close(wire.CloseNormal, "")

	case wire.TypeError:
		if m.Ref != 0 {
			c.deliverReply(m)
			return
		}
		se := &ServerError{Code: m.Code, Message: m.Message}
		msg := m.Message
		if msg == "" {
			msg = DescribeServerCode(m.Code)
		}
		err := newError(ErrCallFailed, se, "%s", msg)
		s.mu.Lock()
		if c.replied && c.endErr == nil {
			c.endErr = err
		}
		c.replyLocked(err)
		s.mu.Unlock()
		c.conn.Close(wire.CloseNormal, "")

	case wire.TypeAck, wire.TypeStatus:
		if m.Ref != 0 {
			c.deliverReply(m)
		}

	case wire.TypeHold:
		if !m.Remote || m.On == nil {
			return
		}
		on := *m.On
		c.media.setRemoteHeld(on)
		s.mu.Lock()
		s.updateCallStatusLocked(c, func(st CallStatus) CallStatus { return st.WithRemoteOnHold(on) })
		s.mu.Unlock()

	case wire.TypePing:
		_ = c.conn.Send(wire.Message{Type: wire.TypePong, TS: m.TS})

	case wire.TypeDraining:
		// The server is stopping or restarting but lets this call go on
		// (for at most m.MS): nothing to do but say so.
		left := time.Duration(m.MS) * time.Millisecond
		s.mu.Lock()
		id := c.serverID
		if s.call == c {
			s.emitDrainingLocked(left)
		}
		s.mu.Unlock()
		s.log.Info("callcore: the server is draining; the call goes on", "call_id", id, "at_most", left)
	case wire.TypePong:
		c.quality.pong(m.TS, time.Now())

	case wire.TypeResumable:
		s.mu.Lock()
		if c.token == "" {
			c.token, c.grace = m.Token, time.Duration(m.MS)*time.Millisecond
			if c.serverID == "" {
				c.serverID = m.CallID
			}
		}
		s.mu.Unlock()

	case wire.TypeReconnecting, wire.TypeReconnected:
		if m.Remote {
			c.onRemoteReconnect(m.Type == wire.TypeReconnecting)
		}

	case wire.TypeDTMF:
		if !wire.ValidDigit(m.Digit) {
			return
		}
		s.mu.Lock()
		if s.call == c {
			s.disp.emit(func(cb CallProgressCallback) {
				if dc, ok := cb.(RemoteDTMFCallback); ok {
					dc.OnRemoteDTMF(m.Digit)
				}
			})
		}
		s.mu.Unlock()

	default:
		s.log.Debug("callcore: ignoring message", "type", m.Type)
	}
}

// updateCallStatusLocked applies f to the status if c is the current call
// and queues onCallStatusChanged. Callers hold s.mu.
func (s *SDK) updateCallStatusLocked(c *call, f func(CallStatus) CallStatus) {
	if s.call != c {
		return
	}
	c.statusSent = true
	s.emitStatusLocked(f(s.status))
}

// finishCall tears c down exactly once: socket, audio device, foreground
// service, state, and the closing callbacks. Called by the reader when the
// socket closes, or by Start for a call that never got a socket.
func (s *SDK) finishCall(c *call, runErr error) {
	c.finishOnce.Do(func() {
		c.cancel()
		s.mu.Lock()
		conn, dev := c.conn, c.dev
		c.phase = phaseEnded
		speaker := s.call == c && s.status.IsSpeakerOn
		statusSent := c.statusSent
		s.mu.Unlock()
		c.qualityDone.Wait() // started only while active; it stops with c.ctx

		c.media.setPhase(phaseEnded)
		if conn != nil {
			conn.Close(wire.CloseNormal, "")
		}
		if dev != nil {
			if err := dev.Stop(); err != nil {
				s.log.Warn("callcore: stopping the audio device", "err", err)
			}
		}
		if statusSent {
			pctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if err := s.plat.StopForegroundService(pctx); err != nil {
				s.log.Debug("callcore: stopping the foreground service", "err", err)
			}
			if speaker {
				if err := s.plat.SetAudioRoute(pctx, platform.RouteEarpiece); err != nil {
					s.log.Debug("callcore: resetting the audio route", "err", err)
				}
			}
			cancel()
		}

		s.mu.Lock()
		c.endedAt = time.Now()
		reason := c.endReasonLocked(runErr)
		stats := c.statsLocked()
		stats.EndReason = reason
		p := c.p
		if c.wsOpen {
			s.disp.emit(func(cb CallProgressCallback) { cb.OnWebSocketStatusChanged(false) })
		}
		reported := c.placed && !c.abandoned
		if reported {
			err := c.endErr
			if err == nil && runErr != nil && !c.localEnd && c.remoteEnd == "" && !c.declined {
				err = newError(ErrWebSocketConnectionFailed, runErr, "the connection to the server was lost")
			}
			if err == nil && (reason == EndReasonNetworkLost || reason == EndReasonRemoteLost || reason == EndReasonKeepaliveTimeout) {
				// The far party's (or this side's) connection was lost past
				// the grace: an error the app shows, never a plain hang-up.
				err = newError(ErrWebSocketConnectionFailed, &ServerError{Code: wire.Code(c.remoteEnd)}, "%s", reason.Describe())
			}
			if err != nil {
				s.emitErrorLocked(err, p.typ)
			}
			if c.declined {
				s.disp.emit(func(cb CallProgressCallback) { cb.OnCallDeclined(p.typ, p.to) })
			}
		}
		if s.call == c {
			s.call = nil
			s.lastStats = stats
			if statusSent {
				s.emitStatusLocked(CallStatus{})
			} else {
				s.status = CallStatus{}
			}
		}
		// Last, so that when onCallEnded runs the idle status has been
		// delivered too and the UI can reset from either.
		if reported {
			s.disp.emit(func(cb CallProgressCallback) {
				if ec, ok := cb.(EndReasonCallback); ok {
					ec.OnCallEndReason(p.typ, reason)
				}
			})
			s.disp.emit(func(cb CallProgressCallback) { cb.OnCallEnded(p.typ, p.to) })
		}
		s.mu.Unlock()
		close(c.done)
		s.log.Info("callcore: call ended", "call_id", stats.CallID, "reason", reason, "resumes", stats.Resumes,
			"frames_sent", stats.FramesSent, "frames_received", stats.FramesReceived)
	})
}

// EndCall hangs up the current call (also one still connecting) and waits
// until it is torn down: onCallEnded has been queued and a new call may
// start. Errors: ErrNoCallInProgress without a call; ErrCallEndFailed when
// teardown does not complete within ctx (the call is still torn down in the
// background).
func (s *SDK) EndCall(ctx context.Context) error {
	if _, err := s.initialized(); err != nil {
		return err
	}
	s.mu.Lock()
	c := s.call
	s.mu.Unlock()
	if c == nil {
		return newError(ErrNoCallInProgress, nil, "there is no call to end")
	}
	return s.endCall(ctx, c, "")
}

// endGrace is how long EndCall waits for the server to close the socket
// after end before closing it itself.
const endGrace = 2 * time.Second

// endCall hangs up c. reason "" picks hangup or cancelled by phase.
func (s *SDK) endCall(ctx context.Context, c *call, reason string) error {
	s.mu.Lock()
	c.localEnd = true
	conn, phase := c.conn, c.phase
	s.mu.Unlock()
	if conn == nil {
		c.cancel() // still connecting: abort the dial; Start tears down
	} else {
		if reason == "" {
			reason = wire.ReasonHangup
			if phase != phaseActive {
				reason = wire.ReasonCancelled
			}
		}
		_ = conn.Send(wire.Message{Type: wire.TypeEnd, Reason: reason})
		grace := time.NewTimer(endGrace)
		select {
		case <-c.done:
		case <-grace.C:
		case <-ctx.Done():
		}
		grace.Stop()
		conn.Close(wire.CloseNormal, reason)
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return newError(ErrCallEndFailed, ctx.Err(), "the call did not finish tearing down")
	}
}

// deliverReply hands a reply with a ref to the request waiting for it.
func (c *call) deliverReply(m wire.Message) {
	c.refMu.Lock()
	ch := c.waiters[m.Ref]
	delete(c.waiters, m.Ref)
	c.refMu.Unlock()
	if ch != nil {
		ch <- m // buffered 1, and each ref is delivered once
	}
}

// errNoReply is a request's error when the server did not answer in time.
var errNoReply = fmt.Errorf("no reply from the server within %v", wire.ReplyTimeout)

// errCallGone is a request's error when the call ended while it waited.
var errCallGone = errors.New("the call ended")

// errReconnecting is a request's error while the call's connection is being
// restored.
var errReconnecting = errors.New("the call is reconnecting")

// request sends m with a fresh ref and waits for its ack (or status reply)
// up to wire.ReplyTimeout. A server error comes back as *ServerError.
func (c *call) request(ctx context.Context, m wire.Message) (wire.Message, error) {
	r, err := c.send(m)
	if err != nil {
		return wire.Message{}, err
	}
	return r.wait(ctx)
}

// pendingRequest is a sent request awaiting its reply.
type pendingRequest struct {
	c   *call
	ref uint32
	ch  chan wire.Message
}

// send queues m with a fresh ref. Requests are queued in call order, so
// digits sent one after another arrive in order even though their replies
// are awaited concurrently.
func (c *call) send(m wire.Message) (*pendingRequest, error) {
	r := &pendingRequest{c: c, ch: make(chan wire.Message, 1)}
	c.refMu.Lock()
	c.nextRef++
	if c.nextRef == 0 {
		c.nextRef = 1
	}
	r.ref = c.nextRef
	c.waiters[r.ref] = r.ch
	c.refMu.Unlock()
	m.Ref = r.ref
	c.s.mu.Lock()
	conn, reconnecting := c.conn, c.reconnecting
	c.s.mu.Unlock()
	if conn == nil {
		r.forget()
		if reconnecting {
			return nil, errReconnecting
		}
		return nil, errCallGone
	}
	if err := conn.Send(m); err != nil {
		r.forget()
		return nil, err
	}
	return r, nil
}

func (r *pendingRequest) forget() {
	r.c.refMu.Lock()
	delete(r.c.waiters, r.ref)
	r.c.refMu.Unlock()
}

// wait waits for the reply up to wire.ReplyTimeout.
func (r *pendingRequest) wait(ctx context.Context) (wire.Message, error) {
	defer r.forget()
	timer := time.NewTimer(wire.ReplyTimeout)
	defer timer.Stop()
	select {
	case m := <-r.ch:
		if m.Type == wire.TypeError {
			return m, &ServerError{Code: m.Code, Message: m.Message}
		}
		return m, nil
	case <-timer.C:
		return wire.Message{}, errNoReply
	case <-ctx.Done():
		return wire.Message{}, ctx.Err()
	case <-r.c.done:
		return wire.Message{}, errCallGone
	}
}

// serviceTitle is what the platform's call service is started with: the
// far party's number, which Android's ongoing-call notification shows and
// CallKit takes as the outgoing call's handle.
func serviceTitle(p callParams) string {
	if p.to != "" {
		return p.to
	}
	return "OneCxi call"
}

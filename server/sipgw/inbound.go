package sipgw

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/endpoint"
	"github.com/onecxi/phone/server/sipgw/media"
	"github.com/onecxi/phone/wire"
)

// inbound takes a new INVITE from a trunk: checks where it comes from, maps
// the called number to a DID and places the call on the server's DID plan.
// It returns once the INVITE has its final response; an answered call goes
// on in its own goroutine.
func (g *Gateway) inbound(req *sip.Request, tx sip.ServerTransaction) {
	log := g.log.With("sipCallId", wire.Quote(callIDOf(req)), "source", req.Source())
	respond := func(code int, reason string) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
	}
	ip, ok := sourceIP(req.Source())
	if !ok || !g.allow.allows(ip) {
		log.Warn("inbound INVITE from an address not on the allow-list: 403")
		respond(sip.StatusForbidden, "Forbidden")
		return
	}
	srv := g.srv.Load()
	if srv == nil {
		respond(sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	t := g.trunkFor(ip)
	did := t.Inbound.Apply(calledNumber(req, t))
	var from, name string
	if f := req.From(); f != nil {
		from, name = f.Address.User, f.DisplayName
	}
	log = log.With("trunk", t.Name, "did", wire.Quote(did), "from", wire.Quote(from))
	if rejectUnsupported(req, tx, log) {
		return
	}
	timers := negotiateUAS(req)
	if timers.tooSmall {
		reject422(req, tx, log)
		return
	}
	if len(req.Body()) == 0 {
		log.Warn("inbound INVITE without SDP offer: 488")
		g.respond488(req, tx, errNoOffer)
		return
	}
	m, err := newCallMedia(g)
	if err != nil {
		log.Error("inbound call: no media port", "err", err)
		respond(sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	answer, held, err := m.answer(req.Body())
	if err != nil {
		m.close()
		log.Warn("inbound call: cannot answer the SDP offer: 488", "err", err)
		g.respond488(req, tx, err)
		return
	}
	ua := g.dialogUAs[transportOf(req)]
	dtx, err := ua.ReadInvite(req, tx)
	if err != nil {
		m.close()
		log.Warn("inbound call: bad INVITE", "err", err)
		respond(sip.StatusBadRequest, "Bad Request")
		return
	}
	c := &inCall{
		g: g, log: log, m: m, dtx: dtx, tx: tx, sdp: answer, remoteHeld: held,
		contact:   g.contact(did, transportOf(req)),
		timers:    timers,
		rel100:    hasOption(req, "Require", "100rel"),
		wake:      make(chan struct{}, 1),
		final:     make(chan struct{}),
		finalSent: make(chan struct{}),
		done:      make(chan struct{}),
		byeCh:     make(chan struct{}),
		timeout:   make(chan struct{}, 1),
		noAck:     make(chan struct{}, 1),
		noPrack:   make(chan struct{}, 1),
		pracked:   make(chan struct{}),
	}
	c.d = c.newDialog()
	sipID := callIDOf(req)
	_ = dtx.Respond(sip.StatusTrying, "Trying", nil)
	log.Info("inbound call")
	leg, err := srv.Inbound(g.ctx, server.InboundCall{DID: did, From: from, Name: name}, c)
	if err != nil {
		m.close()
		code, reason := 500, "Server Internal Error"
		switch {
		case errors.Is(err, server.ErrNoRoute):
			code, reason = 404, "Not Found"
		case errors.Is(err, server.ErrShuttingDown):
			code, reason = 503, "Service Unavailable"
		}
		log.Info("inbound call refused", "status", code, "err", err)
		_ = dtx.Respond(code, reason, nil)
		c.sentFinal()
		return
	}
	c.leg = leg
	c.log = log.With("callId", leg.CallID())
	c.d.log = c.log
	if !g.track(sipID, c, c.run) {
		leg.Hangup()
		m.close()
		_ = dtx.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
		c.sentFinal()
		return
	}
	<-c.final
}

// calledNumber is the number an inbound INVITE dialled: the Request-URI's
// user, unless that is empty or the name we register with. A registrar
// sends a call to our registered contact (sip:username@us), and the
// dialled DID then survives only in To.
func calledNumber(req *sip.Request, t Trunk) string {
	called := req.Recipient.User
	if to := req.To(); to != nil && to.Address.User != "" && (called == "" || (t.Username != "" && called == t.Username)) {
		called = to.Address.User
	}
	return called
}

// trunkFor returns the trunk an inbound request from ip belongs to: the
// first whose allow-list has it, else the first trunk.
func (g *Gateway) trunkFor(ip netip.Addr) Trunk {
	for i, t := range g.cfg.Trunks {
		if g.trunkAllow[i].allows(ip) {
			return t
		}
	}
	return g.cfg.Trunks[0]
}

func callIDOf(req *sip.Request) string {
	if id := req.CallID(); id != nil {
		return id.Value()
	}
	return ""
}

// inCall is one call from the telephone network. It is the server's
// LegConn for the caller: what the server says about the call is queued and
// acted on by run.
type inCall struct {
	g       *Gateway
	log     *slog.Logger
	m       *callMedia
	dtx     *sipgo.DialogServerSession
	tx      sip.ServerTransaction // the INVITE's
	sdp     []byte                // our answer to the INVITE's offer
	contact sip.ContactHeader
	leg     *server.ExternalLeg
	d       *dialog
	timers  timerOffer // what the INVITE negotiated

	rel100    bool          // the INVITE requires reliable provisional responses
	relRSeq   uint32        // our reliable 180's RSeq (the call's goroutine's)
	pracked   chan struct{} // closed when its PRACK came
	prackOnce sync.Once
	noPrack   chan struct{} // it never came
	noAck     chan struct{} // the 200 OK was never ACKed
	acked     atomic.Bool

	remoteHeld bool // the INVITE's offer already held us (rare)
	answered   atomic.Bool

	// The call goroutine's: media runs from the 183 (early media) or the
	// 200, and the ringback plays to the caller until the answer.
	mediaOn  bool
	ringback *endpoint.Player

	mu     sync.Mutex
	queue  []wire.Message
	closed bool // the server called Close
	wake   chan struct{}

	final      chan struct{} // the INVITE has its final response (a 200 is ACKed)
	finalOnce  sync.Once
	finalSent  chan struct{} // a final response is on its way
	sentOnce   sync.Once
	done       chan struct{}
	byeCh      chan struct{} // the caller sent BYE
	byeOnce    sync.Once
	timeout    chan struct{}
	hangupOnce sync.Once
}

// SendAudioRaw implements server.LegConn: audio toward the SIP caller.
func (c *inCall) SendAudioRaw(raw []byte) bool {
	if !c.answered.Load() {
		return false
	}
	return c.m.sess.SendAudioRaw(raw)
}

// Send implements server.LegConn; it queues and never blocks.
func (c *inCall) Send(m wire.Message) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return server.ErrShuttingDown
	}
	c.queue = append(c.queue, m)
	c.mu.Unlock()
	c.poke()
	return nil
}

// Close implements server.LegConn.
func (c *inCall) Close(int, string) {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.poke()
}

func (c *inCall) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// next takes the queued messages and whether the server is done.
func (c *inCall) next() ([]wire.Message, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = nil
	return q, c.closed
}

func (c *inCall) finish() {
	c.sentFinal()
	c.finalOnce.Do(func() { close(c.final) })
}

func (c *inCall) sentFinal() { c.sentOnce.Do(func() { close(c.finalSent) }) }

// newDialog is the call's in-dialog handling: requests go to the caller's
// Contact.
func (c *inCall) newDialog() *dialog {
	d := &dialog{
		g: c.g, log: c.log, m: c.m, contact: c.contact, timer: newSessionTimer(),
		do: c.dtx.Do, write: c.dtx.WriteRequest,
		target: func() sip.Uri { return c.dtx.InviteRequest.Contact().Address },
		onHold: func(held bool) {
			if err := c.leg.Hold(held); err != nil {
				c.log.Debug("inbound call: hold not forwarded", "err", err)
			}
		},
		onDTMF:    c.onDTMF,
		confirmed: c.answered.Load,
	}
	d.setPeerUpdate(c.dtx.InviteRequest)
	return d
}

// run follows the call: the server's messages, the caller's CANCEL or BYE,
// RTP timeout, and the gateway closing.
func (c *inCall) run() {
	defer close(c.done)
	defer c.m.close()
	defer c.stopRingback()
	defer c.finish()
	defer c.d.timer.stop()
	for {
		select {
		case <-c.wake:
			msgs, closed := c.next()
			for _, m := range msgs {
				if !c.handle(m) {
					return
				}
			}
			if closed {
				c.end("the server closed the call")
				return
			}
		case <-c.dtx.Context().Done():
			// CANCEL before the answer, or the dialog ended otherwise.
			if !c.answered.Load() {
				c.log.Info("inbound call cancelled by the caller")
				c.leg.Hangup()
				return
			}
			c.log.Info("inbound call: the caller hung up")
			c.leg.Hangup()
			return
		case <-c.byeCh:
			c.log.Info("inbound call: the caller hung up")
			c.leg.Hangup()
			return
		case <-c.timeout:
			c.log.Warn("inbound call: no RTP from the caller", "timeout", c.g.cfg.RTPTimeout)
			c.leg.Hangup()
			c.bye()
			return
		case <-c.noAck:
			c.log.Warn("inbound call: the 200 OK was never acknowledged: BYE", "after", ackTimeout)
			c.leg.Hangup()
			c.bye()
			return
		case <-c.noPrack:
			if !c.answered.Load() {
				c.leg.Hangup()
				_ = c.dtx.Respond(sip.StatusInternalServerError, "Reliable Provisional Response Not Acknowledged", nil)
				c.finish()
				return
			}
		case <-c.d.timer.refreshCh:
			if c.d.refresh() {
				c.leg.Hangup()
				c.bye()
				return
			}
		case <-c.d.timer.expiredCh:
			c.log.Warn("inbound call: session expired without a refresh (RFC 4028): BYE")
			c.leg.Hangup()
			c.bye()
			return
		}
	}
}

// handle acts on one message from the server; false ends the call.
func (c *inCall) handle(m wire.Message) bool {
	switch m.Type {
	case wire.TypeRinging:
		if !c.answered.Load() {
			c.ring()
		}
	case wire.TypeAnswered:
		if c.answered.Load() {
			return true
		}
		return c.answer()
	case wire.TypeDeclined, wire.TypeError:
		if c.answered.Load() {
			c.log.Info("inbound call ended by the server", "code", m.Code, "message", m.Message)
			c.bye()
			return false
		}
		code, reason := sipStatus(m)
		c.log.Info("inbound call not connected", "status", code, "code", m.Code, "message", m.Message)
		c.sentFinal()
		_ = c.dtx.Respond(code, reason, nil)
		c.finish()
		return false
	case wire.TypeEnd:
		c.end(m.Reason)
		return false
	case wire.TypeDTMF:
		if c.answered.Load() && m.Digit != "" {
			if err := c.m.sess.SendDTMF(m.Digit[0]); err != nil {
				c.log.Warn("inbound call: DTMF", "err", err)
			}
		}
	case wire.TypeHold:
		if c.answered.Load() && m.On != nil {
			c.hold(*m.On)
		}
	}
	return true
}

// earlyRingback: while an app rings, the caller hears ringback from us as
// early media (183 Session Progress with our SDP, RFC 3960's gateway
// model), so it hears ringing whether or not its carrier plays its own.
// Tests may turn it off.
var earlyRingback = true

// startMedia starts RTP with what the INVITE negotiated, once.
func (c *inCall) startMedia() error {
	if c.mediaOn {
		return nil
	}
	onTimeout := func() {
		select {
		case c.timeout <- struct{}{}:
		default:
		}
	}
	if err := c.m.start(c.g.ctx, c.leg, c.onDTMF, onTimeout); err != nil {
		return err
	}
	c.mediaOn = true
	return nil
}

// startEarlyMedia sends 183 Session Progress with our SDP and plays
// ringback on the call's RTP until the answer. Until then we only send:
// the caller's RTP is neither expected nor timed out. False when it cannot
// (the 180 stands alone then).
func (c *inCall) startEarlyMedia() bool {
	if err := c.startMedia(); err != nil {
		c.log.Warn("inbound call: early media", "err", err)
		return false
	}
	c.m.sess.SetDirection(media.SendOnly)
	res := sip.NewResponseFromRequest(c.dtx.InviteRequest, sip.StatusSessionInProgress, "Session Progress", c.sdp)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(sip.HeaderClone(&c.contact))
	addCaps(res)
	if err := c.dtx.WriteResponse(res); err != nil {
		c.log.Warn("inbound call: 183", "err", err)
		c.m.applyHold()
		return false
	}
	c.ringback = endpoint.StartPlayer(c.g.spawn, c.m.sess, endpoint.Loop{Src: dsp.NewRingback()})
	return c.ringback != nil
}

// stopRingback stops the early ringback, if it plays.
func (c *inCall) stopRingback() {
	if c.ringback != nil {
		c.ringback.Stop()
		c.ringback = nil
	}
}

// answer sends 200 OK with our SDP and starts media (or, after early media,
// turns it to both ways).
func (c *inCall) answer() bool {
	c.stopRingback()
	if err := c.startMedia(); err != nil {
		c.log.Error("inbound call: media", "err", err)
		_ = c.dtx.Respond(sip.StatusInternalServerError, "Server Internal Error", nil)
		c.finish()
		c.leg.Hangup()
		return false
	}
	c.m.applyHold() // the direction the offer and any hold say: sendrecv, normally
	c.answered.Store(true)
	c.sentFinal()
	res := sip.NewSDPResponseFromRequest(c.dtx.InviteRequest, c.sdp)
	res.AppendHeader(&c.contact)
	addCaps(res)
	for _, h := range c.timers.responseHeaders() {
		res.AppendHeader(h)
	}
	c.d.timer.set(c.timers.se, false)
	// WriteResponse retransmits the 200 until the ACK, so the INVITE's
	// final response is "sent" only once that is over. A 200 never ACKed
	// within ackTimeout (64*T1) ends the session with BYE (RFC 3261
	// section 13.3.1.4).
	go func() {
		defer c.finish()
		written := make(chan error, 1)
		go func() { written <- c.dtx.WriteResponse(res) }()
		t := time.NewTimer(ackTimeout)
		defer t.Stop()
		select {
		case err := <-written:
			if err == nil {
				return // ACKed
			}
			c.log.Warn("inbound call: 200 OK not acknowledged", "err", err)
		case <-t.C:
			if c.acked.Load() {
				return
			}
			c.tx.Terminate() // stops the retransmissions
		}
		if c.dtx.Context().Err() == nil {
			signal(c.noAck)
		}
	}()
	c.log.Info("inbound call answered", "sessionExpires", c.timers.se.interval, "refresher", c.timers.se.refresher)
	return true
}

// ring tells the caller the app rings: 180 Ringing — reliably when the
// INVITE requires it (no early media then) — followed by a 183 with our
// ringback as early media, which a caller that plays early media (RFC 3960)
// hears instead of its own ringback.
func (c *inCall) ring() {
	if c.rel100 {
		c.ringReliably()
		return
	}
	if c.ringback != nil {
		return // ringing already, with early media
	}
	res := sip.NewResponseFromRequest(c.dtx.InviteRequest, sip.StatusRinging, "Ringing", nil)
	res.AppendHeader(sip.HeaderClone(&c.contact))
	addCaps(res)
	_ = c.dtx.WriteResponse(res)
	if earlyRingback {
		c.startEarlyMedia()
	}
}

// end is the server ending the call: BYE once answered, else a final
// response.
func (c *inCall) end(reason string) {
	if c.answered.Load() {
		c.log.Info("inbound call ended by the server", "reason", reason)
		c.bye()
		return
	}
	c.log.Info("inbound call ended before answer", "reason", reason)
	c.sentFinal()
	_ = c.dtx.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
	c.finish()
}

func (c *inCall) bye() {
	<-c.final // BYE only after the 200 OK was acknowledged (RFC 3261 15)
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	if err := c.dtx.Bye(ctx); err != nil {
		c.log.Warn("inbound call: BYE failed", "err", err)
		return
	}
	c.log.Info("inbound call: BYE sent")
}

// hold is the app holding the SIP caller (on) or resuming: a re-INVITE.
func (c *inCall) hold(on bool) {
	<-c.final
	c.d.hold(on)
}

func (c *inCall) onDTMF(digit byte) {
	if err := c.leg.DTMF(digit); err != nil {
		c.log.Debug("inbound call: DTMF not forwarded", "err", err)
	}
}

func (c *inCall) onAck(req *sip.Request, tx sip.ServerTransaction) {
	// The 200's ACK confirms the dialog; a re-INVITE's ACK may carry the
	// answer to the offer we made for an offerless re-INVITE.
	if cseq := req.CSeq(); cseq != nil && cseq.SeqNo == c.dtx.InviteRequest.CSeq().SeqNo {
		c.acked.Store(true)
		_ = c.dtx.ReadAck(req, tx)
		return
	}
	c.d.onAck(req)
}

func (c *inCall) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if err := c.dtx.ReadBye(req, tx); err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	}
	c.byeOnce.Do(func() { close(c.byeCh) })
}

func (c *inCall) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	if !c.answered.Load() {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 491, "Request Pending", nil))
		return
	}
	c.d.answerRefresh(req, tx)
}

// onUpdate takes an UPDATE (RFC 3311): a session refresh, or a new offer.
func (c *inCall) onUpdate(req *sip.Request, tx sip.ServerTransaction) { c.d.answerRefresh(req, tx) }

// onInfo takes an INFO: DTMF, or a keep-alive.
func (c *inCall) onInfo(req *sip.Request, tx sip.ServerTransaction) { c.d.onInfo(req, tx) }

// hangup is the gateway closing.
func (c *inCall) hangup() {
	c.hangupOnce.Do(func() {
		c.leg.Hangup()
		c.Close(0, "closing")
	})
	<-c.done
}

package sipgw

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/onecxi/phone/server/trunk"
	"github.com/onecxi/phone/wire"
)

// requestTimeout bounds in-dialog requests (BYE, re-INVITE) we send.
const requestTimeout = 5 * time.Second

// Why an outbound INVITE stopped waiting for its answer.
const (
	stopHangup      int32 = iota + 1 // the app hung up
	stopNoResponse                   // the trunk sent nothing within ResponseTimeout
	stopAnswerLimit                  // it rang longer than AnswerTimeout
	stopClosing                      // the gateway is closing
)

var errStopped = errors.New("outbound call stopped")

// Dial implements trunk.Trunk: it picks the trunk for d.To and INVITEs it
// on a goroutine of its own.
func (g *Gateway) Dial(d trunk.Dial) (trunk.Call, error) {
	if d.Audio == nil || d.Progress == nil {
		return nil, fmt.Errorf("sip gateway: dial %s: missing Audio or Progress", d.CallID)
	}
	if err := g.Listen(g.ctx); err != nil {
		return nil, err
	}
	i := matchTrunk(g.cfg.Trunks, d.To)
	if i < 0 {
		return nil, fmt.Errorf("sip gateway: dial %s: %w", d.To, ErrNoTrunk)
	}
	t := g.cfg.Trunks[i]
	c := &outCall{
		g: g, d: d, trunk: t,
		sipID:    uuid.NewString(),
		hangupCh: make(chan struct{}),
		holdCh:   make(chan bool, 8),
		timeout:  make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	c.log = g.log.With("callId", d.CallID, "trunk", t.Name, "sipCallId", c.sipID)
	c.ctx, c.cancel = context.WithCancelCause(g.ctx)
	if !g.track(c.sipID, c, c.run) {
		return nil, ErrClosed
	}
	return c, nil
}

// outCall is one call from an app to the telephone network.
type outCall struct {
	g     *Gateway
	d     trunk.Dial
	trunk Trunk
	sipID string // the SIP Call-ID
	log   *slog.Logger

	ctx    context.Context // until answered: cancelling it stops the INVITE
	cancel context.CancelCauseFunc
	why    atomic.Int32 // stop*

	m           *callMedia
	dlg         atomic.Pointer[sipgo.DialogClientSession] // once answered
	dg          atomic.Pointer[dialog]                    // once answered
	gotResponse atomic.Bool
	answered    atomic.Bool

	// Reliable provisional responses (prack.go), within WaitAnswer.
	lastRSeq uint32
	earlySDP []byte      // the SDP of a reliable 18x
	pracked  atomic.Bool // a PRACK was sent: ACK and BYE by hand

	hangupOnce sync.Once
	hangupCh   chan struct{}
	holdCh     chan bool
	timeout    chan struct{}
	done       chan struct{}
}

func (c *outCall) run() {
	defer close(c.done)
	m, err := newCallMedia(c.g)
	if err != nil {
		c.log.Error("outbound call: no media port", "err", err)
		c.fail(wire.CodeTrunkFailed, "the gateway has no free RTP port")
		return
	}
	c.m = m
	defer m.close()
	dlg, err := c.invite()
	if err != nil {
		c.inviteFailed(err)
		return
	}
	c.dlg.Store(dlg)
	d := c.newDialog(dlg)
	c.dg.Store(d)
	defer d.timer.stop()
	answer := dlg.InviteResponse.Body()
	if len(answer) == 0 {
		answer = c.earlySDP // the answer came in a reliable 18x
	}
	if err := m.applyAnswer(answer); err != nil {
		c.log.Warn("outbound call: unusable SDP answer", "err", err)
		_ = c.ack(dlg)
		c.bye(dlg)
		c.fail(wire.CodeTrunkFailed, "the far end answered without a usable audio codec")
		return
	}
	if err := c.ack(dlg); err != nil {
		c.log.Warn("outbound call: ACK failed", "err", err)
	}
	onTimeout := func() {
		select {
		case c.timeout <- struct{}{}:
		default:
		}
	}
	if err := m.start(c.g.ctx, c.d.Audio, c.onDTMF, onTimeout); err != nil {
		c.log.Error("outbound call: media", "err", err)
		c.bye(dlg)
		c.fail(wire.CodeTrunkFailed, "the gateway could not start audio")
		return
	}
	c.answered.Store(true)
	// RFC 4028 section 7.2: the 200 says who refreshes; without
	// Session-Expires the session does not expire.
	if se, ok := parseSessionExpires(dlg.InviteResponse); ok {
		if se.refresher == "" {
			se.refresher = refresherUAC
		}
		d.timer.set(se, true)
	}
	se, weRefresh := d.timer.current()
	c.log.Info("outbound call answered", "sessionExpires", se.interval, "weRefresh", weRefresh)
	c.d.Progress(trunk.Event{Kind: trunk.Answered})
	c.connected(dlg, d)
}

// newDialog is the answered call's in-dialog handling: requests go to the
// 200's Contact.
func (c *outCall) newDialog(dlg *sipgo.DialogClientSession) *dialog {
	target := dlg.InviteRequest.Recipient
	if ct := dlg.InviteResponse.Contact(); ct != nil {
		target = ct.Address
	}
	d := &dialog{
		g: c.g, log: c.log, m: c.m, contact: c.sipContact(), timer: newSessionTimer(),
		do: dlg.Do, write: dlg.WriteRequest,
		target: func() sip.Uri { return target },
		onHold: func(held bool) {
			kind := trunk.Resumed
			if held {
				kind = trunk.Held
			}
			c.d.Progress(trunk.Event{Kind: kind})
		},
		onDTMF:    c.onDTMF,
		confirmed: c.answered.Load,
	}
	d.setPeerUpdate(dlg.InviteResponse)
	return d
}

// ack ACKs the INVITE's 200.
func (c *outCall) ack(dlg *sipgo.DialogClientSession) error {
	if c.pracked.Load() {
		return c.ackAfterPrack(dlg)
	}
	return dlg.Ack(c.g.ctx)
}

// connected runs an answered call until one side ends it.
func (c *outCall) connected(dlg *sipgo.DialogClientSession, d *dialog) {
	for {
		select {
		case <-dlg.Context().Done():
			c.log.Info("outbound call: the far end hung up")
			c.d.Progress(trunk.Event{Kind: trunk.Hangup})
			return
		case <-c.hangupCh:
			c.bye(dlg)
			return
		case <-c.timeout:
			c.log.Warn("outbound call: no RTP from the far end", "timeout", c.g.cfg.RTPTimeout)
			c.bye(dlg)
			c.fail(wire.CodeTrunkFailed, fmt.Sprintf("no audio from the far end for %v", c.g.cfg.RTPTimeout))
			return
		case on := <-c.holdCh:
			d.hold(on)
		case <-d.timer.refreshCh:
			if d.refresh() {
				c.bye(dlg)
				c.fail(wire.CodeTrunkFailed, "the far end no longer has the call (session refresh failed)")
				return
			}
		case <-d.timer.expiredCh:
			c.log.Warn("outbound call: session expired without a refresh (RFC 4028): BYE")
			c.bye(dlg)
			c.fail(wire.CodeTrunkFailed, "the SIP session expired: the far end stopped refreshing it")
			return
		}
	}
}

// invite sends the INVITE and waits for its final response.
func (c *outCall) invite() (*sipgo.DialogClientSession, error) {
	t := c.trunk
	number := t.Outbound.Apply(c.d.To)
	from := t.CallerID
	if from == "" {
		from = c.d.From
	}
	offer, err := c.m.offer()
	if err != nil {
		return nil, fmt.Errorf("sdp offer: %w", err)
	}
	uri := sip.Uri{Scheme: "sip", User: number, Host: t.Host, Port: t.Port}
	if t.Transport == TransportTCP {
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", "tcp")
	}
	req := sip.NewRequest(sip.INVITE, uri)
	fromHdr := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: from, Host: t.Domain}, Params: sip.NewParams()}
	fromHdr.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(fromHdr)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: number, Host: t.Domain}})
	callID := sip.CallIDHeader(c.sipID)
	req.AppendHeader(&callID)
	contact := c.g.contact(from, t.Transport)
	req.AppendHeader(&contact)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	addCaps(req)
	se := defaultSE
	req.AppendHeader(sip.NewHeader("Session-Expires", sessionExpires{interval: se}.String()))
	req.AppendHeader(sip.NewHeader("Min-SE", strconv.FormatInt(int64(minSE/time.Second), 10)))
	req.SetBody(offer)
	req.SetTransport(strings.ToUpper(t.Transport))
	c.log.Info("outbound call: INVITE", "to", number, "from", from, "transport", t.Transport)

	noResponse := time.AfterFunc(c.g.cfg.ResponseTimeout, func() {
		if !c.gotResponse.Load() {
			c.stop(stopNoResponse)
		}
	})
	defer noResponse.Stop()
	ringLimit := time.AfterFunc(c.g.cfg.AnswerTimeout, func() { c.stop(stopAnswerLimit) })
	defer ringLimit.Stop()

	var ringing bool
	for attempt := 0; ; attempt++ {
		c.g.noteInvite(c.sipID, req) // our From tag: in-dialog requests before the answer must carry it
		dlg, err := c.g.dialogUAs[t.Transport].WriteInvite(c.ctx, req)
		if err != nil {
			return nil, err
		}
		err = dlg.WaitAnswer(c.ctx, sipgo.AnswerOptions{
			Username: cmp.Or(t.AuthUsername, t.Username),
			Password: string(t.Password),
			OnResponse: func(res *sip.Response) error {
				c.gotResponse.Store(true)
				if res.StatusCode >= 180 && res.StatusCode < 200 && !ringing {
					ringing = true
					c.log.Info("outbound call ringing", "status", res.StatusCode)
					c.d.Progress(trunk.Event{Kind: trunk.Ringing})
				}
				c.prackIfReliable(dlg, res)
				return nil
			},
		})
		if err == nil {
			return dlg, nil
		}
		_ = dlg.Close()
		// 422: the trunk wants a longer session interval (RFC 4028
		// section 7.4); ask again, once, with its Min-SE.
		var res *sipgo.ErrDialogResponse
		if attempt > 0 || !errors.As(err, &res) || res.Res.StatusCode != statusIntervalTooSmall {
			return nil, err
		}
		m := parseMinSE(res.Res)
		if m <= se {
			return nil, err
		}
		se = m
		c.log.Info("outbound call: 422, asking again with the trunk's Min-SE", "sessionExpires", se)
		req = req.Clone()
		req.RemoveHeader("Via")
		req.ReplaceHeader(sip.NewHeader("Session-Expires", sessionExpires{interval: se}.String()))
		req.ReplaceHeader(sip.NewHeader("Min-SE", strconv.FormatInt(int64(se/time.Second), 10)))
		if cseq := req.CSeq(); cseq != nil {
			cseq.SeqNo++
		}
	}
}

// stop ends the wait for an answer. Before any response no CANCEL may be
// sent (RFC 3261 9.1), so the INVITE is abandoned instead.
func (c *outCall) stop(why int32) {
	if !c.why.CompareAndSwap(0, why) {
		return
	}
	if c.gotResponse.Load() {
		c.cancel(errStopped) // WaitAnswer sends CANCEL
	} else {
		c.cancel(sipgo.WaitAnswerForceCancelErr)
	}
}

// inviteFailed reports why the INVITE did not connect.
func (c *outCall) inviteFailed(err error) {
	var res *sipgo.ErrDialogResponse
	switch {
	case errors.As(err, &res):
		code, msg := failure(res.Res.StatusCode, res.Res.Reason)
		c.log.Info("outbound call failed", "status", res.Res.StatusCode, "reason", wire.Quote(res.Res.Reason), "code", code)
		c.fail(code, msg)
		return
	}
	switch c.why.Load() {
	case stopHangup, stopClosing:
		c.log.Info("outbound call cancelled before answer")
		if c.why.Load() == stopClosing {
			c.fail(wire.CodeTrunkFailed, "the SIP gateway is shutting down")
		}
	case stopNoResponse:
		c.log.Warn("outbound call: no response from the trunk", "timeout", c.g.cfg.ResponseTimeout)
		c.fail(wire.CodeUnreachable, fmt.Sprintf("the trunk %s did not respond within %v", wire.Quote(c.trunk.Name), c.g.cfg.ResponseTimeout))
	case stopAnswerLimit:
		c.log.Info("outbound call: no answer", "timeout", c.g.cfg.AnswerTimeout)
		c.fail(wire.CodeNoAnswer, fmt.Sprintf("no answer within %v", c.g.cfg.AnswerTimeout))
	default:
		c.log.Warn("outbound call: INVITE failed", "err", err)
		c.fail(wire.CodeUnreachable, "the trunk "+c.trunk.Name+" cannot be reached")
	}
}

func (c *outCall) fail(code wire.Code, msg string) {
	c.d.Progress(trunk.Event{Kind: trunk.Failed, Code: code, Message: msg})
}

// bye ends an answered call.
func (c *outCall) bye(dlg *sipgo.DialogClientSession) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	bye := dlg.Bye
	if c.pracked.Load() {
		bye = func(ctx context.Context) error { return c.byeAfterPrack(ctx, dlg) }
	}
	if err := bye(ctx); err != nil {
		c.log.Warn("outbound call: BYE failed", "err", err)
		return
	}
	c.log.Info("outbound call: BYE sent")
}

// sendReinvite sends our current offer within a dialog (do) and ACKs the
// 200 (write); it returns the answer's SDP.
func sendReinvite(m *callMedia, target sip.Uri, do func(context.Context, *sip.Request) (*sip.Response, error),
	write func(*sip.Request) error, contact sip.ContactHeader) ([]byte, error) {
	offer, err := m.offer()
	if err != nil {
		return nil, err
	}
	req := sip.NewRequest(sip.INVITE, target)
	req.AppendHeader(sip.HeaderClone(&contact))
	addCaps(req)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	res, err := do(ctx, req)
	if err != nil {
		return nil, err
	}
	if !res.IsSuccess() {
		return nil, fmt.Errorf("re-INVITE: %d %s", res.StatusCode, wire.Quote(res.Reason))
	}
	ack := sip.NewRequest(sip.ACK, target)
	if err := write(ack); err != nil {
		return nil, fmt.Errorf("re-INVITE ACK: %w", err)
	}
	return res.Body(), nil
}

func (c *outCall) onDTMF(digit byte) {
	if c.d.DTMF != nil {
		c.d.DTMF(digit)
	}
}

// SendAudioRaw implements trunk.Call: the app's audio toward the far
// end, once answered.
func (c *outCall) SendAudioRaw(raw []byte) bool {
	if !c.answered.Load() {
		return false
	}
	return c.m.sess.SendAudioRaw(raw)
}

// SendDTMF implements trunk.Call with an RFC 4733 event.
func (c *outCall) SendDTMF(digit byte) {
	if !c.answered.Load() {
		return
	}
	if err := c.m.sess.SendDTMF(digit); err != nil {
		c.log.Warn("outbound call: DTMF", "digit", string(digit), "err", err)
	}
}

// Hold implements trunk.Call: a re-INVITE, sent from the call's
// goroutine.
func (c *outCall) Hold(on bool) {
	select {
	case c.holdCh <- on:
	default:
		c.log.Warn("outbound call: hold requests piling up; one dropped", "hold", on)
	}
}

// Hangup implements trunk.Call: CANCEL while ringing, BYE once
// answered.
func (c *outCall) Hangup() {
	c.hangupOnce.Do(func() {
		close(c.hangupCh)
		c.stop(stopHangup)
	})
}

// hangup is the gateway closing: end the call and wait until it has.
func (c *outCall) hangup() {
	c.why.CompareAndSwap(0, stopClosing)
	c.Hangup()
	<-c.done
}

func (c *outCall) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if dlg := c.dlg.Load(); dlg != nil {
		if err := dlg.ReadBye(req, tx); err != nil {
			c.log.Warn("outbound call: BYE", "err", err)
		}
		return
	}
	// A BYE on an early dialog: the far end gave up before answering.
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	c.Hangup()
}

func (c *outCall) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	d := c.dg.Load()
	if d == nil || !c.answered.Load() {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 491, "Request Pending", nil))
		return
	}
	d.answerRefresh(req, tx)
}

// onUpdate takes an UPDATE (RFC 3311): a session refresh, or a new offer.
// One in the early dialog (before the 200) gets 491 for a retry.
func (c *outCall) onUpdate(req *sip.Request, tx sip.ServerTransaction) { c.onReinvite(req, tx) }

// onInfo takes an INFO: DTMF, or a keep-alive.
func (c *outCall) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	d := c.dg.Load()
	if d == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
		return
	}
	d.onInfo(req, tx)
}

func (c *outCall) sipContact() sip.ContactHeader {
	from := c.trunk.CallerID
	if from == "" {
		from = c.d.From
	}
	return c.g.contact(from, c.trunk.Transport)
}

func (c *outCall) onAck(req *sip.Request, _ sip.ServerTransaction) {
	if d := c.dg.Load(); d != nil {
		d.onAck(req)
	}
}

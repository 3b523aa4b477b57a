package sipgw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/onecxi/phone/server/sipgw/media"
	"github.com/onecxi/phone/wire"
)

// What we tell peers we do: the methods we take (Allow, in every 405 and in
// our INVITEs and 2xx) and the extensions we support (Supported, RFC 3261
// section 20.37): session timers (RFC 4028) and reliable provisional
// responses (RFC 3262).
const (
	allowMethods     = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, PRACK"
	supportedOptions = "timer, 100rel"
)

// Warning codes for 488 (RFC 3261 section 20.43).
const (
	warnMediaUnavailable   = 304 // Media type not available
	warnIncompatibleFormat = 305 // Incompatible media format
	warnMisc               = 399 // Miscellaneous warning
)

// registerExtensions adds the handlers for what the base gateway does not
// take: UPDATE, INFO, PRACK, and 405 (with Allow) for every other method.
func (g *Gateway) registerExtensions(srv *sipgo.Server) {
	srv.OnUpdate(g.onUpdate)
	srv.OnInfo(g.onInfo)
	srv.OnPrack(g.onPrack)
	// Transfers are not supported: 405 tells the peer to keep the call
	// itself (a PBX then bridges the transfer on its side).
	srv.OnRefer(g.methodNotAllowed)
	srv.OnNoRoute(g.methodNotAllowed)
}

// Calls that take these requests within their dialog.
type (
	updateTaker interface {
		onUpdate(req *sip.Request, tx sip.ServerTransaction)
	}
	infoTaker interface {
		onInfo(req *sip.Request, tx sip.ServerTransaction)
	}
	prackTaker interface {
		onPrack(req *sip.Request, tx sip.ServerTransaction)
	}
)

func (g *Gateway) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	// Admitted as every in-dialog request is (dialog.go): the dialog's
	// tags, from its peer.
	dc := g.inDialog(req, tx)
	if dc == nil {
		return
	}
	c, _ := dc.(updateTaker)
	if c == nil {
		respondNoDialog(req, tx)
		return
	}
	c.onUpdate(req, tx)
}

func (g *Gateway) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	// Admitted as every in-dialog request is (dialog.go): the dialog's
	// tags, from its peer.
	dc := g.inDialog(req, tx)
	if dc == nil {
		return
	}
	c, _ := dc.(infoTaker)
	if c == nil {
		respondNoDialog(req, tx)
		return
	}
	c.onInfo(req, tx)
}

func (g *Gateway) onPrack(req *sip.Request, tx sip.ServerTransaction) {
	// Admitted as every in-dialog request is (dialog.go): the dialog's
	// tags, from its peer.
	dc := g.inDialog(req, tx)
	if dc == nil {
		return
	}
	c, _ := dc.(prackTaker)
	if c == nil {
		respondNoDialog(req, tx)
		return
	}
	c.onPrack(req, tx)
}

func respondNoDialog(req *sip.Request, tx sip.ServerTransaction) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
}

// methodNotAllowed answers a method we do not take: 405 with Allow (RFC
// 3261 section 8.2.1 requires it), or 501 for a method SIP does not define.
// An ACK is never answered.
func (g *Gateway) methodNotAllowed(req *sip.Request, tx sip.ServerTransaction) {
	if req.IsAck() {
		return
	}
	code, reason := sip.StatusMethodNotAllowed, "Method Not Allowed"
	switch req.Method {
	case sip.REFER, sip.MESSAGE, sip.SUBSCRIBE, sip.NOTIFY, sip.PUBLISH, sip.REGISTER:
	default:
		code, reason = sip.StatusNotImplemented, "Not Implemented"
	}
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	_ = tx.Respond(res)
}

// addCaps adds what we allow and support to a response or request.
func addCaps(msg interface{ AppendHeader(sip.Header) }) {
	msg.AppendHeader(sip.NewHeader("Allow", allowMethods))
	msg.AppendHeader(sip.NewHeader("Supported", supportedOptions))
}

// unsupportedRequire lists the option tags req requires that we do not
// support (RFC 3261 section 8.2.2.3).
func unsupportedRequire(req *sip.Request) []string {
	var bad []string
	for _, v := range headerValues(req, "Require") {
		switch strings.ToLower(v) {
		case "timer", "100rel":
		default:
			bad = append(bad, v)
		}
	}
	return bad
}

// rejectUnsupported answers 420 Bad Extension listing the tags in
// Unsupported when req requires something we lack; it reports whether it
// did.
func rejectUnsupported(req *sip.Request, tx sip.ServerTransaction, log *slog.Logger) bool {
	bad := unsupportedRequire(req)
	if len(bad) == 0 {
		return false
	}
	tags := make([]string, 0, len(bad))
	for _, b := range bad {
		tags = append(tags, quoteTag(b))
	}
	log.Info("request requires unsupported extensions: 420", "method", req.Method, "require", strings.Join(tags, ","))
	res := sip.NewResponseFromRequest(req, sip.StatusBadExtension, "Bad Extension", nil)
	res.AppendHeader(sip.NewHeader("Unsupported", strings.Join(tags, ", ")))
	addCaps(res)
	_ = tx.Respond(res)
	return true
}

// quoteTag keeps an option tag from the wire fit to echo in a header: a
// token (RFC 3261 section 25.1) of at most 32 characters; anything else
// becomes "invalid".
func quoteTag(s string) string {
	if len(s) == 0 || len(s) > 32 {
		return "invalid"
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-.!%*_+`'~", r)) {
			return "invalid"
		}
	}
	return s
}

// reject422 answers a session interval below our minimum (RFC 4028
// section 9).
func reject422(req *sip.Request, tx sip.ServerTransaction, log *slog.Logger) {
	log.Info("session interval too small: 422", "method", req.Method, "min", minSE)
	res := sip.NewResponseFromRequest(req, statusIntervalTooSmall, "Session Interval Too Small", nil)
	res.AppendHeader(sip.NewHeader("Min-SE", strconv.FormatInt(int64(minSE/time.Second), 10)))
	_ = tx.Respond(res)
}

// warning is a Warning header from us (RFC 3261 section 20.43).
func (g *Gateway) warning(code int, text string) sip.Header {
	return sip.NewHeader("Warning", fmt.Sprintf("%d %s %q", code, g.extIP, text))
}

// respond488 refuses an offer we cannot take, saying why in a Warning.
func (g *Gateway) respond488(req *sip.Request, tx sip.ServerTransaction, err error) {
	res := sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
	res.AppendHeader(g.mediaWarning(err))
	_ = tx.Respond(res)
}

// mediaWarning is the Warning for an offer that err refused.
func (g *Gateway) mediaWarning(err error) sip.Header {
	switch {
	case errors.Is(err, media.ErrNoCommonCodec):
		return g.warning(warnIncompatibleFormat, "Incompatible media format: we take PCMU and PCMA")
	case errors.Is(err, media.ErrNoAudio):
		return g.warning(warnMediaUnavailable, "Media type not available: we take one audio stream")
	case errors.Is(err, errNoOffer):
		return g.warning(warnMisc, "An INVITE without an SDP offer is not supported")
	}
	return g.warning(warnMisc, "Malformed or unusable SDP")
}

// errNoOffer: an initial INVITE without SDP.
var errNoOffer = errors.New("no SDP offer")

// dialog is what inbound and outbound calls share once their dialog
// exists: answering the far end's re-INVITEs and UPDATEs (session refresh,
// hold, a new address, offerless re-INVITE), its INFO digits, the session
// timer, and the requests we send (hold, refresh), one at a time.
type dialog struct {
	g       *Gateway
	log     *slog.Logger
	m       *callMedia
	contact sip.ContactHeader
	timer   *sessionTimer

	// Our requests within the dialog; do sends one and waits for its final
	// response, write sends an ACK.
	do     func(context.Context, *sip.Request) (*sip.Response, error)
	write  func(*sip.Request) error
	target func() sip.Uri
	// onHold tells the app the far end now holds it (or no longer does).
	onHold func(held bool)
	// onDTMF passes a digit from an INFO.
	onDTMF func(digit byte)
	// confirmed reports whether the session is up (the INVITE was
	// answered): timers run only then.
	confirmed func() bool

	reqMu sync.Mutex // our requests, one at a time (RFC 3261 14.1)

	mu            sync.Mutex
	peerUpdate    bool   // the far end accepts UPDATE
	offerlessCSeq uint32 // an offerless re-INVITE we answered with an offer: its ACK has the answer
}

// answerRefresh answers the far end's re-INVITE or UPDATE: a session
// refresh, an offer (hold, resume, a new address), or, in a re-INVITE
// without SDP, a request for our offer (in the 200; the answer comes in the
// ACK).
func (d *dialog) answerRefresh(req *sip.Request, tx sip.ServerTransaction) {
	if rejectUnsupported(req, tx, d.log) {
		return
	}
	o := negotiateUAS(req)
	if o.tooSmall {
		reject422(req, tx, d.log)
		return
	}
	var body []byte
	heldChanged, held := false, false
	switch {
	case len(req.Body()) > 0:
		was := d.m.remoteHeld()
		sdp, h, err := d.m.answer(req.Body())
		if err != nil {
			d.log.Warn("cannot answer the offer: 488", "method", req.Method, "err", err)
			d.g.respond488(req, tx, err)
			return
		}
		body, held, heldChanged = sdp, h, h != was
	case req.IsInvite():
		sdp, err := d.m.reoffer()
		if err != nil {
			d.log.Error("offerless re-INVITE: no offer", "err", err)
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "Server Internal Error", nil))
			return
		}
		body = sdp
		d.mu.Lock()
		d.offerlessCSeq = req.CSeq().SeqNo
		d.mu.Unlock()
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", body)
	if body != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	res.AppendHeader(sip.HeaderClone(&d.contact))
	addCaps(res)
	for _, h := range o.responseHeaders() {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		d.log.Warn("respond", "method", req.Method, "err", err)
		return
	}
	if d.confirmed() {
		d.timer.set(o.se, false)
	}
	d.log.Info("in-dialog request answered", "method", req.Method, "offer", len(req.Body()) > 0,
		"sessionExpires", o.se.interval, "refresher", o.se.refresher, "farEndHolds", held)
	if heldChanged {
		d.onHold(held)
	}
}

// onAck takes the ACK of a re-INVITE; the one of an offerless re-INVITE
// carries the answer to our offer.
func (d *dialog) onAck(req *sip.Request) {
	d.mu.Lock()
	pending := d.offerlessCSeq != 0 && req.CSeq() != nil && req.CSeq().SeqNo == d.offerlessCSeq
	if pending {
		d.offerlessCSeq = 0
	}
	d.mu.Unlock()
	if !pending {
		return
	}
	if len(req.Body()) == 0 {
		d.log.Warn("offerless re-INVITE: the ACK has no answer; media unchanged")
		return
	}
	was := d.m.remoteHeld()
	held, err := d.m.applyReofferAnswer(req.Body())
	if err != nil {
		// The ACK cannot be refused: the session goes on as it was (RFC
		// 3261 section 13.3.1.4 would have us end it; a carrier would
		// rather keep the call).
		d.log.Warn("offerless re-INVITE: unusable answer in the ACK; media unchanged", "err", err)
		return
	}
	d.log.Info("offerless re-INVITE: answer applied", "farEndHolds", held)
	if held != was {
		d.onHold(held)
	}
}

// onInfo takes an INFO: DTMF as application/dtmf-relay ("Signal=5") or
// application/dtmf ("5") reaches the app like an RFC 4733 event; an empty
// INFO (a keep-alive) gets 200; other bodies 415.
func (d *dialog) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	if rejectUnsupported(req, tx, d.log) {
		return
	}
	body := req.Body()
	if len(body) == 0 {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct, _, _ = strings.Cut(h.Value(), ";")
		ct = strings.ToLower(strings.TrimSpace(ct))
	}
	var signal string
	switch ct {
	case "application/dtmf-relay":
		for _, line := range strings.Split(string(body), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				signal = strings.TrimSpace(v)
				break
			}
		}
	case "application/dtmf":
		signal = strings.TrimSpace(string(body))
	default:
		res := sip.NewResponseFromRequest(req, sip.StatusUnsupportedMediaType, "Unsupported Media Type", nil)
		res.AppendHeader(sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		_ = tx.Respond(res)
		return
	}
	digit, ok := infoDigit(signal)
	if !ok {
		d.log.Info("INFO: not a DTMF digit", "signal", wire.Quote(signal))
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad DTMF Signal", nil))
		return
	}
	// The digit is passed on before the 200, so that digits sent one
	// after another's response reach the app in order.
	if digit == 0 {
		d.log.Debug("INFO: DTMF A-D is not passed on", "signal", wire.Quote(signal))
	} else {
		d.log.Info("INFO DTMF", "digit", string(digit))
		d.onDTMF(digit)
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
}

// infoDigit maps an INFO signal to a digit the app takes: 0-9, * and #
// (also written 10 and 11); A-D (12-15) are valid but give 0.
func infoDigit(s string) (byte, bool) {
	switch s = strings.ToUpper(s); {
	case len(s) == 1 && (s[0] >= '0' && s[0] <= '9' || s[0] == '*' || s[0] == '#'):
		return s[0], true
	case s == "10":
		return '*', true
	case s == "11":
		return '#', true
	case len(s) == 1 && s[0] >= 'A' && s[0] <= 'D', s == "12", s == "13", s == "14", s == "15":
		return 0, true
	}
	return 0, false
}

// setPeerUpdate records whether the far end takes UPDATE (its Allow).
func (d *dialog) setPeerUpdate(msg headerReader) {
	d.mu.Lock()
	d.peerUpdate = allowsMethod(msg, sip.UPDATE)
	d.mu.Unlock()
}

// Outcomes of a refresh we send.
type refreshResult int

const (
	refreshed     refreshResult = iota // the session goes on
	refreshLater                       // try again later (491)
	refreshGone                        // the far end no longer knows the dialog: end the call
	refreshFailed                      // refused; the expiry decides
)

// refresh sends our session refresh (we are the refresher): an UPDATE
// without SDP when the far end allows it, else a re-INVITE with our
// current offer. It reports whether the call should end.
func (d *dialog) refresh() (end bool) {
	se, we := d.timer.current()
	if !we || se.interval == 0 {
		return false
	}
	d.mu.Lock()
	method := sip.INVITE
	if d.peerUpdate {
		method = sip.UPDATE
	}
	d.mu.Unlock()
	for attempt := 0; attempt < 3; attempt++ {
		res, err := d.sendRefresh(method, se)
		switch r := d.refreshOutcome(method, res, err); r {
		case refreshed:
			return false
		case refreshLater:
			d.timer.retryRefresh(refreshRetry)
			return false
		case refreshGone:
			d.log.Warn("session refresh: the far end no longer has the call", "method", method, "err", err)
			return true
		}
		switch {
		case res != nil && res.StatusCode == statusIntervalTooSmall:
			if m := parseMinSE(res); m > se.interval {
				se.interval = m
				continue
			}
		case method == sip.UPDATE:
			// 405, 501 or another refusal: a re-INVITE is what every UA
			// takes.
			d.mu.Lock()
			d.peerUpdate = false
			d.mu.Unlock()
			method = sip.INVITE
			continue
		}
		break
	}
	d.log.Warn("session refresh refused; the session ends at its expiry unless the far end refreshes")
	return false
}

// refreshOutcome classifies the response (or error) to a refresh and, on
// success, applies the session interval it grants.
func (d *dialog) refreshOutcome(method sip.RequestMethod, res *sip.Response, err error) refreshResult {
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sip.ErrTransactionTimeout) {
			return refreshGone // 408 (RFC 4028 section 10)
		}
		d.log.Warn("session refresh failed", "method", method, "err", err)
		return refreshFailed
	}
	switch {
	case res.IsSuccess():
		se, ok := parseSessionExpires(res)
		if ok && se.refresher == "" {
			se.refresher = refresherUAC
		}
		if !ok {
			se = sessionExpires{}
		}
		d.timer.set(se, true)
		d.log.Info("session refreshed", "method", method, "sessionExpires", se.interval, "refresher", se.refresher)
		return refreshed
	case res.StatusCode == sip.StatusCallTransactionDoesNotExists || res.StatusCode == sip.StatusRequestTimeout:
		return refreshGone
	case res.StatusCode == 491:
		return refreshLater
	}
	d.log.Warn("session refresh refused", "method", method, "status", res.StatusCode, "reason", wire.Quote(res.Reason))
	return refreshFailed
}

// sendRefresh sends one refresh request and, for a re-INVITE, its ACK.
func (d *dialog) sendRefresh(method sip.RequestMethod, se sessionExpires) (*sip.Response, error) {
	d.reqMu.Lock()
	defer d.reqMu.Unlock()
	target := d.target()
	req := sip.NewRequest(method, target)
	req.AppendHeader(sip.HeaderClone(&d.contact))
	req.AppendHeader(sip.NewHeader("Session-Expires", sessionExpires{interval: se.interval, refresher: refresherUAC}.String()))
	req.AppendHeader(sip.NewHeader("Min-SE", strconv.FormatInt(int64(minSE/time.Second), 10)))
	addCaps(req)
	if method == sip.INVITE {
		offer, err := d.m.offer()
		if err != nil {
			return nil, err
		}
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(offer)
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	res, err := d.do(ctx, req)
	if err != nil || method != sip.INVITE || !res.IsSuccess() {
		return res, err
	}
	if err := d.write(sip.NewRequest(sip.ACK, target)); err != nil {
		return nil, fmt.Errorf("re-INVITE ACK: %w", err)
	}
	if err := d.m.applyAnswer(res.Body()); err != nil {
		d.log.Warn("session refresh: the re-INVITE's answer", "err", err)
	}
	return res, nil
}

// hold tells the far end that we hold it (on) or resume: a re-INVITE with
// our offer, its ACK, and the answer applied to the media.
func (d *dialog) hold(on bool) {
	if !d.m.setLocalHold(on) {
		return
	}
	d.reqMu.Lock()
	defer d.reqMu.Unlock()
	answer, err := sendReinvite(d.m, d.target(), d.do, d.write, d.contact)
	if err != nil {
		d.log.Warn("hold re-INVITE failed", "hold", on, "err", err)
		return
	}
	if err := d.m.applyAnswer(answer); err != nil {
		d.log.Warn("hold re-INVITE answer", "err", err)
	}
	d.m.applyHold()
	d.log.Info("hold", "on", on)
}

package sipgw

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Reliable provisional responses (RFC 3262, 100rel).
//
// Inbound: when the INVITE has Require: 100rel our 180 is sent reliably —
// with Require: 100rel and RSeq, retransmitted from T1 doubling until its
// PRACK arrives — and an INVITE whose reliable 180 is never PRACKed within
// 64*T1 is refused with 500. With only Supported: 100rel the 180 is sent as
// usual (RFC 3262 leaves it to us; it carries no SDP, so nothing depends on
// its arrival). Our 180 carries no SDP, so the 200 does not wait for the
// PRACK (RFC 3262 section 3).
//
// Outbound: our INVITE says Supported: 100rel, and each reliable 18x from
// the trunk is PRACKed once (a retransmission, with an RSeq already seen,
// is not). An SDP answer in a reliable 18x stands for the call if the 200
// has none.

// rack is an RAck header's value: the RSeq and CSeq it acknowledges.
type rack struct {
	rseq, cseq uint32
	method     string
}

func parseRAck(v string) (rack, bool) {
	f := strings.Fields(v)
	if len(f) != 3 {
		return rack{}, false
	}
	rseq, err1 := strconv.ParseUint(f[0], 10, 32)
	cseq, err2 := strconv.ParseUint(f[1], 10, 32)
	if err1 != nil || err2 != nil {
		return rack{}, false
	}
	return rack{rseq: uint32(rseq), cseq: uint32(cseq), method: strings.ToUpper(f[2])}, true
}

// parseRSeq reads a response's RSeq header.
func parseRSeq(res *sip.Response) (uint32, bool) {
	h := res.GetHeader("RSeq")
	if h == nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
	if err != nil || n == 0 {
		return 0, false
	}
	return uint32(n), true
}

// newRSeq is the first RSeq of a dialog: random in 1..2^31-1 (RFC 3262
// section 3).
func newRSeq() uint32 { return rand.Uint32N(1<<31-1) + 1 }

// ringReliably sends our 180 reliably (the INVITE required 100rel) and
// retransmits it until its PRACK, a final response, or prackTimeout, when
// it signals noPrack. It runs on the call's goroutine; the retransmissions
// on one of their own.
func (c *inCall) ringReliably() {
	if c.relRSeq != 0 {
		return // one reliable 180 is enough
	}
	c.relRSeq = newRSeq()
	res := sip.NewResponseFromRequest(c.dtx.InviteRequest, sip.StatusRinging, "Ringing", nil)
	res.AppendHeader(sip.NewHeader("Require", "100rel"))
	res.AppendHeader(sip.NewHeader("RSeq", strconv.FormatUint(uint64(c.relRSeq), 10)))
	res.AppendHeader(sip.HeaderClone(&c.contact))
	addCaps(res)
	again := res.Clone()
	if err := c.dtx.WriteResponse(res); err != nil {
		c.log.Warn("inbound call: reliable 180", "err", err)
		return
	}
	c.log.Info("inbound call: reliable 180 sent", "rseq", c.relRSeq)
	go func() {
		deadline := time.NewTimer(prackTimeout)
		defer deadline.Stop()
		interval := sip.T1
		for {
			t := time.NewTimer(interval)
			select {
			case <-c.pracked:
				t.Stop()
				return
			case <-c.finalSent:
				t.Stop()
				return
			case <-c.dtx.Context().Done():
				t.Stop()
				return
			case <-deadline.C:
				t.Stop()
				c.log.Warn("inbound call: the reliable 180 was never PRACKed", "after", prackTimeout)
				signal(c.noPrack)
				return
			case <-t.C:
			}
			if err := c.tx.Respond(again.Clone()); err != nil {
				return
			}
			interval *= 2
		}
	}()
}

// onPrack takes the PRACK of our reliable 180.
func (c *inCall) onPrack(req *sip.Request, tx sip.ServerTransaction) {
	r, ok := rack{}, false
	if h := req.GetHeader("RAck"); h != nil {
		r, ok = parseRAck(h.Value())
	}
	if !ok || c.relRSeq == 0 || r.rseq != c.relRSeq || r.cseq != c.dtx.InviteRequest.CSeq().SeqNo || r.method != string(sip.INVITE) {
		// RFC 3262 section 3: a PRACK matching no unacknowledged reliable
		// provisional response gets 481.
		respondNoDialog(req, tx)
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	c.prackOnce.Do(func() { close(c.pracked) })
	c.log.Info("inbound call: PRACK received", "rseq", r.rseq)
}

// onPrack: an outbound call never sends reliable provisional responses.
func (c *outCall) onPrack(req *sip.Request, tx sip.ServerTransaction) {
	respondNoDialog(req, tx)
}

// prackIfReliable PRACKs a reliable provisional response from the trunk. It
// runs within WaitAnswer (so the dialog is not used concurrently) and
// does not wait for the PRACK's response.
func (c *outCall) prackIfReliable(dlg *sipgo.DialogClientSession, res *sip.Response) {
	if res.StatusCode <= 100 || res.StatusCode >= 200 || !hasOption(res, "Require", "100rel") {
		return
	}
	rseq, ok := parseRSeq(res)
	if !ok {
		c.log.Warn("outbound call: a reliable provisional response without RSeq", "status", res.StatusCode)
		return
	}
	if c.lastRSeq != 0 && rseq <= c.lastRSeq {
		return // a retransmission, already PRACKed
	}
	c.lastRSeq = rseq
	if len(res.Body()) > 0 {
		c.earlySDP = res.Body()
	}
	target := dlg.InviteRequest.Recipient
	if ct := res.Contact(); ct != nil {
		target = ct.Address
	}
	req := sip.NewRequest(sip.PRACK, target)
	req.AppendHeader(sip.NewHeader("RAck", fmt.Sprintf("%d %d INVITE", rseq, dlg.InviteRequest.CSeq().SeqNo)))
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	tx, err := dlg.TransactionRequest(ctx, req)
	if err != nil {
		cancel()
		c.log.Warn("outbound call: PRACK", "err", err)
		return
	}
	c.pracked.Store(true)
	c.log.Info("outbound call: PRACK sent", "status", res.StatusCode, "rseq", rseq)
	go func() {
		defer cancel()
		defer tx.Terminate()
		for {
			select {
			case r := <-tx.Responses():
				if r.IsProvisional() {
					continue
				}
				if !r.IsSuccess() {
					c.log.Warn("outbound call: PRACK refused", "status", r.StatusCode)
				}
				return
			case <-tx.Done():
				return
			case <-ctx.Done():
				return
			}
		}
	}()
}

// ackAfterPrack ACKs the 200 of an INVITE whose dialog carried a PRACK:
// sipgo's Ack would number the ACK after the PRACK, but an ACK has its
// INVITE's CSeq (RFC 3261 section 13.2.2.4).
func (c *outCall) ackAfterPrack(dlg *sipgo.DialogClientSession) error {
	inv, res := dlg.InviteRequest, dlg.InviteResponse
	target := inv.Recipient
	if ct := res.Contact(); ct != nil {
		target = ct.Address
	}
	ack := sip.NewRequest(sip.ACK, *target.Clone())
	ack.AppendHeader(sip.HeaderClone(inv.From()))
	ack.AppendHeader(sip.HeaderClone(res.To()))
	ack.AppendHeader(sip.HeaderClone(inv.CallID()))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.ACK})
	maxFwd := sip.MaxForwardsHeader(70)
	ack.AppendHeader(&maxFwd)
	rrs := res.GetHeaders("Record-Route")
	for i := len(rrs) - 1; i >= 0; i-- {
		ack.AppendHeader(sip.NewHeader("Route", rrs[i].Value()))
	}
	if ct := inv.Contact(); ct != nil {
		ack.AppendHeader(sip.HeaderClone(ct))
	}
	ack.SetTransport(inv.Transport())
	return dlg.UA.Client.WriteRequest(ack, func(cl *sipgo.Client, r *sip.Request) error {
		if err := sipgo.ClientRequestAddVia(cl, r); err != nil {
			return err
		}
		r.SetBody(nil)
		return nil
	})
}

// byeAfterPrack ends a call whose dialog carried a PRACK: sipgo's Bye
// wants the dialog state its Ack sets.
func (c *outCall) byeAfterPrack(ctx context.Context, dlg *sipgo.DialogClientSession) error {
	defer dlg.Close()
	target := dlg.InviteRequest.Recipient
	if ct := dlg.InviteResponse.Contact(); ct != nil {
		target = ct.Address
	}
	tx, err := dlg.TransactionRequest(ctx, sip.NewRequest(sip.BYE, target))
	if err != nil {
		return err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			if !res.IsSuccess() {
				return fmt.Errorf("BYE: %d", res.StatusCode)
			}
			return nil
		case <-tx.Done():
			return tx.Err()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

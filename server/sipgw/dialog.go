package sipgw

import (
	"log/slog"
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"github.com/onecxi/phone/wire"
)

// dialogID identifies a call's SIP dialog (RFC 3261 §12: Call-ID, local
// tag, remote tag) and says where the peer's requests may come from.
type dialogID struct {
	callID string
	// localTag is ours: the To tag of the requests the peer sends us.
	localTag   string
	localKnown bool
	// remoteTag is the peer's: the From tag of its requests. It is not known
	// on an outbound call before the answer (early dialogs: each ringing
	// branch has its own).
	remoteTag   string
	remoteKnown bool
	// peers are the addresses the peer's requests may come from: the
	// trunk's allow-list (its host's addresses by default), and the address
	// the INVITE came from (inbound) or its answer came from (outbound).
	peers allowList
}

// matches reports whether req belongs to d by RFC 3261 §12.2.2: the same
// Call-ID, our tag in To and the peer's in From (byte for byte). A tag not
// yet known must still be present in To (a request within a dialog has
// one); the peer's tag may be absent only if it was (an RFC 2543 peer).
func (d dialogID) matches(req *sip.Request) bool {
	id := req.CallID()
	to, from := req.To(), req.From()
	if id == nil || to == nil || from == nil || id.Value() != d.callID {
		return false
	}
	toTag, hasTo := to.Params.Get("tag")
	fromTag, _ := from.Params.Get("tag")
	switch {
	case d.localKnown && (!hasTo || toTag != d.localTag):
		return false
	case !d.localKnown && toTag == "":
		return false
	case d.remoteKnown && fromTag != d.remoteTag:
		return false
	}
	return true
}

// hostPrefix is the prefix of ip alone.
func hostPrefix(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen())
}

// peersOf are the addresses a call whose INVITE came from ip may hear its
// peer from: ip, and the allow-list of the trunk that admitted ip.
func (g *Gateway) peersOf(ip netip.Addr) allowList {
	peers := allowList{hostPrefix(ip)}
	for i := range g.cfg.Trunks {
		if g.trunkAllow[i].allows(ip) {
			return append(peers, g.trunkAllow[i]...)
		}
	}
	return peers
}

// trunkPeers is a copy of the allow-list of the trunk named name.
func (g *Gateway) trunkPeers(name string) allowList {
	for i, t := range g.cfg.Trunks {
		if t.Name == name && i < len(g.trunkAllow) {
			return append(allowList(nil), g.trunkAllow[i]...)
		}
	}
	return nil
}

// dialogIdentity implements dialogCall for an inbound call: its dialog is
// known from the INVITE (sipgo picks our To tag when it reads it).
func (c *inCall) dialogIdentity() dialogID {
	inv := c.dtx.InviteRequest
	d := dialogID{callID: callIDOf(inv), localKnown: true, remoteKnown: true}
	if to := inv.To(); to != nil {
		d.localTag, _ = to.Params.Get("tag")
	}
	if from := inv.From(); from != nil {
		d.remoteTag, _ = from.Params.Get("tag")
	}
	if ip, ok := sourceIP(inv.Source()); ok {
		d.peers = c.g.peersOf(ip)
	}
	return d
}

// dialogIdentity implements dialogCall for an outbound call: our tag is
// known once the INVITE is sent (see noteInvite), the far end's once it
// answered.
func (c *outCall) dialogIdentity() dialogID {
	d := dialogID{callID: c.sipID, peers: c.g.trunkPeers(c.trunk.Name)}
	d.localTag, d.localKnown = c.g.inviteTag(c.sipID)
	if dlg := c.dlg.Load(); dlg != nil {
		if from := dlg.InviteRequest.From(); from != nil {
			d.localTag, d.localKnown = from.Params.Get("tag")
		}
		if res := dlg.InviteResponse; res != nil {
			if to := res.To(); to != nil {
				d.remoteTag, _ = to.Params.Get("tag")
				d.remoteKnown = true
			}
			if ip, ok := sourceIP(res.Source()); ok {
				d.peers = append(d.peers, hostPrefix(ip))
			}
		}
	}
	return d
}

// noteInvite records our tag of an outbound call's INVITE (From's tag) so
// that requests on its early dialogs are matched on it too; outbound.go
// calls it with the INVITE before sending it. Without it, an early dialog's
// requests need some To tag, not ours; once answered the tag is read from
// the dialog anyway.
func (g *Gateway) noteInvite(callID string, invite *sip.Request) {
	from := invite.From()
	if from == nil {
		return
	}
	tag, ok := from.Params.Get("tag")
	if !ok {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, tracked := g.calls[callID]; tracked {
		g.inviteTags[callID] = tag
	}
}

// inviteTag is what noteInvite recorded for callID.
func (g *Gateway) inviteTag(callID string) (string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	tag, ok := g.inviteTags[callID]
	return tag, ok
}

// admitInDialog decides on a request within a dialog (BYE, re-INVITE,
// UPDATE, INFO, ACK, CANCEL): the call it belongs to, or the status to
// refuse it with and why. A source on no trunk's allow-list gets 403
// whether or not the Call-ID is a call's (so a stranger cannot probe for
// live calls); an allowed source gets 481 for a Call-ID of no call or tags
// not the dialog's, and 403 when it is not the peer of the call it names.
func (g *Gateway) admitInDialog(req *sip.Request) (dialogCall, int, string) {
	ip, ok := sourceIP(req.Source())
	allowed := ok && g.allow.allows(ip)
	c := g.call(req)
	if c == nil {
		if !allowed {
			return nil, sip.StatusForbidden, reasonNotAllowed
		}
		return nil, sip.StatusCallTransactionDoesNotExists, reasonNoDialog
	}
	d := c.dialogIdentity()
	switch {
	case !ok || !d.peers.allows(ip):
		if !allowed {
			return nil, sip.StatusForbidden, reasonNotAllowed
		}
		return nil, sip.StatusForbidden, reasonNotPeer
	case !d.matches(req):
		return nil, sip.StatusCallTransactionDoesNotExists, reasonTags
	}
	return c, 0, ""
}

// inDialog admits a request within a dialog: it returns the call the
// request belongs to, or answers it itself (403 or 481, see admitInDialog;
// an ACK is never answered), logs the refusal (sampled) and returns nil,
// leaving the call untouched. Handlers of in-dialog requests (BYE,
// re-INVITE, ACK, UPDATE, INFO) call it instead of g.call:
//
//	c := g.inDialog(req, tx)
//	if c == nil {
//		return
//	}
func (g *Gateway) inDialog(req *sip.Request, tx sip.ServerTransaction) dialogCall {
	c, status, reason := g.admitInDialog(req)
	if c != nil {
		return c
	}
	g.refuse(req, tx, status, reason)
	return nil
}

// refuse logs req's refusal, sampled by source and reason, and answers it
// with status (an ACK gets nothing).
func (g *Gateway) refuse(req *sip.Request, tx sip.ServerTransaction, status int, reason string) {
	level, answered := slog.LevelWarn, any(status)
	if req.IsAck() {
		level, answered = slog.LevelInfo, "none" // a late ACK (after the call ended) is harmless
	}
	g.logSampled(level, "SIP request refused", req.Source(), req.Method.String()+": "+reason,
		"status", answered, "sipCallId", wire.Quote(callIDOf(req)), "transport", transportOf(req))
	if !req.IsAck() {
		_ = tx.Respond(sip.NewResponseFromRequest(req, status, statusText(status), nil))
	}
}

// statusText is the reason phrase of the statuses the gateway refuses with.
func statusText(status int) string {
	switch status {
	case sip.StatusForbidden:
		return "Forbidden"
	case sip.StatusCallTransactionDoesNotExists:
		return "Call/Transaction Does Not Exist"
	case sip.StatusBadRequest:
		return "Bad Request"
	}
	return "Refused"
}

package server

import (
	"context"
	"encoding/json"

	"github.com/onecxi/phone/wire"
)

// Questions one node puts to the others (Cluster.Ask), and their answers:
// where a call lives, what they hold of a callee, a decline, a hand-over.

// question is what a node asks the others (Cluster.Ask).
type question struct {
	Q       string      `json:"q"` // qFind, qRing, qDecline
	Account string      `json:"account"`
	CallID  string      `json:"callId,omitempty"`
	From    string      `json:"from,omitempty"`   // qFind without a call ID: the caller…
	Callee  string      `json:"callee,omitempty"` // …and the callee of a ringing call
	Caller  string      `json:"caller,omitempty"` // qRing: the caller's registered number
	Node    string      `json:"node,omitempty"`   // qAdopt: the node asked to adopt
	Call    *movingCall `json:"call,omitempty"`   // qAdopt: the call
}

const (
	qFind    = "find"
	qRing    = "ring"
	qDecline = "decline"
	qAdopt   = "adopt"
)

type answer struct {
	Here       bool      `json:"here,omitempty"`
	Devices    int       `json:"devices,omitempty"`
	CalleeBusy bool      `json:"calleeBusy,omitempty"`
	CallerBusy bool      `json:"callerBusy,omitempty"`
	Status     int       `json:"status,omitempty"`
	Code       wire.Code `json:"code,omitempty"`
	Message    string    `json:"message,omitempty"`
}

// ask puts q to the other nodes, handing each decoded answer to each.
func (b *bridge) ask(ctx context.Context, q question, each func(node string, a answer) bool) error {
	data, err := json.Marshal(q)
	if err != nil {
		return err
	}
	return b.c.Ask(ctx, data, func(node string, raw []byte) bool {
		var a answer
		if json.Unmarshal(raw, &a) != nil {
			return false
		}
		return each(node, a)
	})
}

// Answer implements ClusterHandler. Every node answers every question,
// "no" included, so the asker stops waiting once all have.
func (b *bridge) Answer(data []byte) []byte {
	var q question
	if len(data) > maxControlPacket || json.Unmarshal(data, &q) != nil {
		return nil
	}
	var a answer
	switch {
	case q.Q == qAdopt && q.Node == b.self:
		// The new home may never have met the account.
		ctx, cancel := context.WithTimeout(b.s.base, authStoreTimeout)
		acct := b.s.auth.lookup(ctx, q.Account)
		cancel()
		if acct != nil {
			a = b.handleAdopt(acct, q)
		}
	case q.Q == qAdopt:
	default:
		if acct := b.s.auth.known(q.Account); acct != nil {
			r := b.s.reg
			_ = r.do(func() { a = r.answerPeer(acct, q) })
		}
	}
	out, _ := json.Marshal(a)
	return out
}

// answerPeer answers another node's question about acct's calls.
func (r *registry) answerPeer(acct *account, q question) answer {
	var a answer
	st := r.byAcct[acct]
	if st == nil {
		return a
	}
	switch q.Q {
	case qFind:
		if q.CallID != "" {
			a.Here = st.calls[q.CallID] != nil || r.ended[q.CallID].acct == acct
		} else {
			c, answered := st.findRinging(q.From, q.Callee)
			a.Here = c != nil || answered
		}
	case qRing:
		a.Devices = len(st.events[q.Callee])
		a.CalleeBusy = st.inUse[q.Callee] != nil
		a.CallerBusy = q.Caller != "" && st.inUse[q.Caller] != nil
	case qDecline:
		if st.calls[q.CallID] != nil || r.ended[q.CallID].acct == acct {
			a.Here = true
			a.Status, a.Code, a.Message = r.decline(acct, q.CallID)
		}
	}
	return a
}

// ringPeersFor asks the other nodes what they hold of a start message's
// callee: their events connections, and whether callee or caller is in a
// call there. A cluster that does not answer in time rings what did.
func (s *Server) ringPeersFor(acct *account, m wire.Message) ringPeers {
	var p ringPeers
	callee := calleeOf(acct, m)
	if s.bridge == nil || callee == "" {
		return p
	}
	q := question{Q: qRing, Account: acct.name, Callee: callee}
	if wire.ValidNumber(m.RegisteredNumber) {
		q.Caller = m.RegisteredNumber
	}
	ctx, cancel := context.WithTimeout(s.base, ringPeersTimeout)
	defer cancel()
	err := s.bridge.ask(ctx, q, func(node string, a answer) bool {
		if a.Devices > 0 {
			p.nodes = append(p.nodes, node)
			p.devices += a.Devices
		}
		p.calleeBusy = p.calleeBusy || a.CalleeBusy
		p.callerBusy = p.callerBusy || a.CallerBusy
		return false
	})
	if err != nil {
		s.bridge.bad.Warn(s.log, "cluster: not every node said whether it holds the callee", "err", err)
	}
	return p
}

// declineElsewhere passes a decline this node has no call for to the
// call's home, if a node has it.
func (s *Server) declineElsewhere(ctx context.Context, acct *account, id string) (status int, code wire.Code, msg string, found bool) {
	ctx, cancel := context.WithTimeout(ctx, findTimeout)
	defer cancel()
	_ = s.bridge.ask(ctx, question{Q: qDecline, Account: acct.name, CallID: id}, func(_ string, a answer) bool {
		if a.Here {
			status, code, msg, found = a.Status, a.Code, a.Message, true
		}
		return a.Here
	})
	return status, code, msg, found
}

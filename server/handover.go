package server

import (
	"context"
	"encoding/json"
	"time"

	"github.com/onecxi/phone/wire"
)

// Hand-over: a draining node gives its calls to another node, so a rolling
// restart cuts none. A call can move when it is connected, between two
// phones that can resume (an app call: no server far end, no trunk). The
// draining node (1) takes a snapshot of it, (2) asks a live node that is
// not draining, the least loaded, to adopt it: the adopter makes the call
// with both parties lost, waiting for their resume as after any lost
// connection; then (3) it forgets the call, closes both parties' sockets
// with 4010 and tells the adopter the final hold and mute state (pktCommit,
// or that the call ended meanwhile). The phones resume through the load
// balancer, on any node, which finds the adopter and bridges them to it.
// The parties hear reconnecting/reconnected, as after a network change.

// movingCall is what a call's new home needs of it.
type movingCall struct {
	ID         string        `json:"id"`
	Account    string        `json:"account"`
	Kind       wire.CallKind `json:"kind"`
	Typ        callType      `json:"typ"`
	From       string        `json:"from"`
	Name       string        `json:"name,omitempty"`
	To         string        `json:"to"`
	Callee     string        `json:"callee"`
	PushFrom   string        `json:"pushFrom"`
	PushType   string        `json:"pushType"`
	AnsweredBy string        `json:"answeredBy,omitempty"`
	Created    time.Time     `json:"created"`
	Answered   time.Time     `json:"answered"`
	Held       uint32        `json:"held"`
	Nodes      string        `json:"nodes"` // the nodes that carried it so far
	Legs       [2]movingLeg  `json:"legs"`
}

type movingLeg struct {
	Number string               `json:"number"`
	Token  wire.ResumeTokenHash `json:"token"`
	Muted  bool                 `json:"muted,omitempty"`
}

// commitBody is pktCommit: the final state of a handed-over call.
type commitBody struct {
	Account string  `json:"account"`
	CallID  string  `json:"callId"`
	Held    uint32  `json:"held"`
	Muted   [2]bool `json:"muted"`
	Ended   bool    `json:"ended,omitempty"` // it ended before it could move: drop it
}

// handOverTimeout bounds one adoption.
const handOverTimeout = 2 * time.Second

// handOver moves every call that can move to other nodes, and returns how
// many moved. Calls that cannot (or when no node can take them) stay, and
// the drain waits for them as on a single node.
func (s *Server) handOver(ctx context.Context) int {
	var calls []movingCall
	_ = s.reg.do(func() {
		for _, c := range s.reg.calls {
			if m, ok := s.reg.snapshot(c); ok {
				calls = append(calls, m)
			}
		}
	})
	moved := 0
	for _, m := range calls {
		target := s.adopter()
		if target == "" {
			break
		}
		if !s.askAdopt(ctx, target, m) {
			continue
		}
		var commit commitBody
		_ = s.reg.do(func() { commit = s.reg.releaseMoved(m) })
		if err := s.bridge.sendJSON(target, pktCommit, 0, commit); err != nil {
			s.log.Warn("cluster: a handed-over call's final state was not sent", "callId", m.ID, "err", err)
		}
		if !commit.Ended {
			moved++
		}
	}
	if len(calls) > 0 {
		s.log.Info("calls handed over to other nodes", "moved", moved, "movable", len(calls))
	}
	return moved
}

// adopter is the live node, neither this one nor draining, with the
// fewest calls: "" if there is none.
func (s *Server) adopter() string {
	best, load := "", 0
	for _, n := range s.cluster.Nodes() {
		if n.ID == s.cfg.NodeID || n.Draining {
			continue
		}
		if best == "" || n.ActiveCalls < load {
			best, load = n.ID, n.ActiveCalls
		}
	}
	return best
}

func (s *Server) askAdopt(ctx context.Context, target string, m movingCall) bool {
	ctx, cancel := context.WithTimeout(ctx, handOverTimeout)
	defer cancel()
	ok := false
	err := s.bridge.ask(ctx, question{Q: qAdopt, Account: m.Account, Node: target, Call: &m}, func(node string, a answer) bool {
		ok = node == target && a.Here
		return node == target
	})
	if !ok {
		s.log.Warn("cluster: a node did not take a call; it stays until it ends", "node", wire.Quote(target), "callId", m.ID, "err", err)
	}
	return ok
}

// snapshot describes c for its new home, if it can move.
func (r *registry) snapshot(c *call) (movingCall, bool) {
	if c.state != stateActive || c.ep != nil || c.callee == "" {
		return movingCall{}, false
	}
	m := movingCall{ID: c.id, Account: c.st.acct.name, Kind: c.kind, Typ: c.typ, From: c.from, Name: c.name, To: c.to,
		Callee: c.callee, PushFrom: c.pushFrom, PushType: c.pushType, AnsweredBy: c.answeredBy,
		Created: c.created, Answered: c.answeredAt, Held: c.held.Load(), Nodes: c.nodes(r.node)}
	for i, l := range c.legs {
		if l == nil || !l.resumable || l.sock == nil || l.closing {
			return movingCall{}, false
		}
		m.Legs[i] = movingLeg{Number: l.number, Token: l.token, Muted: l.muted.Load()}
	}
	return m, true
}

// releaseMoved forgets a call another node has adopted: no end, no record, no
// tombstone (a late resume here must be sent on to the new home); its
// parties' sockets close with 4010, so they resume there. It returns the
// call's final state, or Ended if it ended meanwhile.
func (r *registry) releaseMoved(m movingCall) commitBody {
	cb := commitBody{Account: m.Account, CallID: m.ID}
	c := r.calls[m.ID]
	if c == nil || c.state != stateActive {
		cb.Ended = true
		return cb
	}
	cb.Held = c.held.Load()
	for i, l := range c.legs {
		cb.Muted[i] = l.muted.Load()
	}
	r.detach(c)
	for _, l := range c.legs {
		l.closing = true
		l.conn.Close(wire.CloseMoved, "the call moved to another server: resume it")
	}
	c.legs[sideCaller].log.Info("call handed over to another node")
	r.checkDrained()
	return cb
}

// adopt makes, on the new home, a call another node hands over: both
// parties lost, waiting for their resume.
func (r *registry) adopt(acct *account, m movingCall) bool {
	st := r.stateOf(acct)
	if r.closing || r.drain.on || r.resumeGrace <= 0 || st.calls[m.ID] != nil || st.inUse[m.Legs[0].Number] != nil || st.inUse[m.Legs[1].Number] != nil ||
		!m.Kind.Valid() || m.Typ >= numCallTypes {
		return false
	}
	c := &call{id: m.ID, st: st, kind: m.Kind, typ: m.Typ, from: m.From, name: m.Name, to: m.To, created: m.Created,
		answeredAt: m.Answered, callee: m.Callee, pushFrom: m.PushFrom, pushType: m.PushType, answeredBy: m.AnsweredBy,
		pastNodes: m.Nodes}
	c.held.Store(m.Held)
	log := r.log.With("account", acct.name, "callId", m.ID)
	for i, ml := range m.Legs {
		sock := &legSocket{}
		l := &leg{reg: r, stats: r.stats, acct: acct, conn: sock, sock: sock, log: log, number: ml.Number, call: c, side: i,
			resumable: true, token: ml.Token, bucket: newTokenBucket(r.limits)}
		l.phase.Store(legStarted)
		l.muted.Store(ml.Muted)
		c.legs[i] = l
		st.inUse[l.number] = l
	}
	for i, l := range c.legs {
		l.route.Store(&route{sink: c.legs[1-i].conn, held: &c.held})
	}
	r.setState(c, stateActive)
	st.calls[c.id] = c
	r.calls[c.id] = c
	r.stats.activeCalls.Add(1)
	for _, l := range c.legs {
		r.lose(l, "moved", nil)
	}
	r.updateMusic(c)
	log.Info("call adopted from a draining node", "from", text(m.Nodes))
	return true
}

// commit applies a handed-over call's final state (pktCommit).
func (r *registry) commit(acct *account, cb commitBody) {
	st := r.byAcct[acct]
	if st == nil {
		return
	}
	c := st.calls[cb.CallID]
	if c == nil || c.state == stateEnded {
		return
	}
	if cb.Ended {
		// It ended on the old home before it moved; the parties were told
		// there, and the record is written there.
		c.noRecord = true
		r.finish(c, nil, wire.ReasonNetworkLost, nil, wire.CloseNormal)
		return
	}
	c.held.Store(cb.Held)
	for i, l := range c.legs {
		l.muted.Store(cb.Muted[i])
	}
	r.updateMusic(c)
}

// handleAdopt answers qAdopt on the node it names.
func (b *bridge) handleAdopt(acct *account, q question) answer {
	if q.Node != b.self || q.Call == nil || q.Call.Account != acct.name {
		return answer{}
	}
	var ok bool
	r := b.s.reg
	_ = r.do(func() { ok = r.adopt(acct, *q.Call) })
	return answer{Here: ok}
}

// handleCommit is pktCommit.
func (b *bridge) handleCommit(body []byte) {
	var cb commitBody
	if json.Unmarshal(body, &cb) != nil {
		b.bad.Warn(b.log, "cluster: malformed hand-over commit dropped")
		return
	}
	acct := b.s.auth.known(cb.Account)
	if acct == nil {
		return
	}
	r := b.s.reg
	_ = r.do(func() { r.commit(acct, cb) })
}

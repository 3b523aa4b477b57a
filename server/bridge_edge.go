package server

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/server/cdr"
	"github.com/onecxi/phone/wire"
)

// edgeBridge is, on the node holding a phone's WebSocket, the bridge of
// that socket to its call's home node.
type edgeBridge struct {
	b          *bridge
	id         uint64
	home       string
	conn       *wire.Conn
	resumable  bool
	account    string
	callID     atomic.Pointer[string] // once known: the first message's, or the home's answer
	homeClosed atomic.Bool            // the home closed it, or is gone: no goodbye owed
	moved      atomic.Bool            // closed with 4010 for the phone to resume elsewhere
	recorded   atomic.Bool            // the call's record was closed here (node_lost)
}

// upMessage relays a message the phone sent.
func (e *edgeBridge) upMessage(m wire.Message) {
	body, err := wire.Encode(m)
	if err != nil {
		return
	}
	if err := e.b.send(e.home, pktMsg, e.id, body); err != nil {
		e.b.bad.Warn(e.b.log, "cluster: a bridged message was not sent", "err", err)
	}
}

// upAudio relays a frame the phone sent: the per-frame path.
func (e *edgeBridge) upAudio(raw []byte) {
	e.b.sendAudio(e.home, e.id, raw)
	wire.ReleaseAudioBuffer(raw)
}

// fromHome is a control message for the phone.
func (e *edgeBridge) fromHome(body []byte) {
	m, err := wire.Decode(body)
	if err != nil {
		e.b.bad.Warn(e.b.log, "cluster: a bridged message from the home node is malformed", "err", err)
		return
	}
	if m.CallID != "" && e.callID.Load() == nil {
		e.callID.Store(&m.CallID)
	}
	_ = e.conn.Send(m)
}

// closeFromHome closes the phone's socket as the home asks.
func (e *edgeBridge) closeFromHome(body []byte) {
	var c closeBody
	if json.Unmarshal(body, &c) != nil || c.Code < 1000 || c.Code > 4999 {
		c.Code, c.Reason = wire.CloseNormal, ""
	}
	e.homeClosed.Store(true)
	e.conn.Close(c.Code, c.Reason)
}

// homeLost ends the phone's call: the node holding it is gone, and the
// call with it.
func (e *edgeBridge) homeLost() {
	if !e.homeClosed.CompareAndSwap(false, true) {
		return
	}
	_ = e.conn.Send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonNetworkLost})
	e.conn.Close(wire.CloseNormal, wire.ReasonNetworkLost)
	e.recordNodeLost(time.Now())
}

// recordNodeLost closes the call's record: the home wrote it open when
// the call started, and will never close it.
func (e *edgeBridge) recordNodeLost(end time.Time) {
	id := e.callID.Load()
	if id == nil || e.b.s.records == nil || !e.recorded.CompareAndSwap(false, true) {
		return
	}
	e.b.s.records.Record(cdr.Record{CallID: *id, Account: e.account, Node: e.home + "," + e.b.self,
		End: end, Reason: cdr.ReasonNodeLost})
}

// move closes the phone's socket with 4010: it resumes on another node.
func (e *edgeBridge) move() bool {
	if e.homeClosed.Load() || !e.moved.CompareAndSwap(false, true) {
		return false
	}
	e.conn.Close(wire.CloseMoved, "this server is leaving: resume the call")
	return true
}

// socketClosed is told the phone's socket closed with err (Run's): the
// home hears it as a hang-up (nil) or a loss, unless it closed it itself.
func (e *edgeBridge) socketClosed(err error) {
	e.b.edges.delete(e.id)
	if e.homeClosed.Load() {
		return
	}
	var g goneBody
	switch {
	case e.moved.Load():
		g = goneBody{Lost: true, Why: "moved to another node"}
	case err != nil:
		g = goneBody{Lost: true, Timeout: lossReason(err) == wire.ReasonKeepaliveTimeout, Why: text(err.Error())}
		// The phone may have dropped a socket that fell silent because
		// its call's home died, before this node noticed that: NodeGone
		// still closes the call's record for a while.
		e.b.linger(e)
	}
	if err := e.b.sendJSON(e.home, pktGone, e.id, g); err != nil {
		e.b.bad.Warn(e.b.log, "cluster: a bridged socket's end was not sent", "err", err)
	}
}

// canBridge reports whether this socket may be bridged to another node: a
// WebSocket of this node, in a cluster.
func (cs *callSock) canBridge() bool { return cs.s.bridge != nil && cs.ws != nil }

// bridgeOut bridges this socket to the node where the call its first
// message (m: an answer or a resume) is for lives, or refuses it as a
// single node would when no node has it. It runs on the socket's reader
// goroutine, which it blocks while the cluster is asked.
func (cs *callSock) bridgeOut(m wire.Message) {
	s, l, b := cs.s, cs.first, cs.s.bridge
	q := question{Q: qFind, Account: l.acct.name, CallID: m.CallID}
	if m.Type == wire.TypeStart && m.CallID == "" {
		q.From, q.Callee = m.To, m.RegisteredNumber
	}
	ctx, cancel := context.WithTimeout(s.base, findTimeout)
	home := ""
	err := b.ask(ctx, q, func(node string, a answer) bool {
		if a.Here {
			home = node
		}
		return a.Here
	})
	cancel()
	first, encErr := wire.Encode(m)
	if home == "" || encErr != nil {
		if err != nil {
			l.log.Info("cluster: looking for a call's node failed", "err", err)
		}
		_ = s.reg.do(func() {
			if m.Type == wire.TypeResume {
				l.log.Info("resume refused: no such call in the cluster", "callId", wire.Quote(m.CallID))
				l.refuseResume(wire.CodeNotFound, "no call to resume")
				return
			}
			if m.CallID != "" {
				s.reg.reject(l, m, wire.CodeNotFound, "no call "+m.CallID+" for "+m.RegisteredNumber)
			} else {
				s.reg.reject(l, m, wire.CodeNotFound, "no call from "+m.To+" ringing "+m.RegisteredNumber)
			}
		})
		return
	}
	e := &edgeBridge{b: b, id: newBridgeID(), home: home, conn: cs.ws, resumable: l.resumable, account: l.acct.name}
	if m.CallID != "" {
		e.callID.Store(&m.CallID)
	}
	b.edges.store(e.id, e)
	cs.edge.Store(e)
	_ = s.reg.do(func() { s.reg.forgetLeg(l) })
	l.log.Info("call socket bridged to the call's node", "node", wire.Quote(home), "first", m.Type)
	if err := b.sendJSON(home, pktOpen, e.id, openBody{Edge: b.self, Account: l.acct.name, Remote: l.remote,
		Resumable: l.resumable, First: first}); err != nil {
		l.log.Warn("cluster: bridge not opened", "node", wire.Quote(home), "err", err)
		e.homeClosed.Store(true)
		cs.ws.Close(wire.CloseInternal, "the call's server node cannot be reached")
	}
}

// gone turns an edge's goneBody into the error the home's leg sees, as a
// WebSocket's Run would return it: nil for a hang-up.
func goneError(body []byte) error {
	var g goneBody
	if json.Unmarshal(body, &g) != nil || !g.Lost {
		return nil
	}
	if g.Timeout {
		return fmt.Errorf("bridged phone silent (%s): %w", wire.Quote(g.Why), os.ErrDeadlineExceeded)
	}
	return fmt.Errorf("bridged phone's connection lost (%s): %w", wire.Quote(g.Why), wire.ErrClosed)
}

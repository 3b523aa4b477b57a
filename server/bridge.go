package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/onecxi/phone/wire"
)

// Calls across the nodes of a cluster (WithCluster).
//
// A call lives on one node, its home: the node that received its caller (a
// phone's start, or a trunk's inbound call). The home's registry owns it as
// on a single node. A phone connected to another node, the edge (a callee
// answering there, or a phone resuming there after its own node went away),
// is bridged: the edge relays that WebSocket, message by message and frame
// by frame, to the home over the cluster, and the home runs it as a leg
// whose socket is the bridge (bridgeConn). So every control (mute, hold,
// DTMF, end), the claim of the first answer (the home's registry decides it
// alone), resumption and drain work as on one node, with one code path.
//
// The edge finds the home by asking every node (Cluster.Ask: "find"); a
// caller's node asks which nodes hold the callee's events connections
// ("ring") and tells them to ring (pktNotify); a decline reaching a node
// without the call is passed to its home ("decline").
//
// Node loss: nodes announce themselves every second and are forgotten
// after three silent ones (natsbus). When an edge is gone, the home treats
// its bridged sockets as failed (a resumable phone resumes through another
// node); when a home is gone, the edges end its calls' bridged phones with
// end{reason:"network_lost"}. A node that drains first moves its bridged
// phones (close 4010: they resume elsewhere), so a rolling restart does not
// cut them.

// Packet kinds. Every packet starts with a header: the kind, the bridge's
// ID (big-endian uint64, chosen at random by the edge) and the sender's
// clock (Unix nanoseconds) when it sent it.
const (
	pktOpen   byte = iota + 1 // edge → home: a socket is bridged (openBody)
	pktMsg                    // both ways: a control message (wire.Encode)
	pktAudio                  // both ways: a batch of audio frames (bridge_outbox.go)
	pktPing                   // edge → home: the socket's LastRead, in the clock field
	pktGone                   // edge → home: the socket closed (goneBody)
	pktClose                  // home → edge: close the socket (closeBody)
	pktNotify                 // home → a node of the callee's devices (notifyBody)
	pktCommit                 // old home → new home: a handed-over call's final state (handover.go)
)

const (
	pktHeader = 1 + 8 + 8
	// maxControlPacket bounds what a control packet or question may hold.
	maxControlPacket = 64 << 10
	// findTimeout bounds the search for a call's home; ringTimeoutPeers
	// the question of who holds a callee's devices (a call's set-up waits
	// for it).
	findTimeout      = 2 * time.Second
	ringPeersTimeout = 500 * time.Millisecond
	// edgePingPeriod is how often an edge tells the home when its phone
	// was last heard from (the home's silence watch reads it).
	edgePingPeriod = time.Second
	// nodeGoneDelay lets a leaving node's last control packets (its calls'
	// end messages) land before its bridges are failed.
	nodeGoneDelay = 250 * time.Millisecond
)

// errNodeGone is why a bridged socket failed when the node at its other
// end left the cluster.
var errNodeGone = errors.New("the cluster node at the other end of the bridge is gone")

type openBody struct {
	Edge      string          `json:"edge"`
	Account   string          `json:"account"`
	Remote    string          `json:"remote"`
	Resumable bool            `json:"resumable,omitempty"`
	First     json.RawMessage `json:"first"` // the start or resume message
}

type goneBody struct {
	Lost    bool   `json:"lost,omitempty"`    // not a hang-up: it failed, or the edge moved it
	Timeout bool   `json:"timeout,omitempty"` // the edge heard nothing from the phone
	Why     string `json:"why,omitempty"`
}

type closeBody struct {
	Code   int    `json:"code"`
	Reason string `json:"reason,omitempty"`
}

type notifyBody struct {
	Account string           `json:"account"`
	Number  string           `json:"number"`
	Except  string           `json:"except,omitempty"`
	Push    wire.PushPayload `json:"push"`
}

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

// bridge is this node's side of the calls that cross nodes: a
// ClusterHandler. Its maps are read on the per-frame path without a lock.
type bridge struct {
	s     *Server
	c     Cluster
	self  string
	log   *slog.Logger
	stats *counters
	homes cowMap[uint64, *bridgeConn] // sockets bridged to this node, the home
	edges cowMap[uint64, *edgeBridge] // this node's sockets bridged to a home
	outs  cowMap[string, *outbox]     // audio waiting to go, by node
	gone  cowMap[uint64, *edgeBridge] // edges whose phone's socket failed lately (linger)
	bad   sampledLog                  // malformed packets, sampled
	stop  context.CancelFunc          // the edges' ping loop
	done  chan struct{}
	quit  chan struct{} // closed by close: the outboxes stop
}

func newBridge(s *Server, c Cluster) *bridge {
	return &bridge{s: s, c: c, self: s.cfg.NodeID, log: s.log, stats: s.stats, done: make(chan struct{}), quit: make(chan struct{})}
}

// start runs the edges' ping loop until close.
func (b *bridge) start() {
	ctx, stop := context.WithCancel(context.Background())
	b.stop = stop
	go b.pingLoop(ctx)
}

func (b *bridge) close() {
	if b.stop != nil {
		b.stop()
		<-b.done
		close(b.quit)
	}
}

// outboxFor returns node's outbox, made (with its goroutine) on first use.
func (b *bridge) outboxFor(node string) *outbox {
	if o, ok := b.outs.load(node); ok {
		return o
	}
	b.outs.mu.Lock()
	defer b.outs.mu.Unlock()
	if m := b.outs.m.Load(); m != nil {
		if o, ok := (*m)[node]; ok {
			return o
		}
	}
	o := newOutbox(b, node)
	b.outs.storeLocked(node, o)
	go o.run(b.quit)
	return o
}

func putHeader(p []byte, kind byte, id uint64, at int64) {
	p[0] = kind
	binary.BigEndian.PutUint64(p[1:9], id)
	binary.BigEndian.PutUint64(p[9:17], uint64(at))
}

// parsePacket splits a packet into its header and body.
func parsePacket(p []byte) (kind byte, id uint64, at int64, body []byte, ok bool) {
	if len(p) < pktHeader {
		return 0, 0, 0, nil, false
	}
	return p[0], binary.BigEndian.Uint64(p[1:9]), int64(binary.BigEndian.Uint64(p[9:17])), p[pktHeader:], true
}

// send sends a control packet.
func (b *bridge) send(node string, kind byte, id uint64, body []byte) error {
	p := make([]byte, pktHeader+len(body))
	putHeader(p, kind, id, time.Now().UnixNano())
	copy(p[pktHeader:], body)
	return b.c.Send(node, p)
}

// sendJSON sends a control packet whose body is v.
func (b *bridge) sendJSON(node string, kind byte, id uint64, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.send(node, kind, id, body)
}

// sendAudio queues a frame for node (bridge_outbox.go): the per-frame
// path, with no lock and no allocation.
func (b *bridge) sendAudio(node string, id uint64, raw []byte) bool {
	if b.outboxFor(node).put(id, raw) {
		return true
	}
	b.stats.bridgeDropped.Add(1)
	return false
}

// Packet implements ClusterHandler.
func (b *bridge) Packet(pkt []byte) {
	kind, id, at, body, ok := parsePacket(pkt)
	if !ok || len(body) > maxControlPacket {
		b.bad.log(b.log, "cluster packet dropped: malformed", "bytes", len(pkt))
		return
	}
	switch kind {
	case pktOpen:
		b.open(id, body)
	case pktMsg:
		if c, ok := b.homes.load(id); ok {
			c.fromEdge(body)
		} else if e, ok := b.edges.load(id); ok {
			e.fromHome(body)
		}
	case pktPing:
		if c, ok := b.homes.load(id); ok {
			c.lastRead.Store(at)
		}
	case pktGone:
		if c, ok := b.homes.load(id); ok {
			c.gone(body)
		}
	case pktClose:
		if e, ok := b.edges.load(id); ok {
			e.closeFromHome(body)
		}
	case pktNotify:
		b.deliver(body)
	case pktCommit:
		b.handleCommit(body)
	default:
		b.bad.log(b.log, "cluster packet dropped: unknown kind", "kind", kind)
	}
}

// Audio implements ClusterHandler: a batch of frames (bridge_outbox.go),
// each checked as a phone's would be, copied into a pooled buffer and
// handed on without a lock.
func (b *bridge) Audio(pkt []byte) {
	now := time.Now().UnixNano()
	if !eachFrame(pkt, func(id uint64, at int64, frame []byte) { b.deliverFrame(now, id, at, frame) }) {
		b.stats.bridgeDropped.Add(1)
		b.bad.log(b.log, "cluster audio dropped: malformed batch", "bytes", len(pkt))
	}
}

func (b *bridge) deliverFrame(now int64, id uint64, at int64, frame []byte) {
	if wire.CheckAudio(frame) != nil {
		b.stats.bridgeDropped.Add(1)
		return
	}
	b.stats.bridgeDelay.observe(now - at)
	if c, ok := b.homes.load(id); ok {
		c.lastRead.Store(now)
		b.stats.bridgeReceived.Add(1)
		c.h.OnAudio(append(wire.AudioBuffer(), frame...))
		return
	}
	if e, ok := b.edges.load(id); ok {
		b.stats.bridgeReceived.Add(1)
		if !e.conn.SendAudioRaw(append(wire.AudioBuffer(), frame...)) {
			b.stats.framesDropped.Add(1)
		}
		return
	}
	b.stats.bridgeDropped.Add(1) // the bridge has just closed
}

// NodeGone implements ClusterHandler: bridges to node fail, after a short
// delay that lets a leaving node's last control packets arrive.
func (b *bridge) NodeGone(node string) {
	time.AfterFunc(nodeGoneDelay, func() {
		n := 0
		for _, c := range b.homes.all() {
			if c.edge == node {
				c.finish(fmt.Errorf("%w (%s)", errNodeGone, wire.Quote(node)))
				n++
			}
		}
		for _, e := range b.edges.all() {
			if e.home == node {
				e.homeLost()
				n++
			}
		}
		for _, e := range b.gone.all() {
			if e.home == node {
				e.recordNodeLost(time.Now())
			}
		}
		if n > 0 {
			b.log.Warn("cluster node gone: its bridged calls fail", "node", wire.Quote(node), "bridges", n)
		}
	})
}

// lingerFor is how long an edge whose phone's socket failed is kept for
// NodeGone: longer than a node takes to be declared gone.
const lingerFor = 10 * time.Second

// linger keeps e for lingerFor, so that, should its home turn out to be
// gone, the call's record is still closed.
func (b *bridge) linger(e *edgeBridge) {
	if e.callID.Load() == nil || b.s.records == nil {
		return
	}
	b.gone.store(e.id, e)
	time.AfterFunc(lingerFor, func() { b.gone.delete(e.id) })
}

// moveEdges closes this node's bridged sockets with 4010, so their phones
// resume through another node: those that can resume (all, when the node
// is shutting down and would cut them anyway).
func (b *bridge) moveEdges(all bool) int {
	n := 0
	for _, e := range b.edges.all() {
		if (all || (e.resumable && b.s.cfg.ResumeGrace > 0)) && e.move() {
			n++
		}
	}
	if n > 0 {
		b.log.Info("moving bridged phones to other nodes", "sockets", n)
	}
	return n
}

// tellEdgesDraining sends the phones still bridged through this node
// (those that cannot resume) draining{ms: left}, as the calls of its own.
func (b *bridge) tellEdgesDraining(left time.Duration) {
	msg := drainingNotice(left)
	for _, e := range b.edges.all() {
		if !e.moved.Load() && !e.homeClosed.Load() {
			_ = e.conn.Send(msg)
		}
	}
}

// afterEdges returns a channel closed once idle is and no phone is
// bridged through this node any more, polled: a drain waits on it.
func (b *bridge) afterEdges(ctx context.Context, idle <-chan struct{}) <-chan struct{} {
	out := make(chan struct{})
	go func() {
		select {
		case <-idle:
		case <-ctx.Done():
			return
		}
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for len(b.edges.all()) > 0 {
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
		close(out)
	}()
	return out
}

// pingLoop tells each home when its bridged phones were last heard from.
func (b *bridge) pingLoop(ctx context.Context) {
	defer close(b.done)
	t := time.NewTicker(edgePingPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, e := range b.edges.all() {
				p := make([]byte, pktHeader)
				putHeader(p, pktPing, e.id, e.conn.LastRead().UnixNano())
				_ = b.c.Send(e.home, p)
			}
		}
	}
}

// newBridgeID returns a random bridge ID.
func newBridgeID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) | 1 // never 0
}

// open is the home's side of pktOpen: a leg whose socket is the bridge,
// run exactly as a WebSocket of its own would be.
func (b *bridge) open(id uint64, body []byte) {
	var o openBody
	if err := json.Unmarshal(body, &o); err != nil || o.Edge == "" || !validAccountName(o.Account) {
		b.bad.log(b.log, "cluster bridge refused: malformed open")
		return
	}
	c := &bridgeConn{b: b, id: id, edge: o.Edge, done: make(chan struct{})}
	c.lastRead.Store(time.Now().UnixNano())
	first, err := wire.Decode(o.First)
	acct := b.s.auth.known(o.Account)
	if err != nil || acct == nil {
		_ = c.Send(wire.Message{Type: wire.TypeError, Code: wire.CodeNotFound, Message: "no such call"})
		c.Close(wire.CloseNormal, string(wire.CodeNotFound))
		return
	}
	log := b.s.log.With("account", acct.name, "remote", o.Remote, "via", o.Edge)
	cs := b.s.newCallSock(acct, c, o.Remote, o.Resumable, log)
	if cs == nil {
		c.Close(wire.CloseGoingAway, "server shutting down")
		return
	}
	cs.first.via = o.Edge
	c.h = cs.handlers()
	b.homes.store(id, c)
	if !b.s.goes.goTracked(func() {
		<-c.done
		cs.closed(c.err)
	}) {
		c.Close(wire.CloseGoingAway, "server shutting down")
		cs.closed(nil)
		return
	}
	c.h.OnMessage(first)
}

// deliver is pktNotify: ring (or stop ringing) a number's devices here.
func (b *bridge) deliver(body []byte) {
	var n notifyBody
	if err := json.Unmarshal(body, &n); err != nil {
		b.bad.log(b.log, "cluster notification dropped: malformed")
		return
	}
	acct := b.s.auth.known(n.Account)
	if acct == nil {
		return
	}
	r := b.s.reg
	_ = r.do(func() {
		if st := r.byAcct[acct]; st != nil {
			r.notifyLocal(st, n.Number, n.Except, n.Push)
		}
	})
}

// notify implements peerNotifier.
func (b *bridge) notify(nodes []string, account, number, except string, p wire.PushPayload) {
	body, err := json.Marshal(notifyBody{Account: account, Number: number, Except: except, Push: p})
	if err != nil {
		return
	}
	for _, node := range nodes {
		if err := b.send(node, pktNotify, 0, body); err != nil {
			b.bad.log(b.log, "cluster notification not sent", "node", wire.Quote(node), "err", err)
		}
	}
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
		s.bridge.bad.log(s.log, "cluster: not every node said whether it holds the callee", "err", err)
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

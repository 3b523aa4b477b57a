package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/onecxi/phone/internal/logsample"
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
// phones (close 4010: they resume elsewhere) and hands its own calls over
// (handover.go), so a rolling restart cuts neither.
//
// Files: this one (the packets, the bridge and what it is told),
// bridge_ask.go (the questions), bridge_conn.go (the home's side of a
// bridged socket), bridge_edge.go (the edge's), bridge_outbox.go (audio
// batches), bridge_support.go (the lock-free map and counters they use).

// Packet kinds. A control packet starts with a header: the kind, the
// bridge's ID (big-endian uint64, chosen at random by the edge) and the
// sender's clock (Unix nanoseconds) when it sent it. An audio packet is
// the kind and a batch of frames, each with its own (bridge_outbox.go).
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
	// findTimeout bounds the search for a call's home; ringPeersTimeout
	// the question of who holds a callee's devices (a call's set-up waits
	// for it).
	findTimeout      = time.Second
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
	bad   *logsample.Sampler          // malformed packets and send failures
	stop  context.CancelFunc          // the edges' ping loop
	done  chan struct{}
	quit  chan struct{} // closed by close: the outboxes stop
}

func newBridge(s *Server, c Cluster) *bridge {
	return &bridge{s: s, c: c, self: s.cfg.NodeID, log: s.log, stats: s.stats, bad: logsample.New(10 * time.Second),
		done: make(chan struct{}), quit: make(chan struct{})}
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
		b.bad.Warn(b.log, "cluster packet dropped: malformed", "bytes", len(pkt))
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
		b.bad.Warn(b.log, "cluster packet dropped: unknown kind", "kind", kind)
	}
}

// Audio implements ClusterHandler: a batch of frames (bridge_outbox.go),
// each checked as a phone's would be, copied into a pooled buffer and
// handed on without a lock.
func (b *bridge) Audio(pkt []byte) {
	now := time.Now().UnixNano()
	if !eachFrame(pkt, func(id uint64, at int64, frame []byte) { b.deliverFrame(now, id, at, frame) }) {
		b.stats.bridgeDropped.Add(1)
		b.bad.Warn(b.log, "cluster audio dropped: malformed batch", "bytes", len(pkt))
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
		b.bad.Warn(b.log, "cluster bridge refused: malformed open")
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
		b.bad.Warn(b.log, "cluster notification dropped: malformed")
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
			b.bad.Warn(b.log, "cluster notification not sent", "node", wire.Quote(node), "err", err)
		}
	}
}

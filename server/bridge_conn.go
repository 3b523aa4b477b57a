package server

import (
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/server/cdr"
	"github.com/onecxi/phone/wire"
)

// bridgeConn is, on a call's home node, the socket of a phone connected
// to another node (the edge): a callSocket whose reads arrive as packets
// and whose writes leave as packets (bridge.go).
type bridgeConn struct {
	b        *bridge
	id       uint64
	edge     string
	h        wire.Handlers // set before the first packet is handed on
	lastRead atomic.Int64  // Unix ns: the edge's pings, and audio
	closed   atomic.Bool
	once     sync.Once
	done     chan struct{} // closed by finish; err is set then
	err      error
}

// Send implements callSocket.
func (c *bridgeConn) Send(m wire.Message) error {
	if c.closed.Load() {
		return wire.ErrClosed
	}
	body, err := wire.Encode(m)
	if err != nil {
		return err
	}
	return c.b.send(c.edge, pktMsg, c.id, body)
}

// SendAudioRaw implements callSocket: the per-frame path.
func (c *bridgeConn) SendAudioRaw(raw []byte) bool {
	ok := !c.closed.Load() && c.b.sendAudio(c.edge, c.id, raw)
	wire.ReleaseAudioBuffer(raw)
	return ok
}

// Close implements callSocket: the edge closes the phone's WebSocket with
// code after the messages sent before (NATS keeps one sender's packets in
// order), and the leg's "Run" returns nil.
func (c *bridgeConn) Close(code int, reason string) {
	if c.closed.CompareAndSwap(false, true) {
		_ = c.b.sendJSON(c.edge, pktClose, c.id, closeBody{Code: code, Reason: reason})
		c.finish(nil)
	}
}

// LastRead implements callSocket.
func (c *bridgeConn) LastRead() time.Time { return time.Unix(0, c.lastRead.Load()) }

// finish ends the bridge with err (what a WebSocket's Run would return).
func (c *bridgeConn) finish(err error) {
	c.once.Do(func() {
		c.closed.Store(true)
		c.err = err
		c.b.homes.delete(c.id)
		close(c.done)
	})
}

// fromEdge is a control message the phone sent.
func (c *bridgeConn) fromEdge(body []byte) {
	if c.closed.Load() {
		return
	}
	c.lastRead.Store(time.Now().UnixNano())
	m, err := wire.Decode(body)
	if err != nil {
		c.h.OnBadMessage(err)
		return
	}
	c.h.OnMessage(m)
}

// gone is the edge saying the phone's socket closed.
func (c *bridgeConn) gone(body []byte) { c.finish(goneError(body)) }

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
		e.b.bad.log(e.b.log, "cluster: a bridged message was not sent", "err", err)
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
		e.b.bad.log(e.b.log, "cluster: a bridged message from the home node is malformed", "err", err)
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
		e.b.bad.log(e.b.log, "cluster: a bridged socket's end was not sent", "err", err)
	}
}

// cowMap is a map read without a lock (one atomic load) and copied on
// every change: bridges are looked up per frame and made per call.
type cowMap[K comparable, V any] struct {
	mu sync.Mutex
	m  atomic.Pointer[map[K]V]
}

func (c *cowMap[K, V]) load(id K) (V, bool) {
	if m := c.m.Load(); m != nil {
		v, ok := (*m)[id]
		return v, ok
	}
	var zero V
	return zero, false
}

func (c *cowMap[K, V]) store(id K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.storeLocked(id, v)
}

func (c *cowMap[K, V]) storeLocked(id K, v V) {
	next := make(map[K]V, c.lenLocked()+1)
	if m := c.m.Load(); m != nil {
		for k, x := range *m {
			next[k] = x
		}
	}
	next[id] = v
	c.m.Store(&next)
}

func (c *cowMap[K, V]) delete(id K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.m.Load()
	if m == nil {
		return
	}
	if _, ok := (*m)[id]; !ok {
		return
	}
	next := make(map[K]V, len(*m))
	for k, x := range *m {
		if k != id {
			next[k] = x
		}
	}
	c.m.Store(&next)
}

func (c *cowMap[K, V]) lenLocked() int {
	if m := c.m.Load(); m != nil {
		return len(*m)
	}
	return 0
}

// all is a snapshot of the values.
func (c *cowMap[K, V]) all() []V {
	m := c.m.Load()
	if m == nil {
		return nil
	}
	out := make([]V, 0, len(*m))
	for _, v := range *m {
		out = append(out, v)
	}
	return out
}

// sampledLog logs a warning at most once per sampledEvery, with how many
// were not logged.
type sampledLog struct {
	last    atomic.Int64
	skipped atomic.Int64
}

const sampledEvery = 10 * time.Second

func (s *sampledLog) log(l *slog.Logger, msg string, args ...any) {
	now := time.Now().UnixNano()
	prev := s.last.Load()
	if prev != 0 && now-prev < int64(sampledEvery) || !s.last.CompareAndSwap(prev, now) {
		s.skipped.Add(1)
		return
	}
	if n := s.skipped.Swap(0); n > 0 {
		args = append(args, "unlogged", n)
	}
	l.Warn(msg, args...)
}

// DelayBuckets are the upper bounds, in seconds, of the relay delay
// histogram (Metrics.BridgeDelay): how long an audio frame took from one
// node to another.
var DelayBuckets = [...]float64{0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1}

// delayHist is a histogram written per frame with atomics only.
type delayHist struct {
	counts [len(DelayBuckets) + 1]atomic.Uint64 // the last: above every bound
	sumNs  atomic.Int64
}

func (h *delayHist) observe(ns int64) {
	if ns < 0 {
		ns = 0 // clocks of two hosts disagree
	}
	h.sumNs.Add(ns)
	s := float64(ns) / 1e9
	for i, ub := range DelayBuckets {
		if s <= ub {
			h.counts[i].Add(1)
			return
		}
	}
	h.counts[len(DelayBuckets)].Add(1)
}

// Histogram is a snapshot of a histogram: Counts[i] counts observations
// at most Bounds[i] (not cumulative), the last entry those above them all.
type Histogram struct {
	Bounds     []float64
	Counts     []uint64
	SumSeconds float64
}

func (h *delayHist) snapshot() Histogram {
	out := Histogram{Bounds: DelayBuckets[:], Counts: make([]uint64, len(h.counts))}
	for i := range h.counts {
		out.Counts[i] = h.counts[i].Load()
	}
	out.SumSeconds = float64(h.sumNs.Load()) / 1e9
	return out
}

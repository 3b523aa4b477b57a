package server

import (
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/wire"
)

// Audio to another node goes in batches: each NATS message costs a
// publish, a hop through the NATS server and a delivery, far more than
// a frame's own bytes, so frames bound for one node are gathered for at
// most batchWindow and sent as one message. The relay path only puts a
// frame into the node's outbox, a bounded lock-free ring; one goroutine
// per node drains it.
const (
	// batchWindow is how long the first frame of a batch may wait for
	// company: the delay batching adds, at most (plus the scheduler's).
	batchWindow = 1000 * time.Microsecond
	// outboxSlots bounds the frames waiting for one node; past it frames
	// are dropped (counted), as a slow WebSocket's are.
	outboxSlots = 1024
	// maxBatch bounds a batch message (NATS' default max payload is 1 MiB).
	maxBatch = 256 << 10
	// batchEntryHeader precedes each frame of a batch: bridge ID,
	// enqueue time (Unix ns), frame length.
	batchEntryHeader = 8 + 8 + 2
)

// outSlot is one frame in an outbox: Vyukov's bounded queue slot, whose
// seq says whose turn it is.
type outSlot struct {
	seq  atomic.Uint64
	id   uint64
	at   int64
	n    int
	data [wire.MaxAudioMessage]byte
}

// outbox is the frames waiting to go to one node: many producers (the
// relay path of every leg), one consumer (run).
type outbox struct {
	b        *bridge
	node     string
	slots    [outboxSlots]outSlot
	tail     atomic.Uint64 // next slot to fill
	head     uint64        // next slot to drain: run's
	sleeping atomic.Bool   // run waits for wake
	wake     chan struct{}
	batch    []byte // run's
}

func newOutbox(b *bridge, node string) *outbox {
	o := &outbox{b: b, node: node, wake: make(chan struct{}, 1), batch: make([]byte, 0, maxBatch)}
	for i := range o.slots {
		o.slots[i].seq.Store(uint64(i))
	}
	return o
}

// put queues a frame for o's node: no lock, no allocation. False when
// the outbox is full.
func (o *outbox) put(id uint64, raw []byte) bool {
	if len(raw) > wire.MaxAudioMessage {
		return false
	}
	pos := o.tail.Load()
	var s *outSlot
	for {
		s = &o.slots[pos%outboxSlots]
		d := int64(s.seq.Load() - pos)
		if d == 0 && o.tail.CompareAndSwap(pos, pos+1) {
			break // the slot is ours
		}
		if d < 0 {
			return false // full: the slot is a lap behind
		}
		pos = o.tail.Load()
	}
	s.id, s.at, s.n = id, time.Now().UnixNano(), copy(s.data[:], raw)
	s.seq.Store(pos + 1)
	if o.sleeping.Load() {
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// run drains the outbox until stop is closed: it waits for a frame,
// lets a batch gather for batchWindow, and sends what is there.
func (o *outbox) run(stop <-chan struct{}) {
	window := time.NewTimer(batchWindow)
	window.Stop()
	for {
		if !o.ready() {
			o.sleeping.Store(true)
			if !o.ready() { // a put may have come before sleeping was seen
				select {
				case <-o.wake:
				case <-stop:
					return
				}
			}
			o.sleeping.Store(false)
		}
		window.Reset(batchWindow)
		select {
		case <-stop:
			window.Stop()
			return
		case <-window.C:
		}
		o.flush()
	}
}

// ready reports whether the next slot holds a frame.
func (o *outbox) ready() bool {
	return o.slots[o.head%outboxSlots].seq.Load() == o.head+1
}

// flush sends every frame queued, in messages of at most maxBatch.
func (o *outbox) flush() {
	b := o.batch[:0]
	b = append(b, pktAudio)
	n := 0
	for o.ready() {
		s := &o.slots[o.head%outboxSlots]
		if len(b)+batchEntryHeader+s.n > maxBatch {
			o.send(b, n)
			b, n = append(b[:0], pktAudio), 0
		}
		b = binary.BigEndian.AppendUint64(b, s.id)
		b = binary.BigEndian.AppendUint64(b, uint64(s.at))
		b = binary.BigEndian.AppendUint16(b, uint16(s.n))
		b = append(b, s.data[:s.n]...)
		s.seq.Store(o.head + outboxSlots)
		o.head++
		n++
	}
	if n > 0 {
		o.send(b, n)
	}
	o.batch = b[:0]
}

func (o *outbox) send(b []byte, n int) {
	if o.b.c.SendAudio(o.node, b) {
		o.b.stats.bridgeSent.Add(uint64(n))
	} else {
		o.b.stats.bridgeDropped.Add(uint64(n))
	}
}

// eachFrame calls f for every frame of a batch (pktAudio); false if the
// batch is malformed (what came before is handed on).
func eachFrame(pkt []byte, f func(id uint64, at int64, frame []byte)) bool {
	if len(pkt) < 1 || pkt[0] != pktAudio {
		return false
	}
	p := pkt[1:]
	for len(p) > 0 {
		if len(p) < batchEntryHeader {
			return false
		}
		id := binary.BigEndian.Uint64(p)
		at := int64(binary.BigEndian.Uint64(p[8:]))
		n := int(binary.BigEndian.Uint16(p[16:]))
		p = p[batchEntryHeader:]
		if n > len(p) {
			return false
		}
		f(id, at, p[:n])
		p = p[n:]
	}
	return true
}

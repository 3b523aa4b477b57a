package server

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/onecxi/phone/wire"
)

// countSink counts frames; it stands in for the far end's wire.Conn.
type countSink struct{ n atomic.Uint64 }

func (c *countSink) SendAudioRaw([]byte) bool { c.n.Add(1); return true }

func TestRelayHonoursMuteAndHold(t *testing.T) {
	s := &counters{}
	var held atomic.Uint32
	sink := &countSink{}
	l := &leg{stats: s}
	frame := make([]byte, wire.AudioHeaderSize+2*wire.FrameSamples)

	l.onAudio(frame) // no route yet: not answered
	l.route.Store(&route{sink: sink, held: &held})
	l.onAudio(frame)
	l.muted.Store(true)
	l.onAudio(frame)
	l.muted.Store(false)
	held.Store(1 << sideCallee) // the other side holds
	l.onAudio(frame)
	held.Store(0)
	l.onAudio(frame)

	assert.Equal(t, uint64(2), sink.n.Load())
	assert.Equal(t, uint64(2), s.framesRelayed.Load())
	assert.Equal(t, uint64(3), s.framesDropped.Load())
}

// BenchmarkRelay measures the server's own per-frame work (the WebSocket
// read and write around it belong to wire and gorilla): it must not
// allocate.
func BenchmarkRelay(b *testing.B) {
	var held atomic.Uint32
	l := &leg{stats: &counters{}}
	l.route.Store(&route{sink: &countSink{}, held: &held})
	frame := make([]byte, wire.AudioHeaderSize+2*wire.FrameSamples)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.onAudio(frame)
		}
	})
	if a := testing.AllocsPerRun(100, func() { l.onAudio(frame) }); a != 0 {
		b.Fatalf("%v allocations per relayed frame", a)
	}
}

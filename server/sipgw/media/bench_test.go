package media

import (
	"testing"

	"github.com/onecxi/phone/wire"
)

// discardSink takes frames and drops them (a wire.Conn would recycle them).
type discardSink struct{}

func (discardSink) SendAudioRaw([]byte) bool { return true }

// BenchmarkSendAudio is the app-to-RTP path: check, encode, one UDP write.
func BenchmarkSendAudio(b *testing.B) {
	s, peer := listen(b), newPeer(b)
	start(b, s, peer.addr, nil)
	go func() { // drain, so the socket never backs up
		buf := make([]byte, 2048)
		for {
			if _, err := peer.conn.Read(buf); err != nil {
				return
			}
		}
	}()
	// Not a pooled buffer: SendAudioRaw releases what it is given, and the
	// loop sends the same frame again.
	raw := append([]byte(nil), frame(b, 0, false, tone(440, 8000, 0, wire.FrameSamples))...)
	b.ReportAllocs()
	for b.Loop() {
		if !s.SendAudioRaw(raw) {
			b.Fatal("not sent")
		}
	}
}

// BenchmarkReceive is the RTP-to-sink path after the socket read: parse,
// track, decode into a pooled wire frame.
func BenchmarkReceive(b *testing.B) {
	s := configured(b, SessionConfig{Remote: farEnd, Codec: PCMU, Sink: discardSink{}})
	pkt := rtpPacket(b, 0, 1, 0, 0, false, PCMU.Encode(nil, tone(440, 8000, 0, wire.FrameSamples)))
	b.ReportAllocs()
	seq := uint16(0)
	for b.Loop() {
		seq++
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		s.handlePacket(pkt, farEnd)
	}
}

// BenchmarkEncodePCMU is G.711 alone, per 20 ms frame.
func BenchmarkEncodePCMU(b *testing.B) {
	pcm := tone(440, 8000, 0, wire.FrameSamples)
	dst := make([]byte, 0, wire.FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		dst = PCMU.Encode(dst[:0], pcm)
	}
}

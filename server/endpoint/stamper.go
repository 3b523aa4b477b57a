package endpoint

import (
	"encoding/binary"
	"time"

	"github.com/onecxi/phone/wire"
)

// Stamper gives frames the server generates its own sequence numbers and
// timestamps, the first with the marker bit (PROTOCOL.md, Audio frames). It
// is used by one goroutine at a time.
type Stamper struct {
	seq, ts uint32
	marker  bool
	last    time.Time // when the previous frame was stamped
}

// NewStamper returns a stamper whose first frame is marked.
func NewStamper() Stamper { return Stamper{marker: true} }

// Resync marks the next frame as the start of a talk spurt and moves the
// timestamp on by the silence since the last frame, as RTP does, so a
// receiver's jitter buffer sees real time pass.
func (s *Stamper) Resync(now time.Time) {
	s.marker = true
	if !s.last.IsZero() {
		gap := now.Sub(s.last) - wire.FrameMillis*time.Millisecond
		if gap > 0 {
			s.ts += uint32(gap.Milliseconds() * wire.SampleRate / 1000)
		}
	}
}

// Stamp rewrites raw's header in place (raw is a checked frame we own).
func (s *Stamper) Stamp(raw []byte, now time.Time) {
	var flags byte
	if s.marker {
		flags = wire.FlagMarker
		s.marker = false
	}
	raw[1] = flags
	binary.BigEndian.PutUint32(raw[2:6], s.seq)
	binary.BigEndian.PutUint32(raw[6:10], s.ts)
	s.seq++
	s.ts += uint32((len(raw) - wire.AudioHeaderSize) / wire.BytesPerSample)
	s.last = now
}

// Encode returns a new frame of samples. A new buffer per frame is needed
// because the connection's writer owns a frame until it is written.
func (s *Stamper) Encode(samples []int16, now time.Time) []byte {
	b := wire.AudioBuffer()[:wire.AudioHeaderSize]
	clear(b)
	b[0] = wire.AudioMagic
	for _, v := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	s.Stamp(b, now)
	return b
}

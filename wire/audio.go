package wire

import (
	"encoding/binary"
	"fmt"
)

// AudioHeaderSize is the fixed header before an audio frame's samples.
//
//	byte 0     magic/version (AudioMagic)
//	byte 1     flags (bit 0: first frame after silence/hold; others zero)
//	bytes 2-5  sequence number, big-endian uint32, +1 per frame, wraps
//	bytes 6-9  timestamp, big-endian uint32, in samples at 8 kHz, wraps
//	bytes 10-  samples, signed 16-bit little-endian, 1..MaxFrameSamples
const AudioHeaderSize = 10

// AudioMagic marks protocol version 1 audio frames.
const AudioMagic = 0xA1

// FlagMarker is set on the first frame of a talk spurt (after mute, hold or
// call start), so a jitter buffer may resynchronise instead of concealing.
const FlagMarker = 0x01

// AudioFrame is one binary message.
type AudioFrame struct {
	Flags     byte
	Seq       uint32
	Timestamp uint32
	Samples   []int16
}

// AppendAudio appends f's encoding to dst and returns it. It panics on nothing:
// an empty or oversized frame returns an error.
func AppendAudio(dst []byte, f AudioFrame) ([]byte, error) {
	if n := len(f.Samples); n == 0 || n > MaxFrameSamples {
		return dst, fmt.Errorf("%w: audio frame of %d samples (1..%d)", ErrMalformed, n, MaxFrameSamples)
	}
	dst = append(dst, AudioMagic, f.Flags)
	dst = binary.BigEndian.AppendUint32(dst, f.Seq)
	dst = binary.BigEndian.AppendUint32(dst, f.Timestamp)
	for _, s := range f.Samples {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(s))
	}
	return dst, nil
}

// DecodeAudio parses one binary message. Samples are appended to buf (which
// may be nil) so a receive loop can reuse its memory.
func DecodeAudio(b []byte, buf []int16) (AudioFrame, error) {
	if err := CheckAudio(b); err != nil {
		return AudioFrame{}, err
	}
	payload := b[AudioHeaderSize:]
	n := len(payload) / BytesPerSample
	f := AudioFrame{
		Flags:     b[1],
		Seq:       binary.BigEndian.Uint32(b[2:6]),
		Timestamp: binary.BigEndian.Uint32(b[6:10]),
		Samples:   buf[:0],
	}
	for i := 0; i < n; i++ {
		f.Samples = append(f.Samples, int16(binary.LittleEndian.Uint16(payload[2*i:])))
	}
	return f, nil
}

// SeqDiff returns a-b as a signed distance, correct across wrap-around.
func SeqDiff(a, b uint32) int32 { return int32(a - b) }

package main

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serverFrame builds an unmasked final frame as the server sends it.
func serverFrame(op byte, payload []byte) []byte {
	b := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = binary.BigEndian.AppendUint16(append(b, 126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
	}
	return append(b, payload...)
}

func TestAppendClientFrameMasks(t *testing.T) {
	for _, n := range []int{0, 5, 125, 126, 330, 1930, 70000} {
		payload := bytes.Repeat([]byte{0xA5, 0x01, 0x7F}, n/3+1)[:n]
		key := uint32(0xDEADBEEF)
		f := appendClientFrame(nil, opBinary, payload, key)

		assert.Equal(t, byte(0x80|opBinary), f[0], "final binary frame")
		require.NotZero(t, f[1]&0x80, "client frames are masked")
		h := 2
		switch got := int(f[1] & 0x7F); {
		case n < 126:
			assert.Equal(t, n, got)
		case n <= 0xFFFF:
			assert.Equal(t, 126, got)
			assert.Equal(t, n, int(binary.BigEndian.Uint16(f[2:])))
			h = 4
		default:
			assert.Equal(t, 127, got)
			assert.Equal(t, uint64(n), binary.BigEndian.Uint64(f[2:]))
			h = 10
		}
		maskKey := f[h : h+4]
		body := f[h+4:]
		require.Len(t, body, n)
		for i := range body { // RFC 6455 §5.3, byte by byte
			body[i] ^= maskKey[i%4]
		}
		assert.Equal(t, payload, body, "%d bytes unmask to the payload", n)
	}
}

func TestParseServerFrames(t *testing.T) {
	audio := bytes.Repeat([]byte{1}, 330)
	two := append(serverFrame(opBinary, audio), serverFrame(opPing, []byte("p"))...)
	big := make([]byte, maxServerMessage+1)
	tests := []struct {
		name   string
		in     []byte
		ops    []byte
		rest   int
		hasErr bool
	}{
		{"two whole frames", two, []byte{opBinary, opPing}, 0, false},
		{"a partial header", two[:1], nil, 1, false},
		{"a partial extended length", two[:3], nil, 3, false},
		{"a partial payload", two[:100], nil, 100, false},
		{"one whole and a partial", two[:len(two)-1], []byte{opBinary}, 2, false},
		{"64-bit length", append([]byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0, 200}, audio[:200]...), []byte{opBinary}, 0, false},
		{"masked", []byte{0x82, 0x81, 1, 2, 3, 4, 5}, nil, 0, true},
		{"reserved bits", []byte{0xC2, 0x00}, nil, 0, true},
		{"fragment", []byte{0x02, 0x00}, nil, 0, true},
		{"continuation", []byte{0x80, 0x00}, nil, 0, true},
		{"over the limit", serverFrame(opBinary, big)[:4], nil, 0, true},
		{"over the limit, 64-bit", []byte{0x82, 127, 0xFF, 0, 0, 0, 0, 0, 0, 0}, nil, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ops []byte
			rest, err := parseServerFrames(tt.in, func(op byte, p []byte) {
				ops = append(ops, op)
				if op == opBinary {
					assert.Equal(t, audio[:len(p)], p)
				}
			})
			if tt.hasErr {
				assert.ErrorIs(t, err, errBadFrame)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.ops, ops)
			assert.Len(t, rest, tt.rest)
		})
	}
}

// FuzzParseServerFrames: any bytes either parse into frames whose sizes
// add up to what was consumed, leaving a suffix, or fail with errBadFrame;
// never a panic.
func FuzzParseServerFrames(f *testing.F) {
	f.Add(serverFrame(opBinary, make([]byte, 330)))
	f.Add(append(serverFrame(opText, []byte(`{"type":"end"}`)), serverFrame(opPing, nil)...))
	f.Add([]byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0, 10})
	f.Fuzz(func(t *testing.T, in []byte) {
		payload, frames := 0, 0
		rest, err := parseServerFrames(in, func(_ byte, p []byte) { payload, frames = payload+len(p), frames+1 })
		if err != nil {
			assert.ErrorIs(t, err, errBadFrame)
			return
		}
		consumed := len(in) - len(rest)
		assert.GreaterOrEqual(t, consumed, payload+2*frames, "headers are 2 to 10 bytes")
		assert.LessOrEqual(t, consumed, payload+10*frames)
		assert.Equal(t, in[consumed:], rest, "rest is the input's tail")
		assert.Less(t, len(rest), maxFrameHeader+maxServerMessage, "a partial frame is bounded")
	})
}

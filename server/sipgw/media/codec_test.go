package media

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The ITU-T G.191 (Software Tool Library) reference algorithms, transcribed
// from its g711.c, to check the codec against.

func refUlawCompress(x int16) byte {
	var absno int32
	if x < 0 {
		absno = int32((^x)>>2) + 33
	} else {
		absno = int32(x>>2) + 33
	}
	absno = min(absno, 0x1FFF)
	segno := int32(1)
	for i := absno >> 6; i != 0; i >>= 1 {
		segno++
	}
	high := 8 - segno
	low := 0xF - ((absno >> segno) & 0xF)
	out := byte(high<<4 | low)
	if x >= 0 {
		out |= 0x80
	}
	return out
}

func refUlawExpand(b byte) int16 {
	sign := int32(1)
	if b < 0x80 {
		sign = -1
	}
	mantissa := int32(^b)
	exponent := (mantissa >> 4) & 7
	step := int32(4) << (exponent + 1)
	mantissa &= 0xF
	return int16(sign * ((0x80 << exponent) + step*mantissa + step/2 - 4*33))
}

func refAlawCompress(x int16) byte {
	var ix int32
	if x < 0 {
		ix = int32((^x) >> 4)
	} else {
		ix = int32(x >> 4)
	}
	if ix > 15 {
		iexp := int32(1)
		for ix > 16+15 {
			ix >>= 1
			iexp++
		}
		ix -= 16
		ix += iexp << 4
	}
	if x >= 0 {
		ix |= 0x80
	}
	return byte(ix ^ 0x55)
}

func refAlawExpand(b byte) int16 {
	ix := int32(b^0x55) & 0x7F
	iexp := ix >> 4
	mant := ix & 0xF
	if iexp > 0 {
		mant += 16
	}
	mant = mant<<4 + 8
	if iexp > 1 {
		mant <<= iexp - 1
	}
	if b > 127 {
		return int16(mant)
	}
	return int16(-mant)
}

func TestG711KnownValues(t *testing.T) {
	tests := []struct {
		name    string
		codec   Codec
		in      int16
		code    byte
		decoded int16
	}{
		{"ulaw zero", PCMU, 0, 0xFF, 0},
		{"ulaw minus one", PCMU, -1, 0x7F, 0},
		{"ulaw positive full scale", PCMU, math.MaxInt16, 0x80, 32124},
		{"ulaw negative full scale", PCMU, math.MinInt16, 0x00, -32124},
		{"ulaw 1000", PCMU, 1000, 0xCE, 988},
		{"alaw zero", PCMA, 0, 0xD5, 8},
		{"alaw minus one", PCMA, -1, 0x55, -8},
		{"alaw positive full scale", PCMA, math.MaxInt16, 0xAA, 32256},
		{"alaw negative full scale", PCMA, math.MinInt16, 0x2A, -32256},
		{"alaw 1000", PCMA, 1000, 0xFA, 1008},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := tt.codec.Encode(nil, []int16{tt.in})
			require.Equal(t, []byte{tt.code}, enc)
			assert.Equal(t, []int16{tt.decoded}, tt.codec.Decode(nil, enc))
		})
	}
}

func TestG711MatchesReference(t *testing.T) {
	tests := []struct {
		codec    Codec
		compress func(int16) byte
		expand   func(byte) int16
	}{
		{PCMU, refUlawCompress, refUlawExpand},
		{PCMA, refAlawCompress, refAlawExpand},
	}
	for _, tt := range tests {
		t.Run(tt.codec.Name, func(t *testing.T) {
			all := make([]int16, 0, 1<<16)
			for x := math.MinInt16; x <= math.MaxInt16; x++ {
				all = append(all, int16(x))
			}
			enc := tt.codec.Encode(nil, all)
			for i, x := range all {
				if want := tt.compress(x); enc[i] != want {
					t.Fatalf("encode(%d) = %#02x, reference %#02x", x, enc[i], want)
				}
			}
			codes := make([]byte, 256)
			for i := range codes {
				codes[i] = byte(i)
			}
			dec := tt.codec.Decode(nil, codes)
			for i, b := range codes {
				if want := tt.expand(b); dec[i] != want {
					t.Fatalf("decode(%#02x) = %d, reference %d", b, dec[i], want)
				}
			}
		})
	}
}

func TestG711RoundTripError(t *testing.T) {
	tests := []struct {
		codec Codec
		// bound is G.711's quantisation error: half a step of x's segment
		// (a 4-bit mantissa: about x/32), plus the clipping near full scale.
		bound func(x int) int
	}{
		{PCMU, func(x int) int {
			if x > 32124 {
				return x - 32124 + 512
			}
			return (x+132)/32 + 1
		}},
		{PCMA, func(x int) int {
			if x > 32256 {
				return x - 32256 + 512
			}
			return max(x/32, 8) + 1
		}},
	}
	for _, tt := range tests {
		t.Run(tt.codec.Name, func(t *testing.T) {
			for x := math.MinInt16; x <= math.MaxInt16; x++ {
				got := tt.codec.Decode(nil, tt.codec.Encode(nil, []int16{int16(x)}))[0]
				errAbs := abs(int(got) - x)
				if errAbs > tt.bound(abs(x)) {
					t.Fatalf("%d -> %d: error %d over %d", x, got, errAbs, tt.bound(abs(x)))
				}
			}
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestG711Tone(t *testing.T) {
	tests := []struct {
		codec  Codec
		amp    float64
		minSNR float64
	}{
		{PCMU, 16000, 30},
		{PCMU, 1000, 30}, // companding keeps quiet speech clean too
		{PCMA, 16000, 30},
	}
	for _, tt := range tests {
		t.Run(tt.codec.Name, func(t *testing.T) {
			in := tone(1000, tt.amp, 0, 8000)
			out := tt.codec.Decode(nil, tt.codec.Encode(nil, in))
			require.Len(t, out, len(in))
			assert.InDelta(t, 1000, peakFrequency(out), 1)
			assert.Greater(t, snrDB(in, out), tt.minSNR)
		})
	}
}

func TestCodecSupportedAndAppends(t *testing.T) {
	assert.True(t, PCMU.Supported())
	assert.True(t, Codec{"pcma", 96}.Supported())
	g729 := Codec{"G729", 18}
	assert.False(t, g729.Supported())
	assert.Equal(t, []byte{1}, g729.Encode([]byte{1}, []int16{5}), "unsupported appends nothing")
	assert.Equal(t, []int16{1}, g729.Decode([]int16{1}, []byte{5}))
	assert.Equal(t, []byte{9, 0xFF, 0xFF}, PCMU.Encode([]byte{9}, []int16{0, 0}), "appends after dst")
}

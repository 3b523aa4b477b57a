package wire

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAudioRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		f    AudioFrame
	}{
		{"one sample", AudioFrame{Seq: 1, Timestamp: 160, Samples: []int16{-1}}},
		{"20 ms", AudioFrame{Flags: FlagMarker, Seq: 7, Timestamp: 1120, Samples: make([]int16, FrameSamples)}},
		{"extremes and wrap", AudioFrame{Seq: math.MaxUint32, Timestamp: math.MaxUint32, Samples: []int16{math.MinInt16, math.MaxInt16, 0}}},
		{"largest", AudioFrame{Samples: make([]int16, MaxFrameSamples)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AppendAudio(nil, tt.f)
			require.NoError(t, err)
			assert.Len(t, b, AudioHeaderSize+2*len(tt.f.Samples))
			require.NoError(t, CheckAudio(b))
			got, err := DecodeAudio(b, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.f, got)
		})
	}
}

func TestAudioRejectsMalformed(t *testing.T) {
	good, err := AppendAudio(nil, AudioFrame{Samples: []int16{1, 2}})
	require.NoError(t, err)
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"header only", good[:AudioHeaderSize]},
		{"odd payload", good[:len(good)-1]},
		{"bad magic", append([]byte{0x00}, good[1:]...)},
		{"unknown flag", append([]byte{AudioMagic, 0x80}, good[2:]...)},
		{"too long", append(append([]byte{}, good[:AudioHeaderSize]...), make([]byte, 2*(MaxFrameSamples+1))...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeAudio(tt.b, nil)
			assert.ErrorIs(t, err, ErrMalformed)
		})
	}
	_, err = AppendAudio(nil, AudioFrame{})
	assert.ErrorIs(t, err, ErrMalformed, "an empty frame is not encodable")
}

func TestSeqDiffAcrossWrap(t *testing.T) {
	assert.Equal(t, int32(1), SeqDiff(0, math.MaxUint32))
	assert.Equal(t, int32(-1), SeqDiff(math.MaxUint32, 0))
	assert.Equal(t, int32(5), SeqDiff(10, 5))
}

func TestDecodeAudioReusesBuffer(t *testing.T) {
	b, err := AppendAudio(nil, AudioFrame{Samples: make([]int16, FrameSamples)})
	require.NoError(t, err)
	buf := make([]int16, 0, FrameSamples)
	f, err := DecodeAudio(b, buf)
	require.NoError(t, err)
	assert.Equal(t, &buf[:1][0], &f.Samples[0], "decoded into the caller's buffer")
}

func FuzzDecodeAudio(f *testing.F) {
	seed, _ := AppendAudio(nil, AudioFrame{Flags: FlagMarker, Seq: 3, Timestamp: 480, Samples: []int16{1, -2, 3}})
	f.Add(seed)
	f.Add([]byte{AudioMagic})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := DecodeAudio(b, nil)
		if (err == nil) != (CheckAudio(b) == nil) {
			t.Fatalf("DecodeAudio and CheckAudio disagree on %x", b)
		}
		if err != nil {
			return
		}
		out, err := AppendAudio(nil, fr)
		if err != nil || string(out) != string(b) {
			t.Fatalf("accepted frame does not re-encode to itself: %v", err)
		}
	})
}

func BenchmarkAppendDecodeAudio(b *testing.B) {
	f := AudioFrame{Seq: 1, Timestamp: 160, Samples: make([]int16, FrameSamples)}
	buf := make([]byte, 0, AudioHeaderSize+2*FrameSamples)
	samples := make([]int16, 0, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		out, _ := AppendAudio(buf[:0], f)
		_, _ = DecodeAudio(out, samples)
	}
}

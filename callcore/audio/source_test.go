package audio

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/dsp"
)

// fillChunks runs a Source for n samples in awkward chunk sizes, as a
// device or mixer might.
func fillChunks(s dsp.Source, n int) []int16 {
	out := make([]int16, n)
	sizes := []int{160, 333, 1, 960, 4000}
	for off, i := 0, 0; off < n; i++ {
		k := min(sizes[i%len(sizes)], n-off)
		s.Fill(out[off : off+k])
		off += k
	}
	return out
}

func TestRingbackCadence(t *testing.T) {
	out := fillChunks(NewRingback(), 14*SampleRate)
	sec := func(a, b float64) []int16 { return out[int(a*SampleRate):int(b*SampleRate)] }
	for _, burst := range [][]int16{sec(0.1, 1.9), sec(6.1, 7.9), sec(12.1, 13.9)} {
		assert.InDelta(t, 0.5, dsp.ToneShare(burst, 440), 0.05)
		assert.InDelta(t, 0.5, dsp.ToneShare(burst, 480), 0.05)
		assert.InDelta(t, -18, dsp.Level(burst), 0.5)
	}
	for _, pause := range [][]int16{sec(2, 6), sec(8, 12)} {
		assert.Equal(t, dsp.LevelFloor, dsp.Level(pause))
	}
	// Bursts fade in and out instead of clicking.
	assert.Zero(t, out[0])
	assert.Less(t, math.Abs(float64(out[2*SampleRate-1])), 100.0)
	assert.Less(t, math.Abs(float64(out[6*SampleRate+1])), 1000.0)
}

func TestSourcesAcceptEmptyBuffers(t *testing.T) {
	for _, s := range []dsp.Source{NewRingback(), NewRingtone()} {
		require.NotPanics(t, func() { s.Fill(nil) })
	}
}

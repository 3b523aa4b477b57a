package dsp

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/wire"
)

// fillChunks runs a Source for n samples in awkward chunk sizes, as a
// device or mixer might.
func fillChunks(s Source, n int) []int16 {
	out := make([]int16, n)
	sizes := []int{160, 333, 1, 960, 4000}
	for off, i := 0, 0; off < n; i++ {
		k := min(sizes[i%len(sizes)], n-off)
		s.Fill(out[off : off+k])
		off += k
	}
	return out
}

func TestLevel(t *testing.T) {
	square := make([]int16, 800)
	for i := range square {
		square[i] = math.MaxInt16
		if i%2 == 1 {
			square[i] = -math.MaxInt16
		}
	}
	tests := []struct {
		name    string
		samples []int16
		want    float64
	}{
		{"nothing", nil, LevelFloor},
		{"silence", make([]int16, 160), LevelFloor},
		{"full-scale square", square, 0},
		{"full-scale sine", toneSamples(1000, 1, 8000), -3.01},
		{"-20 dB sine", toneSamples(1000, 0.1, 8000), -23.01},
		{"one LSB", []int16{1, -1, 1, -1}, -90.31},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDelta(t, tt.want, Level(tt.samples), 0.05)
		})
	}
}

func TestHoldMusic(t *testing.T) {
	seconds := float64(HoldMusicLoop) / wire.SampleRate
	assert.True(t, seconds >= 8 && seconds <= 16, "loop of %.1f s", seconds)

	out := fillChunks(NewHoldMusic(), 2*HoldMusicLoop+500)
	loop := out[:HoldMusicLoop]
	assert.Equal(t, loop, out[HoldMusicLoop:2*HoldMusicLoop], "it repeats exactly")
	assert.Equal(t, loop[:500], out[2*HoldMusicLoop:])

	// Moderate: neither loud nor lost in the line noise.
	level := Level(loop)
	assert.True(t, level > -28 && level < -14, "level %.1f dBFS", level)
	var peak int
	for _, v := range loop {
		peak = max(peak, int(math.Abs(float64(v))))
	}
	assert.LessOrEqual(t, float64(peak), HoldMusicLevel*math.MaxInt16+1)
	// Never dead air.
	for off := 0; off+wire.SampleRate/4 <= len(loop); off += wire.SampleRate / 4 {
		assert.Greater(t, Level(loop[off:off+wire.SampleRate/4]), -40.0, "at %d", off)
	}
	// Notes start on the 110 bpm eighth-note grid: each onset is louder
	// than the tail of the note before it.
	onsets := 0
	for k := 1; k < HoldMusicLoop/holdEighth; k++ {
		at := k * holdEighth
		if Energy(loop[at:at+400]) > Energy(loop[at-400:at]) {
			onsets++
		}
	}
	assert.GreaterOrEqual(t, onsets, 28, "of 31 eighths")
	// In key: the first bar (C major) has its chord tones, not their
	// chromatic neighbours.
	bar := loop[:8*holdEighth]
	for _, pair := range [][2]float64{{261.63, 277.18}, {329.63, 311.13}, {392.00, 369.99}} {
		assert.Greater(t, Goertzel(bar, pair[0]), 5*Goertzel(bar, pair[1]), "%v Hz over %v Hz", pair[0], pair[1])
	}
}

func TestSourcesAcceptEmptyBuffers(t *testing.T) {
	for _, s := range []Source{NewHoldMusic(), &Tone{Freq: 440, Amplitude: 1}, NewDualTone(1, 2, 3)} {
		require.NotPanics(t, func() { s.Fill(nil) })
	}
}

func toneSamples(freq, amp float64, n int) []int16 {
	out := make([]int16, n)
	(&Tone{Freq: freq, Amplitude: amp}).Fill(out)
	return out
}

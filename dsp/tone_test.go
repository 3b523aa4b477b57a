package dsp

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/onecxi/phone/wire"
)

func TestGoertzelFindsTheTone(t *testing.T) {
	tests := []struct {
		name      string
		gen, look float64
		wantHigh  bool
	}{
		{"same frequency", 440, 440, true},
		{"other frequency", 440, 1004, false},
		{"dtmf row", 697, 697, true},
		{"neighbouring dtmf row", 697, 770, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := make([]int16, 1600)
			(&Tone{Freq: tt.gen, Amplitude: 0.5}).Fill(buf)
			share := ToneShare(buf, tt.look)
			if tt.wantHigh {
				assert.Greater(t, share, 0.8)
			} else {
				assert.Less(t, share, 0.05)
			}
		})
	}
}

func TestDualToneCarriesBothDTMFFrequencies(t *testing.T) {
	low, high, ok := DTMFFreqs('5')
	assert.True(t, ok)
	buf := make([]int16, 1600)
	NewDualTone(low, high, 0.6).Fill(buf)
	assert.Greater(t, ToneShare(buf, low), 0.35)
	assert.Greater(t, ToneShare(buf, high), 0.35)
	assert.Less(t, ToneShare(buf, 1209), 0.05)
	_, _, ok = DTMFFreqs('A')
	assert.False(t, ok)
}

func TestSilenceHasNoTone(t *testing.T) {
	assert.Zero(t, ToneShare(make([]int16, 800), 440))
	assert.Zero(t, Goertzel(nil, 440))
}

func BenchmarkGoertzel(b *testing.B) {
	buf := make([]int16, wire.FrameSamples)
	(&Tone{Freq: 697, Amplitude: 0.5}).Fill(buf)
	b.ReportAllocs()
	for b.Loop() {
		Goertzel(buf, 697)
	}
}

package audio

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/onecxi/phone/dsp"
)

func mixFrames(f *DTMFFeedback, frames int, base int16) []int16 {
	out := make([]int16, 0, frames*FrameSamples)
	buf := make([]int16, FrameSamples)
	for range frames {
		for i := range buf {
			buf[i] = base
		}
		f.MixNext(buf)
		out = append(out, buf...)
	}
	return out
}

func TestDTMFFeedbackPlaysDigitsInTurn(t *testing.T) {
	f := NewDTMFFeedback()
	assert.False(t, f.Busy())
	for _, d := range []byte("1*9") {
		f.Play(d)
	}
	f.Play('A') // ignored
	assert.True(t, f.Busy())
	out := mixFrames(f, 30, 0) // 600 ms
	ms := func(a, b int) []int16 { return out[a*8 : b*8] }
	for i, d := range []byte("1*9") {
		lo, hi, _ := dsp.DTMFFreqs(d)
		tone := ms(160*i+5, 160*i+115)
		assert.Greater(t, dsp.ToneShare(tone, lo), 0.4, "digit %c low", d)
		assert.Greater(t, dsp.ToneShare(tone, hi), 0.4, "digit %c high", d)
		assert.InDelta(t, -16.5, dsp.Level(tone), 0.5, "digit %c level", d)
		assert.Equal(t, dsp.LevelFloor, dsp.Level(ms(160*i+120, 160*i+160)), "gap after %c", d)
	}
	assert.Equal(t, dsp.LevelFloor, dsp.Level(ms(480, 600)), "then nothing")
	assert.False(t, f.Busy())
	// Tones fade in rather than click.
	assert.Zero(t, out[0])
}

func TestDTMFFeedbackMixesIntoExistingAudio(t *testing.T) {
	var f DTMFFeedback // the zero value works
	idle := mixFrames(&f, 2, 1234)
	for _, v := range idle {
		assert.Equal(t, int16(1234), v, "untouched when idle")
	}
	f.Play('0')
	out := mixFrames(&f, 8, 30000)
	var clipped bool
	for _, v := range out {
		assert.GreaterOrEqual(t, float64(v), 30000-DTMFFeedbackLevel*32767-1)
		clipped = clipped || v == 32767
	}
	assert.True(t, clipped, "sums saturate")
}

func TestDTMFFeedbackBoundsItsQueue(t *testing.T) {
	var f DTMFFeedback
	for range 1000 {
		f.Play('5')
	}
	mixFrames(&f, dtmfQueue*8, 0)
	assert.False(t, f.Busy(), "at most %d digits are queued", dtmfQueue)
}

func TestDTMFFeedbackConcurrentPlayAndMix(t *testing.T) {
	f := NewDTMFFeedback()
	played := make(chan struct{})
	go func() {
		defer close(played)
		for i := range 200 {
			f.Play("0123456789*#"[i%12])
		}
	}()
	var out []int16
	buf := make([]int16, FrameSamples)
	for done := false; !done || f.Busy(); {
		select {
		case <-played:
			done = true
		default:
		}
		clear(buf)
		f.MixNext(buf)
		out = append(out, buf...)
	}
	assert.Greater(t, dsp.Energy(out), 0.0)
}

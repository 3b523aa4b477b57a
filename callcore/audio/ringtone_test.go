package audio

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/onecxi/phone/dsp"
)

func TestRingtoneCadence(t *testing.T) {
	r := NewRingtone()
	buf := make([]int16, 2*ringtonePeriod)
	for off := 0; off < len(buf); off += FrameSamples { // in frames, as a device asks
		r.Fill(buf[off:min(off+FrameSamples, len(buf))])
	}
	ms := func(from, to int) []int16 { return buf[from*SampleRate/1000 : to*SampleRate/1000] }
	for _, period := range []int{0, 3000} {
		first, gap, second, quiet := ms(period, period+400), ms(period+400, period+600), ms(period+600, period+1000), ms(period+1000, period+3000)
		for _, burst := range [][]int16{first, second} {
			assert.Greater(t, dsp.Level(burst), -12.0, "a burst is loud")
			// Both pitches of the warble are there, half the time each. A tone
			// gated on half the time measures a quarter of the power share
			// by Goertzel (half the amplitude, squared).
			lo, hi := dsp.ToneShare(burst, ringtoneLow), dsp.ToneShare(burst, ringtoneHigh)
			assert.InDelta(t, 0.25, lo, 0.05, "share of %d Hz", ringtoneLow)
			assert.InDelta(t, 0.25, hi, 0.05, "share of %d Hz", ringtoneHigh)
			assert.Less(t, dsp.ToneShare(burst, ringbackLow), 0.01, "not the ringback's pitch")
		}
		assert.Equal(t, dsp.LevelFloor, dsp.Level(gap), "the gap between the bursts is silent")
		assert.Equal(t, dsp.LevelFloor, dsp.Level(quiet), "the pause between rings is silent")
	}
	// Bursts fade in: no click at the start.
	assert.Zero(t, buf[0])
	assert.Less(t, float64(abs16(buf[1])), RingtoneLevel*32767/4)
}

func abs16(v int16) int16 {
	if v < 0 {
		return -v
	}
	return v
}

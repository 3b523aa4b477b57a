package media

import (
	"math"

	"github.com/onecxi/phone/dsp"
)

// peakFrequency returns the frequency of the sweep 100..3900 Hz (steps of
// 20 Hz) with the most power in samples.
func peakFrequency(samples []int16) float64 {
	best, bestP := 0.0, -1.0
	for f := 100.0; f < 3900; f += 20 {
		if p := dsp.Goertzel(samples, f); p > bestP {
			best, bestP = f, p
		}
	}
	return best
}

// tone returns n samples of a sine of frequency f and amplitude amp,
// starting at sample offset start (so consecutive calls continue the wave).
func tone(f, amp float64, start, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*f*float64(start+i)/ClockRate))
	}
	return out
}

// snrDB is the signal-to-noise ratio of got against want, in dB.
func snrDB(want, got []int16) float64 {
	var sig, noise float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		sig += float64(want[i]) * float64(want[i])
		noise += d * d
	}
	return 10 * math.Log10(sig/noise)
}

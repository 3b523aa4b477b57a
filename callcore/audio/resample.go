package audio

import (
	"math"

	"github.com/onecxi/phone/dsp"
)

// maxResampleRate bounds the input rate Resample accepts; it also bounds
// the low-pass filter length (about 1,000 taps at this rate).
const maxResampleRate = 384000

// resampleTransition is half the width, in Hz, of the anti-alias filter's
// transition band around 4 kHz: flat to 3.4 kHz (the telephone band), and
// what lies above 4.6 kHz cannot alias below 3.4 kHz.
const resampleTransition = 600

// Resample converts mono samples at fromRate Hz to SampleRate. Downsampling
// low-pass filters at 4 kHz (windowed sinc) and then interpolates linearly
// between filtered input samples, which is accurate because the filtered
// signal is heavily oversampled. Upsampling interpolates linearly. It always
// returns a new slice, or nil for a rate outside 1..384000 Hz.
func Resample(in []int16, fromRate int) []int16 {
	if fromRate <= 0 || fromRate > maxResampleRate {
		return nil
	}
	if fromRate == SampleRate || len(in) == 0 {
		return append([]int16{}, in...)
	}
	taps := lowPass(fromRate)
	half := len(taps) / 2
	// filtered returns the low-passed input at index i; zero outside.
	filtered := func(i int) float64 {
		if taps == nil {
			return float64(in[i])
		}
		var acc float64
		lo, hi := i-half, i+half
		k := 0
		if lo < 0 {
			k, lo = -lo, 0
		}
		hi = min(hi, len(in)-1)
		for j := lo; j <= hi; j, k = j+1, k+1 {
			acc += taps[k] * float64(in[j])
		}
		return acc
	}
	n := int64(len(in))
	rate := int64(fromRate)
	m := (n-1)*SampleRate/rate + 1
	out := make([]int16, m)
	for k := range out {
		// Output sample k is at input position k*rate/SampleRate, kept as
		// an integer and a remainder so that long files do not drift.
		pos := int64(k) * rate
		i, frac := int(pos/SampleRate), pos%SampleRate
		v := filtered(i)
		if frac != 0 {
			w := float64(frac) / SampleRate
			v = v*(1-w) + filtered(i+1)*w
		}
		out[k] = dsp.Clip(int32(math.Round(v)))
	}
	return out
}

// lowPass designs a Hamming-windowed sinc low-pass at SampleRate/2 for input
// at rate Hz, normalised to unity gain at DC; nil when rate needs none.
func lowPass(rate int) []float64 {
	if rate <= SampleRate {
		return nil
	}
	// Hamming needs about 3.3/Δf taps for its ~53 dB stop band.
	n := int(math.Ceil(3.3*float64(rate)/(2*resampleTransition))) | 1
	fc := float64(SampleRate/2) / float64(rate) // cycles per input sample
	taps := make([]float64, n)
	mid := n / 2
	var sum float64
	for k := range taps {
		x := float64(k - mid)
		v := 2 * fc
		if x != 0 {
			v = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		v *= 0.54 - 0.46*math.Cos(2*math.Pi*float64(k)/float64(n-1))
		taps[k] = v
		sum += v
	}
	for k := range taps {
		taps[k] /= sum
	}
	return taps
}

package dsp

import (
	"math"

	"github.com/onecxi/phone/wire"
)

// Tone is a sine generator with continuous phase across calls.
type Tone struct {
	Freq      float64 // Hz
	Amplitude float64 // 0..1 of full scale
	phase     float64
}

// Fill writes the next len(out) samples of the tone into out.
func (t *Tone) Fill(out []int16) {
	step := 2 * math.Pi * t.Freq / wire.SampleRate
	a := t.Amplitude * math.MaxInt16
	for i := range out {
		out[i] = int16(a * math.Sin(t.phase))
		t.phase += step
		if t.phase > 2*math.Pi {
			t.phase -= 2 * math.Pi
		}
	}
}

// DualTone is the sum of two tones (DTMF, ringback), each at Amplitude/2.
type DualTone struct {
	Low, High Tone
}

// NewDualTone returns a dual tone of total amplitude amp.
func NewDualTone(low, high, amp float64) *DualTone {
	return &DualTone{Low: Tone{Freq: low, Amplitude: amp / 2}, High: Tone{Freq: high, Amplitude: amp / 2}}
}

// Fill writes the next len(out) samples.
func (d *DualTone) Fill(out []int16) {
	var tmp [MaxScratch]int16
	d.Low.Fill(out)
	for off := 0; off < len(out); off += MaxScratch {
		n := min(MaxScratch, len(out)-off)
		d.High.Fill(tmp[:n])
		for i := 0; i < n; i++ {
			out[off+i] = Clip(int32(out[off+i]) + int32(tmp[i]))
		}
	}
}

// MaxScratch is the stack scratch size of generators and mixers.
const MaxScratch = 960

// dtmfFreqs maps digits to their (row, column) frequencies, ITU-T Q.23.
var dtmfFreqs = map[byte][2]float64{
	'1': {697, 1209}, '2': {697, 1336}, '3': {697, 1477},
	'4': {770, 1209}, '5': {770, 1336}, '6': {770, 1477},
	'7': {852, 1209}, '8': {852, 1336}, '9': {852, 1477},
	'*': {941, 1209}, '0': {941, 1336}, '#': {941, 1477},
}

// DTMFFreqs returns the low and high frequency of a DTMF digit; ok is false
// for anything but 0-9, * and #.
func DTMFFreqs(digit byte) (low, high float64, ok bool) {
	f, ok := dtmfFreqs[digit]
	return f[0], f[1], ok
}

// Clip saturates a sum to the int16 range.
func Clip(v int32) int16 {
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}

// MixInto adds src to dst sample by sample, saturating.
func MixInto(dst, src []int16) {
	for i := range min(len(dst), len(src)) {
		dst[i] = Clip(int32(dst[i]) + int32(src[i]))
	}
}

// Goertzel returns the power of freq in samples, normalised so that a
// full-scale sine at freq gives about 1 and silence gives 0. It is how tests
// and the IVR detect a tone: cheap, and exact for one frequency.
func Goertzel(samples []int16, freq float64) float64 {
	n := len(samples)
	if n == 0 {
		return 0
	}
	// The exact frequency, not the nearest DFT bin: DTMF rows are closer
	// together than the bins of a short window.
	w := 2 * math.Pi * freq / wire.SampleRate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x)/math.MaxInt16 + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - coeff*s1*s2
	return p * 4 / (float64(n) * float64(n))
}

// Energy returns the mean power of samples, 0..1 of full scale squared.
func Energy(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var e float64
	for _, x := range samples {
		f := float64(x) / math.MaxInt16
		e += f * f
	}
	return e / float64(len(samples))
}

// ToneShare returns the fraction of the signal's power that lies at freq
// (0..~1). A pure tone at freq gives about 1; other tones, noise or silence
// give near 0. Use it to say "this recording is mostly the 440 Hz tone".
func ToneShare(samples []int16, freq float64) float64 {
	e := Energy(samples)
	if e == 0 {
		return 0
	}
	// A sine of amplitude A has mean power A²/2 and Goertzel power ~A².
	return Goertzel(samples, freq) / (2 * e)
}

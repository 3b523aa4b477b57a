package audio

import "github.com/onecxi/phone/dsp"

// Ringback cadence (North American, ITU-T E.180): 440 + 480 Hz, 2 s on, 4 s off.
const (
	ringbackLow    = 440
	ringbackHigh   = 480
	ringbackOn     = 2 * SampleRate
	ringbackPeriod = 6 * SampleRate
	// RingbackLevel is the ringback's peak amplitude (-18 dBFS rms):
	// clearly audible, well below speech peaks.
	RingbackLevel = 0.25
	// toneRamp fades synthesised tones in and out over 5 ms.
	toneRamp = SampleRate / 200
)

// Ringback is the tone a caller hears while the far end rings. Its cadence
// starts with a burst.
type Ringback struct {
	tone dsp.DualTone
	pos  int // position in the cadence
}

// NewRingback returns a ringback at the start of its first burst.
func NewRingback() *Ringback {
	return &Ringback{tone: *dsp.NewDualTone(ringbackLow, ringbackHigh, RingbackLevel)}
}

// Fill writes the next len(out) samples of the cadence.
func (r *Ringback) Fill(out []int16) {
	r.tone.Fill(out)
	for i := range out {
		p := r.pos
		switch {
		case p >= ringbackOn:
			out[i] = 0
		default:
			out[i] = int16(float32(out[i]) * dsp.Ramp(p, toneRamp) * dsp.Ramp(ringbackOn-1-p, toneRamp))
		}
		r.pos = (r.pos + 1) % ringbackPeriod
	}
}

package dsp

import "github.com/onecxi/phone/wire"

// Ringback cadence (North American, ITU-T E.180): 440 + 480 Hz, 2 s on, 4 s
// off. The phone plays it while the far end rings; the SIP gateway plays it
// as early media to a caller while an agent's app rings.
const (
	RingbackLow    = 440
	RingbackHigh   = 480
	ringbackOn     = 2 * wire.SampleRate
	ringbackPeriod = 6 * wire.SampleRate
	// RingbackLevel is the ringback's peak amplitude (-18 dBFS rms):
	// clearly audible, well below speech peaks.
	RingbackLevel = 0.25
	// ringbackRamp fades each burst in and out over 5 ms.
	ringbackRamp = wire.SampleRate / 200
)

// Ringback is the tone a caller hears while the far end rings. Its cadence
// starts with a burst. It is a Source.
type Ringback struct {
	tone DualTone
	pos  int // position in the cadence
}

// NewRingback returns a ringback at the start of its first burst.
func NewRingback() *Ringback {
	return &Ringback{tone: *NewDualTone(RingbackLow, RingbackHigh, RingbackLevel)}
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
			out[i] = int16(float32(out[i]) * Ramp(p, ringbackRamp) * Ramp(ringbackOn-1-p, ringbackRamp))
		}
		r.pos = (r.pos + 1) % ringbackPeriod
	}
}

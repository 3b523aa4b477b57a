package audio

import "github.com/onecxi/phone/dsp"

// Ringback cadence (North American, ITU-T E.180): 440 + 480 Hz, 2 s on, 4 s
// off; the tone itself is dsp.Ringback, shared with the server.
const (
	ringbackLow = dsp.RingbackLow
	// RingbackLevel is the ringback's peak amplitude (-18 dBFS rms).
	RingbackLevel = dsp.RingbackLevel
	// toneRamp fades synthesised tones in and out over 5 ms.
	toneRamp = SampleRate / 200
)

// Ringback is the tone a caller hears while the far end rings. Its cadence
// starts with a burst.
type Ringback = dsp.Ringback

// NewRingback returns a ringback at the start of its first burst.
func NewRingback() *Ringback { return dsp.NewRingback() }

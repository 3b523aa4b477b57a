package audio

import "github.com/onecxi/phone/dsp"

// Ringtone cadence: a two-tone warble (alternating 1000 and 1250 Hz every
// 50 ms) for 0.4 s, a 0.2 s pause, another 0.4 s burst, then 2 s of silence,
// like a desk phone's double ring. It is deliberately unlike Ringback (a
// steady 440+480 Hz purr), so the user can tell "my phone rings" from "the
// other phone rings".
const (
	ringtoneLow    = 1000
	ringtoneHigh   = 1250
	ringtoneWarble = SampleRate / 20             // 50 ms per pitch
	ringtoneBurst  = 2 * SampleRate / 5          // 0.4 s
	ringtoneGap    = SampleRate / 5              // 0.2 s between the two bursts
	ringtonePeriod = 3 * SampleRate              // burst, gap, burst, 2 s silence
	ringtoneSecond = ringtoneBurst + ringtoneGap // where the second burst starts
	// RingtoneLevel is the ringtone's peak amplitude: loud enough to notice
	// across a room through laptop speakers, below full scale.
	RingtoneLevel = 0.5
)

// Ringtone is the sound of an incoming call. Its cadence starts with a
// burst, so the first ring is heard at once.
type Ringtone struct {
	low, high dsp.Tone
	pos       int // position in the cadence
}

// NewRingtone returns a ringtone at the start of its first burst.
func NewRingtone() *Ringtone {
	return &Ringtone{
		low:  dsp.Tone{Freq: ringtoneLow, Amplitude: RingtoneLevel},
		high: dsp.Tone{Freq: ringtoneHigh, Amplitude: RingtoneLevel},
	}
}

// Fill writes the next len(out) samples of the cadence.
func (r *Ringtone) Fill(out []int16) {
	var lo, hi [1]int16
	for i := range out {
		// Both generators advance every sample so each pitch keeps a
		// continuous phase across the warble.
		r.low.Fill(lo[:])
		r.high.Fill(hi[:])
		p := r.pos
		r.pos = (r.pos + 1) % ringtonePeriod
		if p >= ringtoneSecond {
			p -= ringtoneSecond
		}
		if p >= ringtoneBurst { // the gap, or the pause after the second burst
			out[i] = 0
			continue
		}
		s := lo[0]
		if p/ringtoneWarble%2 == 1 {
			s = hi[0]
		}
		out[i] = int16(float32(s) * dsp.Ramp(p, toneRamp) * dsp.Ramp(ringtoneBurst-1-p, toneRamp))
	}
}

var _ dsp.Source = (*Ringtone)(nil)

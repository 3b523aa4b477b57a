package dsp

import (
	"math"
	"sync"

	"github.com/onecxi/phone/wire"
)

// Hold music: a gentle I-vi-IV-V progression in C major at 110 bpm (an
// arpeggio in eighths, a slow melody above, a bass note per bar) repeating
// every four bars, about 8.7 s. Synthesised, so no asset and no licence.
const (
	holdBPM    = 110
	holdEighth = wire.SampleRate * 60 / holdBPM / 2 // samples
	holdBars   = 4
	holdLoop   = holdBars * 8 * holdEighth
	// HoldMusicLevel is the loop's peak amplitude: about -20 dBFS rms,
	// pleasant in an earpiece without drowning a "please hold" prompt.
	HoldMusicLevel = 0.3
)

// holdVoice is one instrument: its notes (MIDI numbers, 0 a rest) each
// lasting length eighths, its loudness and how fast a note dies away.
type holdVoice struct {
	notes  []int
	length int
	gain   float64
	decay  float64 // seconds for the envelope to fall to 1/e
}

var holdScore = []holdVoice{
	{ // arpeggio: C, Am, F, G7
		notes: []int{
			60, 64, 67, 72, 67, 64, 67, 64,
			57, 60, 64, 69, 64, 60, 64, 60,
			53, 57, 60, 65, 60, 57, 60, 57,
			55, 59, 62, 67, 62, 59, 62, 65,
		},
		length: 1, gain: 0.45, decay: 0.35,
	},
	{ // melody, in half notes
		notes:  []int{76, 74, 72, 76, 69, 72, 71, 74},
		length: 4, gain: 0.6, decay: 0.7,
	},
	{ // bass, a whole note per bar
		notes:  []int{48, 45, 41, 43},
		length: 8, gain: 0.5, decay: 1.0,
	},
}

// holdMusic is the synthesised loop, made once on first use (140 KB).
var holdMusic = sync.OnceValue(func() []int16 {
	mix := make([]float64, holdLoop)
	const attack = wire.SampleRate / 100        // 10 ms: soft, but still a note onset
	const release = wire.SampleRate * 80 / 1000 // fade after the note's time
	for _, v := range holdScore {
		for i, note := range v.notes {
			if note == 0 {
				continue
			}
			freq := 440 * math.Pow(2, float64(note-69)/12)
			start := i * v.length * holdEighth
			dur := v.length * holdEighth
			for j := range dur + release {
				t := float64(j) / wire.SampleRate
				env := math.Exp(-t / v.decay)
				if j < attack {
					env *= float64(j) / attack
				}
				if j >= dur {
					env *= 1 - float64(j-dur)/release
				}
				// A sine and its octave: warmer than a bare sine, still soft.
				x := math.Sin(2*math.Pi*freq*t) + 0.3*math.Sin(4*math.Pi*freq*t)
				// The release of the last notes wraps to the loop's start.
				mix[(start+j)%holdLoop] += v.gain * env * x
			}
		}
	}
	var peak float64
	for _, x := range mix {
		peak = math.Max(peak, math.Abs(x))
	}
	out := make([]int16, holdLoop)
	for i, x := range mix {
		out[i] = int16(math.Round(x / peak * HoldMusicLevel * math.MaxInt16))
	}
	return out
})

// HoldMusic plays the hold loop, endlessly.
type HoldMusic struct {
	pos int
}

// NewHoldMusic returns hold music at the start of its loop.
func NewHoldMusic() *HoldMusic { return &HoldMusic{} }

// HoldMusicLoop is the length of the hold music's loop in samples.
const HoldMusicLoop = holdLoop

// Fill writes the next len(out) samples of the music.
func (h *HoldMusic) Fill(out []int16) {
	loop := holdMusic()
	for i := 0; i < len(out); {
		n := copy(out[i:], loop[h.pos:])
		i += n
		h.pos = (h.pos + n) % len(loop)
	}
}

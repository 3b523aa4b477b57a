package audio

import (
	"sync"

	"github.com/onecxi/phone/dsp"
)

// DTMF feedback timing and level.
const (
	dtmfOn  = 120 * SampleRate / 1000 // tone
	dtmfGap = 40 * SampleRate / 1000  // silence before the next digit
	// DTMFFeedbackLevel is the feedback tones' peak amplitude.
	DTMFFeedbackLevel = 0.3
	// dtmfQueue bounds the digits waiting, so a stuck key cannot queue
	// minutes of beeps.
	dtmfQueue = 32
)

// DTMFFeedback plays the keypad tones the user presses, locally, one after
// another. Play and MixNext may be called from different goroutines. The
// zero value is ready to use.
type DTMFFeedback struct {
	mu      sync.Mutex
	queue   []byte
	playing bool
	tone    dsp.DualTone
	pos     int // position within the current digit's tone and gap
}

// NewDTMFFeedback returns an idle DTMFFeedback.
func NewDTMFFeedback() *DTMFFeedback { return &DTMFFeedback{} }

// Play queues ~120 ms of digit's dual tone and a 40 ms gap. Anything but
// 0-9, * and # is ignored, as are digits beyond a full queue.
func (f *DTMFFeedback) Play(digit byte) {
	if _, _, ok := dsp.DTMFFreqs(digit); !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queue) < dtmfQueue {
		f.queue = append(f.queue, digit)
	}
}

// Busy reports whether a tone is playing or queued.
func (f *DTMFFeedback) Busy() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.playing || len(f.queue) > 0
}

// MixNext adds the next len(out) samples of pending tones to out,
// saturating; out is untouched when nothing is pending.
func (f *DTMFFeedback) MixNext(out []int16) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var tmp [dsp.MaxScratch]int16
	for i := 0; i < len(out); {
		if !f.playing {
			if len(f.queue) == 0 {
				return
			}
			lo, hi, _ := dsp.DTMFFreqs(f.queue[0])
			f.queue = f.queue[1:]
			f.tone, f.pos, f.playing = *dsp.NewDualTone(lo, hi, DTMFFeedbackLevel), 0, true
		}
		if f.pos < dtmfOn {
			n := min(dtmfOn-f.pos, len(out)-i, dsp.MaxScratch)
			f.tone.Fill(tmp[:n])
			for j := range n {
				p := f.pos + j
				v := float32(tmp[j]) * dsp.Ramp(p, toneRamp) * dsp.Ramp(dtmfOn-1-p, toneRamp)
				out[i+j] = dsp.Clip(int32(out[i+j]) + int32(v))
			}
			f.pos += n
			i += n
			continue
		}
		n := min(dtmfOn+dtmfGap-f.pos, len(out)-i)
		f.pos += n
		i += n
		if f.pos >= dtmfOn+dtmfGap {
			f.playing = false
		}
	}
}

package audio

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/dsp"
)

// DefaultRecording is how much played audio a ToneDevice keeps.
const DefaultRecording = 30 * time.Second

// ToneDevice is a virtual device for tests: it captures a continuous sine
// (as if someone held a tone to the microphone) and records what it plays,
// so a test can check that the tone sent at one end is heard at the other.
type ToneDevice struct {
	clock frameClock

	mu    sync.Mutex
	tone  dsp.Tone
	rec   []int16 // ring once full: grows to limit, then wraps
	next  int     // write index once the ring is full
	max   int
	total int64 // samples played in all

	captured, played atomic.Uint64
}

// ToneOption configures a ToneDevice.
type ToneOption func(*ToneDevice)

// WithRecording sets how much played audio a ToneDevice keeps (default
// DefaultRecording); the oldest is dropped beyond it.
func WithRecording(d time.Duration) ToneOption {
	return func(t *ToneDevice) { t.max = max(0, int(samplesOf(d))) }
}

// NewToneDevice returns a stopped device capturing a sine of freq Hz at
// amplitude (0..1 of full scale); freq 0 captures silence.
func NewToneDevice(freq, amplitude float64, opts ...ToneOption) *ToneDevice {
	d := &ToneDevice{max: int(samplesOf(DefaultRecording))}
	for _, o := range opts {
		if o != nil {
			o(d)
		}
	}
	d.SetTone(freq, amplitude)
	return d
}

// SetTone changes the captured tone, also while running; the phase stays
// continuous. Out-of-range values are clamped (a frequency outside
// 0..SampleRate/2 gives silence).
func (d *ToneDevice) SetTone(freq, amplitude float64) {
	if !(freq > 0 && freq < SampleRate/2) {
		freq = 0
	}
	if !(amplitude > 0) {
		amplitude = 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tone.Freq, d.tone.Amplitude = freq, math.Min(amplitude, 1)
}

// Tone returns the captured tone's frequency and amplitude.
func (d *ToneDevice) Tone() (freq, amplitude float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.tone.Freq, d.tone.Amplitude
}

// Start clocks s until Stop or ctx ends.
func (d *ToneDevice) Start(ctx context.Context, s Stream) error {
	return d.clock.start(ctx, s, d.fill, d.record)
}

// Stop ends clocking and waits for the last frame. Safe to call twice.
func (d *ToneDevice) Stop() error {
	d.clock.stop()
	return nil
}

// Name describes the device.
func (d *ToneDevice) Name() string {
	f, a := d.Tone()
	return fmt.Sprintf("tone %g Hz at %g", f, a)
}

func (d *ToneDevice) fill(in []int16) {
	d.mu.Lock()
	d.tone.Fill(in)
	d.mu.Unlock()
	d.captured.Add(1)
}

func (d *ToneDevice) record(out []int16) {
	d.mu.Lock()
	d.appendRec(out)
	d.total += int64(len(out))
	d.mu.Unlock()
	d.played.Add(1)
}

func (d *ToneDevice) appendRec(s []int16) {
	if d.max == 0 {
		return
	}
	if len(s) > d.max {
		s = s[len(s)-d.max:]
	}
	if room := d.max - len(d.rec); room > 0 {
		n := min(room, len(s))
		d.rec = append(d.rec, s[:n]...)
		s = s[n:]
	}
	for len(s) > 0 {
		n := copy(d.rec[d.next:], s)
		s = s[n:]
		d.next = (d.next + n) % d.max
	}
}

// Recording returns a copy of the played audio kept, oldest first.
func (d *ToneDevice) Recording() []int16 {
	rec, _ := d.RecordingAt()
	return rec
}

// RecordingAt returns Recording together with how many samples the device
// had played in all when it was taken: rec[i] is sample total-len(rec)+i of
// play-out. With PlayedSamples it tells when something was heard.
func (d *ToneDevice) RecordingAt() (rec []int16, total int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	rec = make([]int16, 0, len(d.rec))
	rec = append(rec, d.rec[d.next:]...)
	return append(rec, d.rec[:d.next]...), d.total
}

// PlayedSamples returns how many samples the device has played in all.
func (d *ToneDevice) PlayedSamples() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.total
}

// Last returns a copy of the last dur of played audio (less if not that
// much was played or kept).
func (d *ToneDevice) Last(dur time.Duration) []int16 {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := min(len(d.rec), max(0, int(samplesOf(dur))))
	out := make([]int16, n)
	// The newest n samples end just before next (the ring's write index).
	start := (d.next - n + len(d.rec)) % max(1, len(d.rec))
	k := copy(out, d.rec[start:])
	copy(out[k:], d.rec[:d.next])
	return out
}

// ResetRecording forgets the played audio kept so far.
func (d *ToneDevice) ResetRecording() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rec, d.next = d.rec[:0], 0
}

// Frames returns how many frames the device has captured and played.
func (d *ToneDevice) Frames() (captured, played uint64) {
	return d.captured.Load(), d.played.Load()
}

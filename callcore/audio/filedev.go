package audio

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/wire"
)

// DefaultToneAmplitude is the amplitude of a "tone:FREQ" file device input.
const DefaultToneAmplitude = 0.5

// maxFileRecording bounds what a FileDevice records: what WriteWAV can
// write and ReadWAV read back (about 70 minutes).
const maxFileRecording = MaxWAVData / 2

// FileOption configures a FileDevice.
type FileOption func(*FileDevice)

// WithLoop makes a FileDevice repeat its WAV input instead of capturing
// silence after its end.
func WithLoop() FileOption { return func(d *FileDevice) { d.loop = true } }

// WithStartGate makes a FileDevice capture silence until gate is closed, so
// that a WAV input is not used up while a call is still ringing (its frames
// are not sent before the answer). The CLI closes it on onCallStarted.
func WithStartGate(gate <-chan struct{}) FileOption {
	return func(d *FileDevice) { d.gate = gate }
}

// FileDevice is a virtual device for the command line: it captures a WAV
// file, a tone or silence, and records what it plays to a WAV file.
type FileDevice struct {
	in, out string
	loop    bool
	gate    <-chan struct{} // nil: capture from the start
	clock   frameClock

	// Only the clock goroutine touches these while running.
	samples []int16 // WAV input; nil for a tone or silence
	tone    *dsp.Tone
	pos     int
	ended   bool // the input's end has been captured

	mu       sync.Mutex
	recorded []int16

	done     chan struct{}
	doneOnce sync.Once
}

// NewFileDevice returns a stopped device. in is a WAV file (see ReadWAV),
// "tone:FREQ" or "tone:FREQ:AMPLITUDE" for a sine, or "" for silence. out,
// if not empty, is the WAV file written on Stop with everything played.
func NewFileDevice(in, out string, opts ...FileOption) (*FileDevice, error) {
	d := &FileDevice{in: in, out: out, done: make(chan struct{})}
	for _, o := range opts {
		if o != nil {
			o(d)
		}
	}
	switch {
	case in == "":
	case strings.HasPrefix(in, "tone:"):
		t, err := parseTone(strings.TrimPrefix(in, "tone:"))
		if err != nil {
			return nil, err
		}
		d.tone = t
	default:
		f, err := os.Open(in)
		if err != nil {
			return nil, fmt.Errorf("audio: input: %w", wire.QuoteError(err))
		}
		defer f.Close()
		if d.samples, err = ReadWAV(f); err != nil {
			return nil, fmt.Errorf("audio: input %s: %w", wire.QuotePath(in), err)
		}
		if len(d.samples) == 0 {
			d.finish()
		}
	}
	return d, nil
}

// parseTone parses "FREQ" or "FREQ:AMPLITUDE".
func parseTone(spec string) (*dsp.Tone, error) {
	fs, as, hasAmp := strings.Cut(spec, ":")
	freq, err := strconv.ParseFloat(fs, 64)
	if err != nil || !(freq >= 0 && freq < SampleRate/2) {
		return nil, fmt.Errorf("audio: tone frequency %s: want 0 to %d Hz", wire.Quote(fs), SampleRate/2)
	}
	amp := DefaultToneAmplitude
	if hasAmp {
		amp, err = strconv.ParseFloat(as, 64)
		if err != nil || !(amp >= 0 && amp <= 1) {
			return nil, fmt.Errorf("audio: tone amplitude %s: want 0 to 1", wire.Quote(as))
		}
	}
	return &dsp.Tone{Freq: freq, Amplitude: amp}, nil
}

// Done is closed once the whole WAV input has been captured (handed to the
// Stream) once. It never closes for a tone or silence, which do not end.
func (d *FileDevice) Done() <-chan struct{} { return d.done }

func (d *FileDevice) finish() { d.doneOnce.Do(func() { close(d.done) }) }

// Start clocks s until Stop or ctx ends. Capture resumes where it was.
func (d *FileDevice) Start(ctx context.Context, s Stream) error {
	return d.clock.start(ctx, s, d.fill, d.sink)
}

// Stop ends clocking and, if an output file was given, writes everything
// played so far to it. Safe to call twice.
func (d *FileDevice) Stop() error {
	if !d.clock.stop() || d.out == "" {
		return nil
	}
	if err := writeWAVFile(d.out, d.Recorded()); err != nil {
		return fmt.Errorf("audio: output: %w", wire.QuoteError(err))
	}
	return nil
}

func writeWAVFile(path string, samples []int16) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteWAV(f, samples); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Name describes the device.
func (d *FileDevice) Name() string {
	in, out := d.in, d.out
	if in == "" {
		in = "silence"
	}
	if out == "" {
		out = "nowhere"
	}
	return fmt.Sprintf("file %s -> %s", in, out)
}

// Recorded returns a copy of everything played so far (kept only when an
// output file was given).
func (d *FileDevice) Recorded() []int16 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]int16{}, d.recorded...)
}

func (d *FileDevice) fill(in []int16) {
	if d.gate != nil {
		select {
		case <-d.gate:
			d.gate = nil // open for good; only the clock goroutine reads it
		default:
			clear(in)
			return
		}
	}
	switch {
	case d.tone != nil:
		d.tone.Fill(in)
		return
	case d.samples == nil:
		clear(in)
		return
	}
	for i := 0; i < len(in); {
		if d.pos >= len(d.samples) {
			d.ended = true
			if !d.loop || len(d.samples) == 0 {
				clear(in[i:])
				return
			}
			d.pos = 0
		}
		n := copy(in[i:], d.samples[d.pos:])
		i += n
		d.pos += n
	}
	if d.pos >= len(d.samples) {
		d.ended = true
	}
}

func (d *FileDevice) sink(out []int16) {
	if d.ended {
		d.finish() // the Stream has had this tick's frame by now
	}
	if d.out == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if room := maxFileRecording - len(d.recorded); room > 0 {
		d.recorded = append(d.recorded, out[:min(room, len(out))]...)
	}
}

package audio

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/dsp"
)

// recordingStream records what a device captures and plays a tone (or a
// counting ramp) into it, checking frame sizes as it goes.
type recordingStream struct {
	mu       sync.Mutex
	lastAt   time.Time // when the last frame was captured
	captured []int16
	frames   int
	played   int
	badSizes int
	tone     *dsp.Tone
	ramp     int16
}

func (s *recordingStream) Capture(frame []int16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(frame) != FrameSamples {
		s.badSizes++
	}
	s.frames++
	s.lastAt = time.Now()
	if len(s.captured) < 60*SampleRate {
		s.captured = append(s.captured, frame...)
	}
}

func (s *recordingStream) Playback(out []int16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(out) != FrameSamples {
		s.badSizes++
	}
	s.played++
	if s.tone != nil {
		s.tone.Fill(out)
		return
	}
	for i := range out {
		out[i] = s.ramp
		s.ramp++
	}
}

func (s *recordingStream) counts() (captured, played, bad int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frames, s.played, s.badSizes
}

// quietFor reports whether no frame was captured in the last d.
func (s *recordingStream) quietFor(d time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Since(s.lastAt) >= d
}

func (s *recordingStream) capturedAudio() []int16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int16(nil), s.captured...)
}

// waitFrames waits until the stream has seen n frames each way. Devices run
// in real time, so this polls; the timeout is only a liveness bound.
func waitFrames(t *testing.T, s *recordingStream, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		c, p, _ := s.counts()
		return c >= n && p >= n
	}, 5*time.Second, 5*time.Millisecond, "device delivered %d frames", n)
}

// checkLifecycle runs the start/stop rules every Device must follow.
func checkLifecycle(t *testing.T, d Device) {
	t.Helper()
	s := &recordingStream{tone: &dsp.Tone{Freq: 1000, Amplitude: 0.5}}
	assert.Error(t, d.Start(context.Background(), nil))
	require.NoError(t, d.Start(context.Background(), s))
	assert.ErrorIs(t, d.Start(context.Background(), s), ErrStarted)
	waitFrames(t, s, 5)
	require.NoError(t, d.Stop())
	require.NoError(t, d.Stop(), "Stop twice")
	c, p, bad := s.counts()
	assert.Zero(t, bad, "every frame is %d samples", FrameSamples)
	assert.InDelta(t, c, p, 1, "a playback for each capture")
	// Stopped means stopped: the goroutine is gone, nothing more arrives.
	// Three 20 ms frame times: a device still running would deliver in them.
	assert.Never(t, func() bool {
		c2, p2, _ := s.counts()
		return c2 != c || p2 != p
	}, 60*time.Millisecond, 5*time.Millisecond, "frames after Stop")

	// Cancelling the context stops it too; then it can start again.
	ctx, cancel := context.WithCancel(context.Background())
	s2 := &recordingStream{}
	require.NoError(t, d.Start(ctx, s2))
	waitFrames(t, s2, 2)
	cancel()
	// Stopped: no frame for three 20 ms frame times.
	require.Eventually(t, func() bool { return s2.quietFor(60 * time.Millisecond) }, 5*time.Second, time.Millisecond,
		"cancelling the context did not stop the device")
	require.NoError(t, d.Stop())
	s3 := &recordingStream{}
	require.NoError(t, d.Start(context.Background(), s3))
	waitFrames(t, s3, 2)
	require.NoError(t, d.Stop())
	assert.NotEmpty(t, d.Name())
}

func TestNullDevice(t *testing.T) {
	d := NewNullDevice()
	checkLifecycle(t, d)
	s := &recordingStream{}
	require.NoError(t, d.Start(context.Background(), s))
	waitFrames(t, s, 10)
	require.NoError(t, d.Stop())
	captured := s.capturedAudio()
	assert.GreaterOrEqual(t, len(captured), 10*FrameSamples)
	assert.Zero(t, dsp.Energy(captured), "a null device captures silence")
}

func TestToneDeviceCapturesToneAndRecordsPlayback(t *testing.T) {
	checkLifecycle(t, NewToneDevice(440, 0.5))

	d := NewToneDevice(440, 0.5)
	s := &recordingStream{tone: &dsp.Tone{Freq: 1000, Amplitude: 0.3}}
	require.NoError(t, d.Start(context.Background(), s))
	waitFrames(t, s, 10)
	// Frames counted before SetTone were generated before it; one being
	// generated during it may not be counted yet, hence the +1 below.
	before, _ := d.Frames()
	d.SetTone(1500, 0.2)
	after, _ := d.Frames()
	waitFrames(t, s, int(after)+12)
	require.NoError(t, d.Stop())

	captured := s.capturedAudio()
	first := captured[:before*FrameSamples]
	// Continuous phase across frames, so the whole run is one clean tone.
	assert.Greater(t, dsp.ToneShare(first, 440), 0.99)
	assert.InDelta(t, 0.125, dsp.Energy(first), 0.01)
	changed := captured[(after+1)*FrameSamples:]
	assert.Greater(t, dsp.ToneShare(changed, 1500), 0.99, "SetTone applies while running")
	assert.InDelta(t, 0.02, dsp.Energy(changed), 0.003)

	capFrames, playFrames := d.Frames()
	c, p, _ := s.counts()
	assert.Equal(t, uint64(c), capFrames)
	assert.Equal(t, uint64(p), playFrames)
	rec := d.Recording()
	assert.Len(t, rec, p*FrameSamples)
	assert.Greater(t, dsp.ToneShare(rec, 1000), 0.99, "what the stream played is recorded")
	last := d.Last(100 * time.Millisecond)
	assert.Len(t, last, 800)
	assert.Equal(t, rec[len(rec)-800:], last)
	assert.Len(t, d.Last(time.Hour), len(rec))

	d.ResetRecording()
	assert.Empty(t, d.Recording())
	assert.Empty(t, d.Last(time.Second))
	f, a := d.Tone()
	assert.Equal(t, []float64{1500, 0.2}, []float64{f, a})
}

func TestToneDeviceRecordingIsABoundedRing(t *testing.T) {
	d := NewToneDevice(0, 0, WithRecording(50*time.Millisecond)) // 400 samples
	frame := make([]int16, FrameSamples)
	var v int16
	for range 7 {
		for i := range frame {
			frame[i] = v
			v++
		}
		d.record(frame)
	}
	rec := d.Recording()
	require.Len(t, rec, 400)
	for i, x := range rec {
		require.Equal(t, int16(7*FrameSamples-400+i), x, "oldest first, newest last")
	}
	assert.Equal(t, rec[300:], d.Last(12500*time.Microsecond), "the newest 100 samples")
	assert.Equal(t, rec, d.Last(time.Minute))

	none := NewToneDevice(440, 1, WithRecording(0))
	none.record(frame)
	assert.Empty(t, none.Recording())
}

func TestToneDeviceClampsSettings(t *testing.T) {
	tests := []struct{ freq, amp, wantF, wantA float64 }{
		{440, 0.5, 440, 0.5},
		{-1, 0.5, 0, 0.5},
		{5000, 0.5, 0, 0.5},
		{440, 7, 440, 1},
		{440, -1, 440, 0},
	}
	for _, tt := range tests {
		d := NewToneDevice(tt.freq, tt.amp)
		f, a := d.Tone()
		assert.Equal(t, tt.wantF, f)
		assert.Equal(t, tt.wantA, a)
	}
}

func writeTestWAV(t *testing.T, samples []int16) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, WriteWAV(&b, samples))
	path := filepath.Join(t.TempDir(), "in.wav")
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	return path
}

func TestFileDevicePlaysWAVAndRecords(t *testing.T) {
	input := testSignal(15*FrameSamples + 37)
	in := writeTestWAV(t, input)
	out := filepath.Join(t.TempDir(), "out.wav")
	d, err := NewFileDevice(in, out)
	require.NoError(t, err)
	checkLifecycle(t, d)

	// A fresh device, to see the input from its start.
	d, err = NewFileDevice(in, out)
	require.NoError(t, err)
	s := &recordingStream{tone: &dsp.Tone{Freq: 1000, Amplitude: 0.3}}
	require.NoError(t, d.Start(context.Background(), s))
	select {
	case <-d.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after the input was captured")
	}
	captured := s.capturedAudio()
	require.GreaterOrEqual(t, len(captured), len(input), "all input captured when Done closes")
	assert.Equal(t, input, captured[:len(input)])
	waitFrames(t, s, 20)
	require.NoError(t, d.Stop())
	captured = s.capturedAudio()
	assert.Zero(t, dsp.Energy(captured[len(input):]), "silence after the end without looping")

	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	written, err := ReadWAV(f)
	require.NoError(t, err)
	_, p, _ := s.counts()
	assert.Len(t, written, p*FrameSamples)
	assert.Equal(t, d.Recorded(), written)
	assert.Greater(t, dsp.ToneShare(written, 1000), 0.99)
}

func TestFileDeviceLoops(t *testing.T) {
	input := testSignal(3*FrameSamples + 11)
	d, err := NewFileDevice(writeTestWAV(t, input), "", WithLoop())
	require.NoError(t, err)
	s := &recordingStream{}
	require.NoError(t, d.Start(context.Background(), s))
	waitFrames(t, s, 10)
	require.NoError(t, d.Stop())
	select {
	case <-d.Done():
	default:
		t.Fatal("Done not closed after the first pass")
	}
	captured := s.capturedAudio()
	for i := range 3 {
		assert.Equal(t, input, captured[i*len(input):(i+1)*len(input)], "pass %d", i)
	}
	assert.Empty(t, d.Recorded(), "nothing kept without an output file")
}

func TestFileDeviceSyntheticInputs(t *testing.T) {
	tests := []struct {
		in       string
		freq     float64
		energy   float64
		wantFreq bool
	}{
		{"tone:440", 440, 0.125, true},
		{"tone:1000:0.2", 1000, 0.02, true},
		{"tone:0", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := NewFileDevice(tt.in, "")
			require.NoError(t, err)
			s := &recordingStream{}
			require.NoError(t, d.Start(context.Background(), s))
			waitFrames(t, s, 5)
			require.NoError(t, d.Stop())
			captured := s.capturedAudio()
			assert.InDelta(t, tt.energy, dsp.Energy(captured), 0.005)
			if tt.wantFreq {
				assert.Greater(t, dsp.ToneShare(captured, tt.freq), 0.99)
			}
			select {
			case <-d.Done():
				t.Fatal("an endless input is never done")
			default:
			}
		})
	}
}

func TestFileDeviceBadInputs(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.wav")
	require.NoError(t, os.WriteFile(junk, []byte("RIFF\x04\x00\x00\x00WAVE"), 0o644))
	for _, in := range []string{"tone:", "tone:abc", "tone:-5", "tone:4000", "tone:440:", "tone:440:1.5", "tone:440:x", filepath.Join(dir, "missing.wav"), junk} {
		_, err := NewFileDevice(in, "")
		assert.Error(t, err, in)
	}
	_, err := NewFileDevice(junk, "")
	assert.ErrorIs(t, err, ErrBadWAV)
	_, err = NewFileDevice(filepath.Join(dir, "missing.wav"), "")
	assert.ErrorIs(t, err, os.ErrNotExist)

	// An unwritable output is reported by Stop.
	d, err := NewFileDevice("", filepath.Join(dir, "no", "such", "dir.wav"))
	require.NoError(t, err)
	s := &recordingStream{}
	require.NoError(t, d.Start(context.Background(), s))
	waitFrames(t, s, 1)
	assert.ErrorIs(t, d.Stop(), os.ErrNotExist)
	assert.NoError(t, d.Stop(), "reported once")
}

func TestFileDeviceEmptyWAVIsDoneAtOnce(t *testing.T) {
	d, err := NewFileDevice(writeTestWAV(t, nil), "")
	require.NoError(t, err)
	select {
	case <-d.Done():
	default:
		t.Fatal("empty input should be done")
	}
}

func TestFileDeviceStartGateHoldsTheInputBack(t *testing.T) {
	input := testSignal(10 * FrameSamples)
	gate := make(chan struct{})
	d, err := NewFileDevice(writeTestWAV(t, input), "", WithStartGate(gate))
	require.NoError(t, err)
	s := &recordingStream{}
	require.NoError(t, d.Start(context.Background(), s))
	defer d.Stop()
	waitFrames(t, s, 5)
	before := len(s.capturedAudio())
	assert.Zero(t, dsp.Energy(s.capturedAudio()), "silence while the gate is shut")
	close(gate)
	select {
	case <-d.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("input never finished after the gate opened")
	}
	after := s.capturedAudio()[before:]
	whole := false
	for k := 0; k+len(input) <= len(after); k += FrameSamples {
		if slices.Equal(after[k:k+len(input)], input) {
			whole = true
			break
		}
	}
	assert.True(t, whole, "the WAV is captured whole, from its first sample, after the gate opens")
}

package app

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/dsp"
)

// soundSystem is the app's access to audio: the devices to choose from, a
// device per call for the SDK, and the two uses outside calls — the
// ringtone (speaker only) and the settings' microphone level meter
// (microphone only). The -audio flag picks the implementation: the sound
// card through miniaudio, or a virtual one (silence or a test tone) for
// machines without one and for tests.
type soundSystem interface {
	// Devices lists microphones and speakers; an empty list is not an error.
	Devices() ([]audio.DeviceInfo, error)
	// CallDevice opens nothing yet: it returns the device a call will start
	// with the microphone mic and the output out ("" = system default).
	CallDevice(mic, out string) (audio.Device, error)
	// Play plays src on output out until stop; errors wrap audio.ErrNoDevice.
	Play(src dsp.Source, out string) (stop func(), err error)
	// Capture hands sink what microphone mic hears (on another goroutine)
	// until stop; errors wrap audio.ErrNoDevice.
	Capture(mic string, sink func([]int16)) (stop func(), err error)
}

// newSoundSystem returns the sound system for an -audio spec checked by
// ParseConfig: "auto", "none" or "tone:<hz>".
func newSoundSystem(spec string) soundSystem {
	switch {
	case spec == "none":
		return &virtualSound{}
	case strings.HasPrefix(spec, "tone:"):
		hz, _ := strconv.ParseFloat(strings.TrimPrefix(spec, "tone:"), 64) // checked by ParseConfig
		return &virtualSound{toneHz: hz}
	}
	return malgoSound{}
}

// malgoSound is the sound card, through miniaudio. Without a sound card
// miniaudio falls back to its null backend, which lists one silent device.
type malgoSound struct{}

func (malgoSound) Devices() ([]audio.DeviceInfo, error) { return audio.ListDevices() }

func (malgoSound) CallDevice(mic, out string) (audio.Device, error) {
	return audio.NewMalgoDevice(audio.WithCaptureDevice(mic), audio.WithPlaybackDevice(out)), nil
}

func (malgoSound) Play(src dsp.Source, out string) (func(), error) {
	return audio.StartPlayback(src, audio.WithPlaybackDevice(out))
}

func (malgoSound) Capture(mic string, sink func([]int16)) (func(), error) {
	return audio.StartCapture(sink, audio.WithCaptureDevice(mic))
}

// virtualSound has no devices to choose: calls capture silence (toneHz 0)
// or a test tone, and the ringtone and meter run on a 20 ms clock like a
// sound card's. It counts what it plays, so tests can tell whether the
// ringtone is sounding.
type virtualSound struct {
	toneHz float64

	mu      sync.Mutex
	playing int // sources being played now
	played  int // samples played, over all sources
}

// virtualLevel is the test tone's amplitude, as in -audio tone:<hz> calls.
const virtualLevel = 0.3

func (v *virtualSound) Devices() ([]audio.DeviceInfo, error) { return nil, nil }

func (v *virtualSound) CallDevice(string, string) (audio.Device, error) {
	if v.toneHz == 0 {
		return audio.NewNullDevice(), nil
	}
	return audio.NewToneDevice(v.toneHz, virtualLevel), nil
}

func (v *virtualSound) Play(src dsp.Source, _ string) (func(), error) {
	v.mu.Lock()
	v.playing++
	v.mu.Unlock()
	frame := make([]int16, audio.FrameSamples)
	stop := clocked(func() {
		src.Fill(frame)
		v.mu.Lock()
		v.played += len(frame)
		v.mu.Unlock()
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			stop()
			v.mu.Lock()
			v.playing--
			v.mu.Unlock()
		})
	}, nil
}

func (v *virtualSound) Capture(_ string, sink func([]int16)) (func(), error) {
	tone := dsp.Tone{Freq: v.toneHz, Amplitude: virtualLevel}
	frame := make([]int16, audio.FrameSamples)
	return clocked(func() {
		if v.toneHz > 0 {
			tone.Fill(frame)
		}
		sink(frame)
	}), nil
}

// Playing reports how many sources are playing now.
func (v *virtualSound) Playing() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.playing
}

// clocked calls frame every 20 ms on its own goroutine until the returned
// stop, which waits for the last call.
func clocked(frame func()) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(audio.FrameSamples * time.Second / audio.SampleRate)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				frame()
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done }) }
}

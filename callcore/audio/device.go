package audio

import (
	"context"
	"errors"

	"github.com/onecxi/phone/wire"
)

// Audio format used everywhere in the pipeline: the wire's.
const (
	SampleRate   = wire.SampleRate
	FrameSamples = wire.FrameSamples // 20 ms
)

// ErrNoDevice is wrapped when no capture or playback device can be opened.
// The SDK maps it to its audioSessionSetupFailed kind.
var ErrNoDevice = errors.New("audio: no usable audio device")

// Stream is what a Device clocks. The device calls Capture with each captured
// frame and Playback to fill each frame it plays, both FrameSamples long, on
// the device's own goroutine, every 20 ms. Neither may block; frame and out
// are reused after the call returns.
type Stream interface {
	Capture(frame []int16)
	Playback(out []int16)
}

// Device is a source and sink of 8 kHz mono 16-bit audio.
type Device interface {
	// Start begins clocking s until Stop or ctx ends. Errors wrap ErrNoDevice
	// when the hardware is missing or refuses the format.
	Start(ctx context.Context, s Stream) error
	// Stop ends clocking and releases the hardware. Safe to call twice.
	Stop() error
	// Name is a human-readable description for logs and settings.
	Name() string
}

//go:build !cgo

package audio

import (
	"context"
	"fmt"
	"sync"

	"github.com/onecxi/phone/dsp"
)

// errNoCgo explains why there is no sound card access in this build.
var errNoCgo = fmt.Errorf("%w: built without cgo, so without miniaudio", ErrNoDevice)

// MalgoDevice is the real microphone and speaker through miniaudio, which
// needs cgo; in this build every Start fails with ErrNoDevice.
type MalgoDevice struct {
	mu  sync.Mutex
	cfg malgoConfig
}

// NewMalgoDevice returns a device whose Start fails: built without cgo.
func NewMalgoDevice(opts ...MalgoOption) *MalgoDevice {
	return &MalgoDevice{cfg: newMalgoConfig(opts)}
}

// Name describes the device.
func (d *MalgoDevice) Name() string { return "miniaudio (unavailable: built without cgo)" }

// Start fails with an error wrapping ErrNoDevice.
func (d *MalgoDevice) Start(context.Context, Stream) error { return errNoCgo }

// Stop does nothing.
func (d *MalgoDevice) Stop() error { return nil }

// SetPlaybackDevice records id for a Start that will fail anyway.
func (d *MalgoDevice) SetPlaybackDevice(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cfg.playbackID = id
	return nil
}

// ListDevices fails with an error wrapping ErrNoDevice.
func ListDevices(...MalgoOption) ([]DeviceInfo, error) { return nil, errNoCgo }

// StartPlayback fails with an error wrapping ErrNoDevice.
func StartPlayback(dsp.Source, ...MalgoOption) (func(), error) { return nil, errNoCgo }

// StartCapture fails with an error wrapping ErrNoDevice.
func StartCapture(func([]int16), ...MalgoOption) (func(), error) { return nil, errNoCgo }

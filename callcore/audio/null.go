package audio

import "context"

// NullDevice captures silence and discards what it plays, at the real 20 ms
// rate: for headless use and tests that need a clock but no sound.
type NullDevice struct {
	clock frameClock
}

// NewNullDevice returns a stopped NullDevice.
func NewNullDevice() *NullDevice { return &NullDevice{} }

// Start clocks s until Stop or ctx ends.
func (d *NullDevice) Start(ctx context.Context, s Stream) error {
	return d.clock.start(ctx, s, nil, nil)
}

// Stop ends clocking and waits for the last frame. Safe to call twice.
func (d *NullDevice) Stop() error {
	d.clock.stop()
	return nil
}

// Name describes the device.
func (d *NullDevice) Name() string { return "null" }

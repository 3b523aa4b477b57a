package app

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/platform"
)

// DeviceChoice is the user's choice of sound devices, by audio.DeviceInfo.ID
// ("" = the system default).
//
// On desktop the in-call Speaker toggle switches the call's output between
// Headset (toggle off: the guide's "earpiece") and Loudspeaker (toggle on).
// A desktop has no earpiece; what users mean by it is the headset they talk
// into, and by speaker the laptop's or the desk's loudspeaker, so the
// toggle moves the call between the two devices chosen in Settings.
type DeviceChoice struct {
	Microphone  string
	Headset     string
	Loudspeaker string
}

// output is the device for route r.
func (c DeviceChoice) output(r platform.Route) string {
	if r == platform.RouteSpeaker {
		return c.Loudspeaker
	}
	return c.Headset
}

// playbackSwitcher is a call device whose output can change mid-call
// (audio.MalgoDevice).
type playbackSwitcher interface {
	SetPlaybackDevice(id string) error
}

// callAudio makes each call's audio device from the chosen devices (the
// SDK's audio factory) and switches the live call's output when the SDK
// routes audio (the platform's route handler).
type callAudio struct {
	sound soundSystem
	log   *slog.Logger

	mu     sync.Mutex
	choice DeviceChoice
	route  platform.Route
	dev    audio.Device // the latest call's; stopped devices take a switch harmlessly
}

func newCallAudio(s soundSystem, choice DeviceChoice, log *slog.Logger) *callAudio {
	return &callAudio{sound: s, choice: choice, log: log}
}

// newDevice is the SDK's audio factory: the device for a new call, on the
// output of the current route.
func (c *callAudio) newDevice() (audio.Device, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	dev, err := c.sound.CallDevice(c.choice.Microphone, c.choice.output(c.route))
	if err != nil {
		return nil, err
	}
	c.dev = dev
	return dev, nil
}

// setRoute is the platform's route handler: it moves the call's output to
// the route's device. On error the route stays as it was.
func (c *callAudio) setRoute(r platform.Route) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.switchLocked(c.choice.output(r)); err != nil {
		return err
	}
	c.route = r
	return nil
}

// setChoice records new devices; the live call's output follows at once, its
// microphone from the next call.
func (c *callAudio) setChoice(d DeviceChoice) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.switchLocked(d.output(c.route)); err != nil {
		c.log.Warn("switching the call's output to the newly chosen device", "err", err)
	}
	c.choice = d
}

// Choice is the devices chosen.
func (c *callAudio) Choice() DeviceChoice {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.choice
}

func (c *callAudio) switchLocked(out string) error {
	sw, ok := c.dev.(playbackSwitcher)
	if !ok { // a virtual device: nothing to switch
		return nil
	}
	if err := sw.SetPlaybackDevice(out); err != nil {
		return fmt.Errorf("switching the call's output: %w", err)
	}
	return nil
}

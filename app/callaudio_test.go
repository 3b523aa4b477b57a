package app

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/platform"
)

// switchingDevice is a call device that records its output switches.
type switchingDevice struct {
	audio.NullDevice
	mic, out string
	fail     error
}

func (d *switchingDevice) SetPlaybackDevice(id string) error {
	if d.fail != nil {
		return d.fail
	}
	d.out = id
	return nil
}

// switchingSound makes switchingDevices.
type switchingSound struct {
	virtualSound
	last *switchingDevice
}

func (s *switchingSound) CallDevice(mic, out string) (audio.Device, error) {
	s.last = &switchingDevice{mic: mic, out: out}
	return s.last, nil
}

func TestSpeakerSwitchesBetweenHeadsetAndLoudspeaker(t *testing.T) {
	snd := &switchingSound{}
	ca := newCallAudio(snd, DeviceChoice{Microphone: "m1", Headset: "h1", Loudspeaker: "l1"}, slog.New(slog.DiscardHandler))

	dev, err := ca.newDevice()
	require.NoError(t, err)
	require.NotNil(t, dev)
	assert.Equal(t, "m1", snd.last.mic)
	assert.Equal(t, "h1", snd.last.out, "a call starts on the headset")

	require.NoError(t, ca.setRoute(platform.RouteSpeaker))
	assert.Equal(t, "l1", snd.last.out)
	require.NoError(t, ca.setRoute(platform.RouteEarpiece))
	assert.Equal(t, "h1", snd.last.out)

	require.NoError(t, ca.setRoute(platform.RouteSpeaker))
	ca.setChoice(DeviceChoice{Microphone: "m2", Headset: "h2", Loudspeaker: "l2"})
	assert.Equal(t, "l2", snd.last.out, "a new loudspeaker takes over the live call")

	snd.last.fail = errors.New("device unplugged")
	err = ca.setRoute(platform.RouteEarpiece)
	require.Error(t, err)
	assert.ErrorContains(t, err, "device unplugged")
	assert.Equal(t, "l2", snd.last.out, "a failed switch leaves the output")

	snd.last.fail = nil
	_, err = ca.newDevice()
	require.NoError(t, err)
	assert.Equal(t, "m2", snd.last.mic)
	assert.Equal(t, "l2", snd.last.out, "still on the loudspeaker route, since that switch failed")
}

func TestVirtualDevicesIgnoreRoutes(t *testing.T) {
	ca := newCallAudio(&virtualSound{}, DeviceChoice{}, slog.New(slog.DiscardHandler))
	dev, err := ca.newDevice()
	require.NoError(t, err)
	require.NoError(t, dev.Start(context.Background(), nopStream{}))
	t.Cleanup(func() { _ = dev.Stop() })
	require.NoError(t, ca.setRoute(platform.RouteSpeaker))
}

type nopStream struct{}

func (nopStream) Capture([]int16)  {}
func (nopStream) Playback([]int16) {}

//go:build cgo

package audio

import (
	"context"
	"testing"

	"github.com/gen2brain/malgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/dsp"
)

// These run on miniaudio's null backend, which clocks like a sound card
// without one, so they pass on a machine (or CI) with no audio hardware.

func TestMalgoListsNullDevices(t *testing.T) {
	devs, err := ListDevices(WithBackends(BackendNull))
	require.NoError(t, err)
	var capture, playback bool
	for _, d := range devs {
		assert.NotEmpty(t, d.Name)
		assert.NotEmpty(t, d.ID)
		capture = capture || d.Capture
		playback = playback || d.Playback
	}
	assert.True(t, capture, "a microphone is listed: %+v", devs)
	assert.True(t, playback, "a speaker is listed: %+v", devs)
}

func TestMalgoDeviceOnNullBackend(t *testing.T) {
	d := NewMalgoDevice(WithBackends(BackendNull))
	var _ Device = d
	checkLifecycle(t, d)

	// Switching the speaker while running keeps the stream going.
	devs, err := ListDevices(WithBackends(BackendNull))
	require.NoError(t, err)
	var speaker string
	for _, dev := range devs {
		if dev.Playback {
			speaker = dev.ID
		}
	}
	s := &recordingStream{tone: &dsp.Tone{Freq: 440, Amplitude: 0.5}}
	require.NoError(t, d.Start(context.Background(), s))
	waitFrames(t, s, 5)
	require.NoError(t, d.SetPlaybackDevice(speaker))
	n, _, _ := s.counts()
	waitFrames(t, s, n+5)
	require.NoError(t, d.SetPlaybackDevice(""))
	assert.ErrorIs(t, d.SetPlaybackDevice("not hex"), ErrNoDevice)
	require.NoError(t, d.Stop())
	_, _, bad := s.counts()
	assert.Zero(t, bad)
	// The null backend captures silence.
	assert.Zero(t, dsp.Energy(s.capturedAudio()))
	assert.Contains(t, d.Name(), "null")
}

func TestMalgoDeviceErrors(t *testing.T) {
	d := NewMalgoDevice(WithBackends("nosuch"))
	err := d.Start(context.Background(), &recordingStream{})
	assert.ErrorIs(t, err, ErrNoDevice)
	assert.NoError(t, d.Stop())
	_, err = ListDevices(WithBackends("nosuch"))
	assert.ErrorIs(t, err, ErrNoDevice)

	d = NewMalgoDevice(WithBackends(BackendNull), WithCaptureDevice("zz"))
	assert.ErrorIs(t, d.Start(context.Background(), &recordingStream{}), ErrNoDevice)
	// Without a running device the choice is kept for the next Start.
	assert.NoError(t, d.SetPlaybackDevice("00"))
}

// On iOS miniaudio leaves the audio session's category to CallKit's
// configuration; elsewhere its defaults stand.
func TestMalgoContextConfig(t *testing.T) {
	tests := []struct {
		goos string
		want malgo.IOSSessionCategory
	}{
		{"ios", malgo.IOSSessionCategoryNone},
		{"darwin", malgo.IOSSessionCategoryDefault},
		{"linux", malgo.IOSSessionCategoryDefault},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, malgoContextConfig(tt.goos).CoreAudio.SessionCategory, tt.goos)
	}
}

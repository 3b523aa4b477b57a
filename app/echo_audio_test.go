package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/dsp"
)

// TestEchoCallIsHeardBack: the real app's call to the echo DID plays back
// what its microphone sends. With -audio tone:440 the "microphone" is a
// 440 Hz tone and the "speaker" records what it plays, so the check is on
// the audio itself (Goertzel), through the SDK, the embedded server's echo
// and back.
func TestEchoCallIsHeardBack(t *testing.T) {
	ph := newSignedInPhone(t, "tone:440")
	ph.dial(kindDID, "90000")
	ph.waitFor(t, "the call answered", func(u *UI) bool { return u.InCall.Timer.Text == "00:00" })

	speaker := func() *audio.ToneDevice {
		ph.p.audio.mu.Lock()
		defer ph.p.audio.mu.Unlock()
		dev, _ := ph.p.audio.dev.(*audio.ToneDevice)
		return dev
	}
	require.Eventually(t, func() bool {
		dev := speaker()
		return dev != nil && dsp.ToneShare(dev.Last(400*time.Millisecond), 440) > 0.5
	}, 5*time.Second, 20*time.Millisecond, "the echo of the 440 Hz microphone tone is played")
}

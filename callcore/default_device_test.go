package callcore

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The default audio device is the machine's; without hardware (CI) a start
// must fail cleanly with audioSessionSetupFailed before anything is dialled.
func TestDefaultAudioDevice(t *testing.T) {
	fs := newFakeServer(t)
	s, _ := newSDK(t, WithAudioDevice(defaultAudioDevice))
	require.NoError(t, s.Initialize(ctxT(t), testAccount, testAPIKey, fs.URL()))
	err := s.StartInBoundCall(ctxT(t), "90050", "1001")
	if err == nil {
		t.Log("this machine has audio hardware")
		require.NoError(t, s.EndCall(ctxT(t)))
		return
	}
	assert.ErrorIs(t, err, ErrAudioSessionSetupFailed)
	assert.Zero(t, fs.callCount(), "nothing was dialled")
	assert.False(t, s.IsCallActive())
}

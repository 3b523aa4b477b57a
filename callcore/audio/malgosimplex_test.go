//go:build cgo

package audio

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/dsp"
)

// countingSource counts the samples it was asked for.
type countingSource struct {
	mu sync.Mutex
	n  int
}

func (c *countingSource) Fill(out []int16) {
	c.mu.Lock()
	c.n += len(out)
	c.mu.Unlock()
	clear(out)
}

func (c *countingSource) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// miniaudio's null backend clocks like a sound card without one.
func TestStartPlaybackAndCaptureOnTheNullBackend(t *testing.T) {
	src := &countingSource{}
	stop, err := StartPlayback(src, WithBackends(BackendNull))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return src.count() >= SampleRate/10 }, 5*time.Second, 10*time.Millisecond,
		"the playback device never asked for audio")
	stop()
	after := src.count()
	// Five 20 ms periods: a device still running would ask in them.
	assert.Never(t, func() bool { return src.count() != after }, 100*time.Millisecond, 5*time.Millisecond,
		"the source is filled after stop")
	stop() // twice is fine

	var mu sync.Mutex
	var got int
	var level float64
	stop, err = StartCapture(func(s []int16) {
		mu.Lock()
		got += len(s)
		level = dsp.Level(s)
		mu.Unlock()
	}, WithBackends(BackendNull))
	require.NoError(t, err)
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return got >= SampleRate/10 }, 5*time.Second, 10*time.Millisecond,
		"the capture device never delivered audio")
	stop()
	mu.Lock()
	assert.Equal(t, dsp.LevelFloor, level, "the null microphone is silent")
	mu.Unlock()
}

func TestStartPlaybackRejectsABadDevice(t *testing.T) {
	_, err := StartPlayback(&countingSource{}, WithBackends(BackendNull), WithPlaybackDevice("not-hex"))
	require.ErrorIs(t, err, ErrNoDevice)
	_, err = StartCapture(func([]int16) {}, WithBackends("nope"))
	require.ErrorIs(t, err, ErrNoDevice)
}

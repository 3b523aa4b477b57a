package endpoint

import (
	"io/fs"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/wire"
)

func TestPromptsAreEmbedded(t *testing.T) {
	c := clips()
	assert.Greater(t, len(c.welcome), 2*wire.SampleRate, "the welcome prompt is a sentence")
	for _, d := range []byte("0123456789*#") {
		assert.Greater(t, len(c.digits[d]), wire.SampleRate/10, "spoken %c", d)
		assert.Less(t, len(c.digits[d]), 2*wire.SampleRate, "spoken %c is trimmed", d)
		low, high, _ := dsp.DTMFFreqs(d)
		assert.Greater(t, dsp.ToneShare(c.tones[d], low), 0.35)
		assert.Greater(t, dsp.ToneShare(c.tones[d], high), 0.35)
	}
	total := 0
	require.NoError(t, fs.WalkDir(promptFiles, ".", func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			info, _ := e.Info()
			total += int(info.Size())
		}
		return err
	}))
	assert.Less(t, total, 300<<10, "prompts stay small")
}

func TestClipQueuePlaysBackToBackAndPads(t *testing.T) {
	q := &clipQueue{}
	require.True(t, q.add([]int16{1, 2, 3}, []int16{4, 5}))
	out := make([]int16, 4)
	require.True(t, q.Next(out))
	assert.Equal(t, []int16{1, 2, 3, 4}, out)
	require.True(t, q.Next(out))
	assert.Equal(t, []int16{5, 0, 0, 0}, out)
	assert.False(t, q.Next(out), "idle when empty")

	for q.add(make([]int16, 1)) {
	}
	assert.Len(t, q.queue, maxIVRQueue, "bounded")
}

func TestStamperMarksTalkSpurtsAndAdvances(t *testing.T) {
	st := NewStamper()
	frame := func() []byte { return make([]byte, wire.AudioHeaderSize+2*wire.FrameSamples) }
	now := time.Unix(1_700_000_000, 0)
	a, b := frame(), frame()
	st.Stamp(a, now)
	st.Stamp(b, now.Add(20*time.Millisecond))
	fa, err := wire.DecodeAudio(append([]byte{wire.AudioMagic}, a[1:]...), nil)
	require.NoError(t, err)
	fb, _ := wire.DecodeAudio(append([]byte{wire.AudioMagic}, b[1:]...), nil)
	assert.Equal(t, byte(wire.FlagMarker), fa.Flags)
	assert.Zero(t, fb.Flags)
	assert.Equal(t, fa.Seq+1, fb.Seq)
	assert.Equal(t, fa.Timestamp+wire.FrameSamples, fb.Timestamp)

	// After a second of silence the next frame is marked and its timestamp
	// says when it was made: 1020 ms after the first.
	st.Resync(now.Add(1020 * time.Millisecond))
	c := frame()
	st.Stamp(c, now.Add(1020*time.Millisecond))
	fc, _ := wire.DecodeAudio(append([]byte{wire.AudioMagic}, c[1:]...), nil)
	assert.Equal(t, byte(wire.FlagMarker), fc.Flags)
	assert.Equal(t, fa.Timestamp+1020*wire.SampleRate/1000, fc.Timestamp)
}

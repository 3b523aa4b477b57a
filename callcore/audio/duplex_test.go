package audio

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func le16(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func fromLE16(b []byte) []int16 {
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

// TestDuplexAdapterReframes feeds callbacks of awkward sizes, as sound
// cards give, and checks the Stream sees exact 20 ms frames in order and
// the speaker gets what the Stream played, in order, without gaps.
func TestDuplexAdapterReframes(t *testing.T) {
	tests := []struct {
		name          string
		capture, play []int
	}{
		{"same 10 ms periods", []int{80}, []int{80}},
		{"odd sizes", []int{1, 37, 441, 13}, []int{441, 7, 100}},
		{"large capture, small playback", []int{960}, []int{64}},
		{"small capture, large playback", []int{17}, []int{400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &recordingStream{} // plays a counting ramp
			a := newDuplexAdapter(s)
			mic := testSignal(50 * FrameSamples)
			var heard []int16
			off, ci, pi := 0, 0, 0
			for off < len(mic) {
				n := min(tt.capture[ci%len(tt.capture)], len(mic)-off)
				a.captured(le16(mic[off : off+n]))
				off += n
				ci++
				// Let playback keep pace with capture.
				for len(heard)+tt.play[pi%len(tt.play)] <= off {
					out := make([]byte, 2*tt.play[pi%len(tt.play)])
					a.pull(out)
					heard = append(heard, fromLE16(out)...)
					pi++
				}
			}
			c, p, bad := s.counts()
			assert.Equal(t, 50, c)
			assert.Equal(t, 50, p)
			assert.Zero(t, bad)
			assert.Equal(t, mic, s.capturedAudio(), "captured audio intact")
			// The speaker heard the ramp: silence while priming, then
			// consecutive values, except where latency was trimmed.
			start := 0
			for start < len(heard) && heard[start] == 0 {
				start++
			}
			require.Less(t, start, len(heard))
			jumps := 0
			for i := start + 1; i < len(heard); i++ {
				if heard[i] != heard[i-1]+1 {
					jumps++
				}
			}
			assert.Zero(t, jumps, "playback continuous")
			assert.Zero(t, a.dropped)
			assert.LessOrEqual(t, a.n, duplexFIFO)
		})
	}
}

func TestDuplexAdapterBoundsLatency(t *testing.T) {
	s := &recordingStream{}
	a := newDuplexAdapter(s)
	out := make([]byte, 2*80)
	a.pull(out) // the speaker asks for 10 ms at a time...
	// ...then stalls while the microphone delivers a second, 10 ms at a time.
	for range 100 {
		a.captured(le16(make([]int16, 80)))
	}
	limit := a.cushion() + a.burstMax + a.pullMax
	assert.Equal(t, (FrameSamples+FrameSamples)+FrameSamples+80, limit, "cushion, burst, request")
	assert.LessOrEqual(t, a.n, limit, "queue trimmed to what the speaker needs")
	a.pull(out)
	got := fromLE16(out)
	// What is left is the newest audio: the end of the counting ramp.
	assert.Equal(t, int16(SampleRate-a.n-80), got[0])
	for i := 1; i < len(got); i++ {
		assert.Equal(t, got[i-1]+1, got[i])
	}
	// Odd byte counts and empty buffers are harmless.
	a.captured([]byte{1})
	a.pull(make([]byte, 3))
	a.pull(nil)
}

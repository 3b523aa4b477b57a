package audio

import (
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/wire"
)

const tick = 20 * time.Millisecond

// fakeClock is the jitter buffer's arrival clock under test control.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// testSignal is a 440 Hz tone plus a little deterministic noise, so that no
// two frames are alike (a pure 440 Hz tone repeats every 5 frames).
func testSignal(n int) []int16 {
	out := toneSamples(440, 0.4, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range out {
		out[i] += int16(r.IntN(2001) - 1000)
	}
	return out
}

// cut splits signal into frames of sizes (cycled), numbered from seq0/ts0.
func cut(signal []int16, sizes []int, seq0, ts0 uint32) []wire.AudioFrame {
	var frames []wire.AudioFrame
	for off, i := 0, 0; off < len(signal); i++ {
		n := min(sizes[i%len(sizes)], len(signal)-off)
		frames = append(frames, wire.AudioFrame{
			Seq: seq0 + uint32(i), Timestamp: ts0 + uint32(off), Samples: signal[off : off+n],
		})
		off += n
	}
	return frames
}

// inOrder delivers frame k just before pop k.
func inOrder(n int) [][]int {
	s := make([][]int, n)
	for k := range s {
		s[k] = []int{k}
	}
	return s
}

// move delivers frame i at tick to instead of its scheduled one (to < 0: never).
func move(s [][]int, i, to int) [][]int {
	for k := range s {
		for j, v := range s[k] {
			if v == i {
				s[k] = append(s[k][:j:j], s[k][j+1:]...)
				break
			}
		}
	}
	if to >= 0 {
		for len(s) <= to {
			s = append(s, nil)
		}
		s[to] = append(s[to], i)
	}
	return s
}

// simulate pushes frames per schedule (sched[k]: frame indices pushed at
// tick k, before that tick's pop) and pops one 20 ms frame per tick. The
// clock advances 20 ms per tick, so the network looks jitter-free unless
// the schedule says otherwise.
func simulate(frames []wire.AudioFrame, sched [][]int, ticks int, opts ...JitterOption) ([]int16, *JitterBuffer) {
	clock := newFakeClock()
	start := clock.now()
	jb := NewJitterBuffer(append([]JitterOption{WithClock(clock.now)}, opts...)...)
	out := make([]int16, 0, ticks*FrameSamples)
	buf := make([]int16, FrameSamples)
	for k := range ticks {
		clock.set(start.Add(time.Duration(k) * tick))
		if k < len(sched) {
			for _, i := range sched[k] {
				f := frames[i]
				// The caller reuses its buffer: the jitter buffer must copy.
				own := append([]int16(nil), f.Samples...)
				f.Samples = own
				jb.Push(f)
				clear(own)
			}
		}
		if k >= len(sched) && jb.Stats().Buffered == 0 {
			break // drained: popping on would only count an underrun
		}
		jb.Pop(buf)
		out = append(out, buf...)
	}
	return out, jb
}

// findRun returns where want[:n] first appears in out, or -1.
func findRun(out, want []int16, n int) int {
	n = min(n, len(want))
	for d := 0; d+n <= len(out); d++ {
		if equal16(out[d:d+n], want[:n]) {
			return d
		}
	}
	return -1
}

func equal16(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// assertSameExcept checks out (aligned at d) against in, sample-exact except
// in the given [lo, hi) ranges of in.
func assertSameExcept(t *testing.T, in, out []int16, d int, skip ...[2]int) {
	t.Helper()
	n := min(len(in), len(out)-d)
	require.Greater(t, n, len(in)/2, "most of the input must come out")
	bad := 0
	for i := range n {
		excused := false
		for _, r := range skip {
			if i >= r[0] && i < r[1] {
				excused = true
			}
		}
		if !excused && in[i] != out[d+i] {
			bad++
		}
	}
	assert.Zero(t, bad, "samples differing outside the excused ranges")
}

func frameRange(i, count int) [2]int { return [2]int{i * FrameSamples, (i + count) * FrameSamples} }

func TestJitterBufferScenarios(t *testing.T) {
	const n = 60
	signal := testSignal(n * FrameSamples)
	frames := cut(signal, []int{FrameSamples}, 1000, 50000)
	withFlags := func(fs []wire.AudioFrame, i int, flags byte) []wire.AudioFrame {
		fs = append([]wire.AudioFrame(nil), fs...)
		fs[i].Flags = flags
		return fs
	}
	tests := []struct {
		name   string
		frames []wire.AudioFrame
		sched  [][]int
		check  func(t *testing.T, out []int16, st JitterStats)
	}{
		{
			name: "in order passes through after the initial delay", frames: frames, sched: inOrder(n),
			check: func(t *testing.T, out []int16, st JitterStats) {
				// Play-out starts once 60 ms are buffered: at the third pop.
				assert.Equal(t, make([]int16, 2*FrameSamples), out[:2*FrameSamples])
				assertSameExcept(t, signal, out, 2*FrameSamples)
				assert.Equal(t, JitterStats{Received: n}, withoutDelays(st))
			},
		},
		{
			name: "reordered frames come out in order", frames: frames,
			sched: move(move(move(move(inOrder(n), 0, 1), 6, 7), 7, 6), 30, 31),
			check: func(t *testing.T, out []int16, st JitterStats) {
				assertSameExcept(t, signal, out, findRun(out, signal, FrameSamples))
				assert.Equal(t, JitterStats{Received: n}, withoutDelays(st))
			},
		},
		{
			name: "a lost frame is concealed", frames: frames, sched: move(inOrder(n), 20, -1),
			check: func(t *testing.T, out []int16, st JitterStats) {
				d := findRun(out, signal, FrameSamples)
				require.Equal(t, 2*FrameSamples, d)
				// The frame after the loss fades in over plcFade samples.
				assertSameExcept(t, signal, out, d, [2]int{20 * FrameSamples, 21*FrameSamples + plcFade})
				got := out[d+20*FrameSamples : d+21*FrameSamples]
				orig := signal[20*FrameSamples : 21*FrameSamples]
				assert.Greater(t, dsp.Energy(got), 0.2*dsp.Energy(orig), "concealment is not silence")
				assert.Less(t, dsp.Energy(got), 0.8*dsp.Energy(orig), "concealment is attenuated")
				assert.Greater(t, dsp.ToneShare(got, 440), 0.8, "concealment continues the tone")
				assert.Equal(t, JitterStats{Received: n - 1, Lost: 1, Concealed: FrameSamples}, withoutDelays(st))
			},
		},
		{
			name: "a long loss fades to silence and keeps the timeline", frames: frames,
			sched: func() [][]int {
				s := inOrder(n)
				for i := 20; i < 30; i++ {
					s = move(s, i, -1)
				}
				return s
			}(),
			check: func(t *testing.T, out []int16, st JitterStats) {
				d := findRun(out, signal, FrameSamples)
				require.Equal(t, 2*FrameSamples, d)
				assertSameExcept(t, signal, out, d, [2]int{20 * FrameSamples, 30*FrameSamples + plcFade})
				gap := out[d+20*FrameSamples : d+30*FrameSamples]
				assert.Greater(t, dsp.Energy(gap[:FrameSamples]), 0.0)
				assert.Zero(t, dsp.Energy(gap[plcLength:]), "silence after %d samples of concealment", plcLength)
				assert.Equal(t, uint64(10), st.Lost)
				assert.Equal(t, uint64(1), st.Underruns)
				assert.Equal(t, uint64(10*FrameSamples), st.Concealed)
			},
		},
		{
			name: "duplicates are dropped", frames: frames,
			sched: func() [][]int {
				s := inOrder(n)
				s[11] = append(s[11], 10)
				s[3] = append(s[3], 3)
				s[40] = append(s[40], 2) // long after it played
				return s
			}(),
			check: func(t *testing.T, out []int16, st JitterStats) {
				assertSameExcept(t, signal, out, 2*FrameSamples)
				assert.Equal(t, JitterStats{Received: n, Duplicate: 3}, withoutDelays(st))
			},
		},
		{
			name: "late frames are dropped and counted", frames: frames, sched: move(inOrder(n), 15, 25),
			check: func(t *testing.T, out []int16, st JitterStats) {
				d := findRun(out, signal, FrameSamples)
				require.Equal(t, 2*FrameSamples, d)
				assertSameExcept(t, signal, out, d, [2]int{15 * FrameSamples, 16*FrameSamples + plcFade})
				assert.Equal(t, JitterStats{Received: n - 1, Late: 1, Concealed: FrameSamples}, withoutDelays(st))
				assert.Greater(t, st.TargetDelay, 40*time.Millisecond, "a late frame raises the target")
			},
		},
		{
			name: "timestamps and sequence numbers wrap", frames: cut(signal, []int{FrameSamples}, math.MaxUint32-20, math.MaxUint32-3000),
			sched: move(move(move(inOrder(n), 21, 22), 30, -1), 19, 20),
			check: func(t *testing.T, out []int16, st JitterStats) {
				d := findRun(out, signal, FrameSamples)
				require.Equal(t, 2*FrameSamples, d)
				assertSameExcept(t, signal, out, d, [2]int{30 * FrameSamples, 31*FrameSamples + plcFade})
				assert.Equal(t, JitterStats{Received: n - 1, Lost: 1, Concealed: FrameSamples}, withoutDelays(st))
			},
		},
		{
			name: "a marker on a contiguous frame changes nothing", frames: withFlags(frames, 30, wire.FlagMarker), sched: inOrder(n),
			check: func(t *testing.T, out []int16, st JitterStats) {
				assertSameExcept(t, signal, out, 2*FrameSamples)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, jb := simulate(tt.frames, tt.sched, n+10)
			tt.check(t, out, jb.Stats())
		})
	}
}

func withoutDelays(s JitterStats) JitterStats {
	s.TargetDelay, s.Buffered = 0, 0
	return s
}

func TestJitterBufferResynchronises(t *testing.T) {
	first := toneSamples(440, 0.4, 30*FrameSamples)
	second := toneSamples(1000, 0.4, 30*FrameSamples)
	tests := []struct {
		name   string
		jump   int64 // timestamp jump between the spurts beyond continuity, samples
		marker bool
		seqGap uint32
	}{
		{"marker, 5 s ahead", 5 * SampleRate, true, 1},
		{"marker, 3 s back", -3 * SampleRate, true, 1},
		{"marker, 300 ms ahead", 2400, true, 1},
		{"no marker, 5 s ahead", 5 * SampleRate, false, 1},
		{"no marker, seq and ts restarted", -100000, false, 1 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := cut(first, []int{FrameSamples}, 7, 1000)
			b := cut(second, []int{FrameSamples}, 7+30-1+tt.seqGap, uint32(int64(1000+len(first))+tt.jump))
			if tt.marker {
				b[0].Flags = wire.FlagMarker
			}
			frames := append(a, b...)
			// The sender pauses 200 ms between the spurts.
			sched := inOrder(30)
			for range 10 {
				sched = append(sched, nil)
			}
			for i := range 30 {
				sched = append(sched, []int{30 + i})
			}
			out, jb := simulate(frames, sched, 80)
			st := jb.Stats()
			d2 := findRun(out, second, FrameSamples)
			require.Positive(t, d2, "second spurt played")
			// It starts after the usual prebuffering, not seconds later.
			assert.LessOrEqual(t, d2, (40+3)*FrameSamples)
			assertSameExcept(t, second, out, d2, [2]int{0, plcFade})
			assert.Greater(t, dsp.ToneShare(out[d2:d2+25*FrameSamples], 1000), 0.95)
			assert.Zero(t, st.Late)
			assert.Zero(t, st.Lost)
			assert.Equal(t, uint64(60), st.Received)
		})
	}
}

func TestJitterBufferVariableFrameSizes(t *testing.T) {
	signal := testSignal(100 * FrameSamples)
	frames := cut(signal, []int{1, 80, 960, 160, 37, 500, 240, 7}, 0, 0)
	// The sender sends each frame once its last sample is captured.
	var sched [][]int
	for i, f := range frames {
		end := int(f.Timestamp) + len(f.Samples)
		k := (end + FrameSamples - 1) / FrameSamples
		for len(sched) <= k {
			sched = append(sched, nil)
		}
		sched[k] = append(sched[k], i)
	}
	out, jb := simulate(frames, sched, 120, WithMinDelay(150*time.Millisecond))
	st := jb.Stats()
	d := findRun(out, signal, FrameSamples)
	require.Positive(t, d)
	assertSameExcept(t, signal, out, d)
	assert.Equal(t, uint64(len(frames)), st.Received)
	assert.Zero(t, st.Underruns)
	assert.Zero(t, st.Lost)
}

func TestJitterBufferSilenceBeforeAudio(t *testing.T) {
	jb := NewJitterBuffer()
	out := []int16{1, 2, 3}
	jb.Pop(out)
	assert.Equal(t, []int16{0, 0, 0}, out)
	jb.Pop(nil)
	jb.Push(wire.AudioFrame{Samples: nil})                                   // ignored
	jb.Push(wire.AudioFrame{Samples: make([]int16, wire.MaxFrameSamples+1)}) // ignored
	assert.Equal(t, JitterStats{TargetDelay: DefaultInitialDelay}, jb.Stats())

	// A lone short frame is not stuck waiting for more: it plays once it
	// has waited the target delay.
	jb.Push(wire.AudioFrame{Seq: 1, Timestamp: 1, Samples: []int16{5, 6, 7}})
	got := make([]int16, 0, 1000)
	buf := make([]int16, 100)
	for i := range 10 {
		jb.Pop(buf)
		got = append(got, buf...)
		if i == 3 {
			assert.Zero(t, jb.Stats().Underruns+jb.Stats().Concealed, "nothing counted before play-out starts")
		}
	}
	pos := findRun(got, []int16{5, 6, 7}, 3)
	assert.True(t, pos >= 480 && pos <= 600, "played once it waited the 60 ms target, at %d", pos)
	assert.Equal(t, uint64(1), jb.Stats().Underruns, "then it ran dry")

	jb.Reset()
	assert.Equal(t, JitterStats{TargetDelay: DefaultInitialDelay}, jb.Stats())
	jb.Pop(buf)
	assert.Equal(t, make([]int16, 100), buf)
}

func TestJitterBufferOptions(t *testing.T) {
	jb := NewJitterBuffer(WithMinDelay(100*time.Millisecond), WithMaxDelay(50*time.Millisecond), nil, WithClock(nil))
	assert.Equal(t, 100*time.Millisecond, jb.Stats().TargetDelay, "max raised to min, initial clamped")
	jb = NewJitterBuffer(WithMinDelay(-time.Second), WithInitialDelay(10*time.Millisecond))
	assert.Equal(t, 10*time.Millisecond, jb.Stats().TargetDelay)
}

func TestJitterBufferBoundsMemory(t *testing.T) {
	jb := NewJitterBuffer()
	const pushes = 5000
	for i := range pushes {
		jb.Push(wire.AudioFrame{Seq: uint32(i), Timestamp: uint32(i), Samples: []int16{1}})
	}
	st := jb.Stats()
	assert.Equal(t, uint64(pushes), st.Received+st.Late+st.Duplicate)
	assert.LessOrEqual(t, st.Received, uint64(jbMaxFrames))
}

// TestJitterBufferTracksFastSender checks that latency does not grow when
// the sender's clock runs 0.5% fast: the buffer skips to keep up.
func TestJitterBufferTracksFastSender(t *testing.T) {
	const seconds = 60
	signal := toneSamples(440, 0.4, seconds*SampleRate*1005/1000)
	frames := cut(signal, []int{FrameSamples}, 0, 0)
	sched := make([][]int, seconds*50)
	for i := range frames {
		k := i * 1000 / 1005 // frames come 0.5% faster than they are played
		if k < len(sched) {
			sched[k] = append(sched[k], i)
		}
	}
	out, jb := simulate(frames, sched, len(sched))
	st := jb.Stats()
	assert.Less(t, st.Buffered, 100*time.Millisecond, "latency stays bounded")
	assert.Zero(t, st.Late)
	assert.Zero(t, st.Underruns)
	// Skips are crossfaded, so the tone stays clean.
	assert.Greater(t, blockToneShare(out[SampleRate:], 440), 0.95)
}

// blockToneShare averages ToneShare over 100 ms blocks: a phase jump (the
// delay changed) is fine, what matters is that each stretch is the tone.
func blockToneShare(s []int16, freq float64) float64 {
	const block = SampleRate / 10
	var sum float64
	n := 0
	for off := 0; off+block <= len(s); off += block {
		sum += dsp.ToneShare(s[off:off+block], freq)
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// TestJitterBufferToneThroughBadNetwork sends a 440 Hz tone through 10%
// random loss and up to 60 ms of random delay (so frames also reorder).
func TestJitterBufferToneThroughBadNetwork(t *testing.T) {
	const seconds = 20
	r := rand.New(rand.NewPCG(42, 42))
	signal := toneSamples(440, 0.5, seconds*SampleRate)
	frames := cut(signal, []int{FrameSamples}, r.Uint32(), r.Uint32())
	type arrival struct {
		at time.Duration
		i  int
	}
	var arrivals []arrival
	lost := 0
	for i := range frames {
		if r.Float64() < 0.1 {
			lost++
			continue
		}
		delay := 10*time.Millisecond + time.Duration(r.Int64N(int64(60*time.Millisecond)))
		arrivals = append(arrivals, arrival{time.Duration(i)*tick + delay, i})
	}
	sort.Slice(arrivals, func(a, b int) bool { return arrivals[a].at < arrivals[b].at })

	clock := newFakeClock()
	start := clock.now()
	jb := NewJitterBuffer(WithClock(clock.now))
	out := make([]int16, 0, len(signal))
	buf := make([]int16, FrameSamples)
	next := 0
	for k := range seconds * 50 {
		popAt := time.Duration(k)*tick + 5*time.Millisecond
		for next < len(arrivals) && arrivals[next].at <= popAt {
			clock.set(start.Add(arrivals[next].at))
			jb.Push(frames[arrivals[next].i])
			next++
		}
		jb.Pop(buf)
		out = append(out, buf...)
	}
	st := jb.Stats()
	t.Logf("stats %+v, actually lost %d", st, lost)
	body := out[SampleRate:]
	assert.Greater(t, blockToneShare(body, 440), 0.8)
	assert.Greater(t, dsp.ToneShare(body[len(body)-SampleRate:], 440), 0.8, "the last second as a whole")
	assert.InDelta(t, lost, int(st.Lost)+int(st.Late), float64(lost)/4+3, "losses are counted")
	assert.Greater(t, st.TargetDelay, DefaultMinDelay, "the target follows the jitter")
	assert.Less(t, st.Buffered, 200*time.Millisecond)
}

func TestJitterBufferConcurrentPushPop(t *testing.T) {
	jb := NewJitterBuffer()
	const n = 2000
	signal := testSignal(n * FrameSamples)
	frames := cut(signal, []int{FrameSamples}, 0, 0)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		buf := make([]int16, FrameSamples)
		for _, f := range frames {
			copy(buf, f.Samples)
			f.Samples = buf
			jb.Push(f)
		}
	}()
	go func() {
		defer wg.Done()
		out := make([]int16, FrameSamples)
		for range n {
			jb.Pop(out)
			_ = jb.Stats()
		}
	}()
	wg.Wait()
	st := jb.Stats()
	assert.Equal(t, uint64(n), st.Received+st.Late+st.Duplicate)
}

func BenchmarkJitterPushPop(b *testing.B) {
	clock := newFakeClock()
	start := clock.now()
	jb := NewJitterBuffer(WithClock(clock.now))
	in := toneSamples(440, 0.5, FrameSamples)
	out := make([]int16, FrameSamples)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		clock.set(start.Add(time.Duration(i) * tick))
		jb.Push(wire.AudioFrame{Seq: uint32(i), Timestamp: uint32(i * FrameSamples), Samples: in})
		jb.Pop(out)
	}
}

// BenchmarkJitterCompress is the per-frame path while latency is being
// removed: the sender sends a quarter more than is played, so time
// compression runs whenever its rate allows.
func BenchmarkJitterCompress(b *testing.B) {
	clock := newFakeClock()
	start := clock.now()
	jb := NewJitterBuffer(WithClock(clock.now))
	in := toneSamples(440, 0.5, FrameSamples)
	out := make([]int16, FrameSamples)
	b.ReportAllocs()
	seq := 0
	for i := 0; b.Loop(); i++ {
		clock.set(start.Add(time.Duration(i) * tick))
		for range 1 + min(1, i%4/3) {
			jb.Push(wire.AudioFrame{Seq: uint32(seq), Timestamp: uint32(seq * FrameSamples), Samples: in})
			seq++
		}
		jb.Pop(out)
	}
	st := jb.Stats()
	b.ReportMetric(float64(st.Compressed)/float64(b.N), "compressed/op")
	if b.N > 100 && st.Compressed == 0 {
		b.Fatal("nothing was compressed")
	}
}

// TestJitterBufferSurvivesGarbage throws random frames at the buffer: any
// sequence numbers, timestamps, sizes and flags. It must not panic, must
// always fill Pop's buffer, and must keep its memory bounded.
func TestJitterBufferSurvivesGarbage(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	clock := newFakeClock()
	start := clock.now()
	jb := NewJitterBuffer(WithClock(clock.now))
	samples := testSignal(wire.MaxFrameSamples)
	var seq, ts uint32
	for i := range 20000 {
		clock.set(start.Add(time.Duration(i) * time.Millisecond))
		switch r.IntN(10) {
		case 0:
			seq, ts = r.Uint32(), r.Uint32() // anything at all
		case 1:
			seq += uint32(r.IntN(7)) - 3 // small reorders and repeats
			ts += uint32(r.IntN(4000)) - 2000
		default:
			seq++
			ts += FrameSamples
		}
		n := 1 + r.IntN(wire.MaxFrameSamples)
		var flags byte
		if r.IntN(50) == 0 {
			flags = wire.FlagMarker
		}
		jb.Push(wire.AudioFrame{Flags: flags, Seq: seq, Timestamp: ts, Samples: samples[:n]})
		if r.IntN(3) == 0 {
			out := make([]int16, r.IntN(2*wire.MaxFrameSamples))
			for j := range out {
				out[j] = math.MinInt16
			}
			jb.Pop(out)
			for _, v := range out {
				if v == math.MinInt16 {
					t.Fatal("Pop left part of its buffer unwritten")
				}
			}
		}
		if r.IntN(5000) == 0 {
			jb.Reset()
		}
	}
	st := jb.Stats()
	assert.LessOrEqual(t, st.TargetDelay, DefaultMaxDelay)
	assert.GreaterOrEqual(t, st.TargetDelay, DefaultMinDelay)
	assert.LessOrEqual(t, len(jb.c.frames), jbMaxFrames)
	assert.LessOrEqual(t, len(jb.c.free), jbFreeList)
}

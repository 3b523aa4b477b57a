package audio

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/dsp"
)

// stallRun is what one simulated network stall did to play-out. Tick k is
// the k-th 20 ms of the call: the sender sends frame k at tick k and the
// receiver pops one frame at every tick.
type stallRun struct {
	signal   []int16
	out      []int16
	delay    []int // per tick: mouth-to-ear delay found from the output, samples; -1 not found
	buffered []time.Duration
	target   []time.Duration
	stalled  int // first tick whose frame is held back
	burst    int // tick at which the backlog arrives at once
	stats    JitterStats
}

const stallLead = 100 // ticks of steady audio before the stall

// simulateStall plays a call whose network delivers frames on time, then
// holds back every frame for stall (TCP does not lose them, it delays
// them), delivers the whole backlog at once, and carries on on time for
// after ticks.
func simulateStall(stall time.Duration, after int) stallRun {
	n := int(stall / tick)
	ticks := stallLead + n + after
	r := stallRun{
		signal:   testSignal(ticks * FrameSamples),
		delay:    make([]int, ticks),
		buffered: make([]time.Duration, ticks),
		target:   make([]time.Duration, ticks),
		stalled:  stallLead,
		burst:    stallLead + n,
	}
	frames := cut(r.signal, []int{FrameSamples}, 4000, 123456)
	clock := newFakeClock()
	start := clock.now()
	jb := NewJitterBuffer(WithClock(clock.now))
	r.out = make([]int16, ticks*FrameSamples)
	for k := range ticks {
		clock.set(start.Add(time.Duration(k) * tick))
		switch {
		case k < r.stalled:
			jb.Push(frames[k])
		case k == r.burst:
			for i := r.stalled; i <= k; i++ {
				jb.Push(frames[i])
			}
		case k > r.burst:
			jb.Push(frames[k])
		}
		block := r.out[k*FrameSamples : (k+1)*FrameSamples]
		jb.Pop(block)
		st := jb.Stats()
		r.buffered[k], r.target[k] = st.Buffered, st.TargetDelay
		r.delay[k] = -1
		if k < r.stalled || k >= r.burst {
			r.delay[k] = locate(r.signal, block, k)
		}
	}
	r.stats = jb.Stats()
	return r
}

// locate finds where the end of a played block came from in the sent
// signal and returns how long before tick k's frame ended it was sent: the
// mouth-to-ear delay, minus whatever the network and devices add. The
// block's last 32 samples are matched exactly (the test signal's noise
// makes them unique), so a block that ends in concealment is not found.
func locate(signal, block []int16, k int) int {
	const n = 32
	tail := block[len(block)-n:]
	if dsp.Energy(tail) == 0 {
		return -1
	}
	end := min(len(signal), (k+1)*FrameSamples)
	for q := end - n; q >= 0; q-- {
		if equal16(signal[q:q+n], tail) {
			return end - (q + n)
		}
	}
	return -1
}

func samplesDur(n int) time.Duration { return durationOf(float64(n)) }

// drainTicks is how many ticks after the burst the delay takes to come
// within tolerance of before (and stay there).
func (r stallRun) drainTicks(before, tolerance int) int {
	last := r.burst
	for k := r.burst; k < len(r.delay); k++ {
		if r.delay[k] < 0 || r.delay[k] > before+tolerance {
			last = k + 1
		}
	}
	return last - r.burst
}

func TestJitterBufferDrainsBacklogAfterStall(t *testing.T) {
	for _, stall := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond, 2 * time.Second, 5 * time.Second, 15 * time.Second} {
		t.Run(fmt.Sprint(stall), func(t *testing.T) {
			const after = 150 // 3 s
			r := simulateStall(stall, after)
			before := r.delay[r.stalled-1]
			require.Positive(t, before, "steady play-out before the stall")
			drain := r.drainTicks(before, FrameSamples)
			t.Logf("stall %v: delay before %v (target %v); first pop after the backlog %v, after 0.5 s %v, after 1 s %v, at the end %v (target %v); back within 20 ms of before after %v; stats %+v",
				stall, samplesDur(before), r.target[r.stalled-1], samplesDur(r.delay[r.burst]),
				samplesDur(r.delay[r.burst+25]), samplesDur(r.delay[r.burst+50]), samplesDur(r.delay[len(r.delay)-1]),
				r.target[len(r.target)-1], time.Duration(drain)*tick, r.stats)

			// The stall itself: concealment of the tone, then silence,
			// never stale or garbage audio.
			dry := -1
			for k := r.stalled; k < r.burst; k++ {
				if r.buffered[k] == 0 {
					dry = k
					break
				}
			}
			require.Positive(t, dry, "the buffer ran dry during the stall")
			conceal := r.out[(dry+1)*FrameSamples : (dry+2)*FrameSamples]
			assert.Greater(t, dsp.ToneShare(conceal, 440), 0.8, "the first 20 ms of the gap continue the tone")
			gapEnd := r.burst * FrameSamples
			silentFrom := (dry+1)*FrameSamples + plcLength
			if silentFrom < gapEnd {
				assert.Zero(t, dsp.Energy(r.out[silentFrom:gapEnd]), "silence once concealment has faded out")
			}
			assert.Equal(t, uint64(1), r.stats.Underruns)
			assert.Zero(t, r.stats.Late, "nothing arrived too late to play")

			// After the backlog: the extra delay is gone within a second
			// and stays gone; the target did not balloon.
			for k := r.burst + 50; k < len(r.delay); k++ {
				require.GreaterOrEqual(t, r.delay[k], 0, "tick %d: the output is the sent audio", k)
				require.LessOrEqual(t, samplesDur(r.delay[k]), r.target[k]+40*time.Millisecond,
					"tick %d (%v after the backlog): delay %v, target %v", k, time.Duration(k-r.burst)*tick, samplesDur(r.delay[k]), r.target[k])
				require.InDelta(t, r.delay[k], int(samplesOf(r.buffered[k])), 1, "the buffer reports the delay")
			}
			assert.LessOrEqual(t, r.target[len(r.target)-1], r.target[r.stalled-1]+20*time.Millisecond, "one stall is not the new normal")
			assert.LessOrEqual(t, drain, 50, "back to the delay before within a second")

			// And the audio that plays is the tone, without clicks.
			body := r.out[r.burst*FrameSamples:]
			for off := 0; off+FrameSamples <= len(body); off += FrameSamples {
				require.Greater(t, dsp.ToneShare(body[off:off+FrameSamples], 440), 0.9, "block %d after the backlog", off/FrameSamples)
			}
			assert.LessOrEqual(t, maxStep(body), maxStep(r.signal)*5/4, "no click")
			assert.Greater(t, blockToneShare(body, 440), 0.95, "splices keep the tone's phase")

			// A backlog far over the target is dropped at once; a smaller
			// one is time-compressed.
			if stall < 400*time.Millisecond {
				assert.Zero(t, r.stats.Dropped)
				assert.Positive(t, r.stats.Compressed)
			} else {
				assert.Positive(t, r.stats.Dropped)
			}
		})
	}
}

// maxStep is the largest difference between neighbouring samples: a click
// (a splice out of phase, a jump from silence) shows up as a large one.
func maxStep(s []int16) int {
	m := 0
	for i := 1; i < len(s); i++ {
		m = max(m, int(math.Abs(float64(s[i])-float64(s[i-1]))))
	}
	return m
}

// TestJitterBufferAcceptsALastingDelay: when the network's delay rises for
// good (a new route), frames keep arriving late but regularly. The first
// is taken for a stall's; after jbSpikeMax the higher delay is the new
// normal and the jitter estimate runs again, without having ballooned.
func TestJitterBufferAcceptsALastingDelay(t *testing.T) {
	const ticks, step, extra = 400, 100, 25 // from frame 100 on, 500 ms later
	signal := testSignal(ticks * FrameSamples)
	frames := cut(signal, []int{FrameSamples}, 0, 0)
	sched := make([][]int, ticks)
	for i := range frames {
		if k := i + extra*min(1, i/step); k < ticks {
			sched[k] = append(sched[k], i)
		}
	}
	out, jb := simulate(frames, sched, ticks)
	st := jb.Stats()
	assert.False(t, jb.c.spike, "the higher delay is accepted")
	assert.Less(t, st.TargetDelay, 70*time.Millisecond)
	assert.Equal(t, uint64(1), st.Underruns)
	assert.Zero(t, st.Late+st.Dropped, "nothing to cut: the audio was only late once")
	assert.LessOrEqual(t, st.Compressed, uint64(2*plcMaxPeriod), "at most following the target's decay")
	assert.Greater(t, blockToneShare(out[(step+extra+5)*FrameSamples:], 440), 0.95)

	// And jitter after it is measured as usual.
	jb.c.estimate(jb.c.transit+FrameSamples+800, 0) // keep ts: only arrival matters
	assert.Greater(t, jb.c.jitter, 40.0)
}

package callcore

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/wire"
)

// withQualityInterval samples call quality every d instead of every second.
func withQualityInterval(d time.Duration) Option {
	return func(c *config) { c.qualityInterval = d }
}

func TestMOSFromR(t *testing.T) {
	// Points of G.107 Annex B's curve, worked by hand.
	for _, tc := range []struct{ r, mos float64 }{
		{-5, 1}, {0, 1}, {50, 2.575}, {60, 3.1}, {70, 3.597}, {80, 4.024},
		{90, 4.339}, {93.2, 4.4094}, {100, 4.5}, {120, 4.5},
	} {
		assert.InDelta(t, tc.mos, MOSFromR(tc.r), 0.001, "R %v", tc.r)
	}
}

func TestEModelR(t *testing.T) {
	for _, tc := range []struct {
		name  string
		delay time.Duration
		loss  float64
		r     float64
	}{
		{"no impairment", 0, 0, 93.2},
		{"100 ms, below the knee", 100 * time.Millisecond, 0, 93.2 - 2.4},
		{"177.3 ms, at the knee", 177300 * time.Microsecond, 0, 93.2 - 0.024*177.3},
		{"300 ms", 300 * time.Millisecond, 0, 93.2 - 7.2 - 0.11*122.7},
		{"3 % loss", 0, 3, 93.2 - 95*3/(3+25.1)},
		{"10 % loss", 0, 10, 93.2 - 95*10/(10+25.1)},
		{"everything lost", 0, 100, 93.2 - 95*100/(100+25.1)},
		{"300 ms and 3 %", 300 * time.Millisecond, 3, 93.2 - 7.2 - 0.11*122.7 - 95*3/(3+25.1)},
		{"so late nothing is left", 2 * time.Second, 50, 0},
		{"negative inputs count as none", -time.Second, -4, 93.2},
	} {
		assert.InDelta(t, tc.r, EModelR(tc.delay, tc.loss), 1e-9, tc.name)
	}
	// What the thresholds mean for G.711: each alone keeps MOS above 3.5;
	// the two together do not.
	assert.Greater(t, MOSFromR(EModelR(RTTRaiseThreshold/2+audio.DefaultInitialDelay, 0)), MOSRaiseThreshold)
	assert.Greater(t, MOSFromR(EModelR(audio.DefaultInitialDelay, LossRaiseThreshold)), MOSRaiseThreshold)
	assert.Less(t, MOSFromR(EModelR(300*time.Millisecond, 10)), MOSRaiseThreshold)
}

func TestInterarrivalJitter(t *testing.T) {
	base := time.Unix(1000, 0)
	ms := func(n int) time.Time { return base.Add(time.Duration(n) * time.Millisecond) }

	t.Run("steady arrivals have none", func(t *testing.T) {
		var a interarrival
		ts := uint32(0xffffff00) // wraps during the run
		for i := range 100 {
			a.arrive(ts, false, ms(20*i))
			ts += wire.FrameSamples
		}
		assert.Zero(t, a.jitter())
	})

	t.Run("alternating 10 and 30 ms gaps converge to 10 ms", func(t *testing.T) {
		// Every frame's transit differs from the last by 10 ms (80 samples):
		// J = 80·(1 − (15/16)^(n−1)).
		var a interarrival
		at := 0
		for i := range 200 {
			a.arrive(uint32(i*wire.FrameSamples), false, ms(at))
			at += 10 + 20*(i%2)
		}
		assert.InDelta(t, float64(10*time.Millisecond), float64(a.jitter()), float64(10*time.Microsecond))
	})

	t.Run("first steps follow RFC 3550", func(t *testing.T) {
		var a interarrival
		a.arrive(0, false, ms(0))
		a.arrive(160, false, ms(36)) // D = 16 ms = 128 samples: J = 8
		assert.Equal(t, time.Millisecond, a.jitter())
		a.arrive(320, false, ms(40)) // D = 16 ms again: J = 8 + (128−8)/16 = 15.5
		assert.Equal(t, 1937500*time.Nanosecond, a.jitter())
	})

	t.Run("a marker or a jump starts a new reference", func(t *testing.T) {
		var a interarrival
		a.arrive(0, false, ms(0))
		a.arrive(99999, true, ms(20))       // a talk spurt on another timeline
		a.arrive(99999+160, false, ms(40))  // follows it exactly
		a.arrive(500000, false, ms(60))     // a jump of over a second: not jitter
		a.arrive(500000+160, false, ms(80)) // follows it exactly
		assert.Zero(t, a.jitter())
	})
}

func TestHysteresis(t *testing.T) {
	// Each step is one sample: 'O' past the raise threshold, 'u' past the
	// clear threshold, '-' between the two. want marks the samples that
	// raise ('R') or clear ('C') the warning.
	for _, tc := range []struct{ name, samples, want string }{
		{"three of five raise", "O-O-O", "....R"},
		{"three in a row raise", "OOO", "..R"},
		{"two of five never do", "O--O--O--O--O-", ".............."},
		{"the window slides", "OO---OO", "......."},
		{"five under in a row clear", "OOOuuuuu", "..R....C"},
		{"a sample between the thresholds restarts the count", "OOOuuuu-uuuuu", "..R.........C"},
		{"a sample over restarts the count", "OOOuuuuOuuuuu", "..R.........C"},
		{"between the thresholds keeps it raised", "OOO----------", "..R.........."},
		{"raised again after clearing", "OOOuuuuuOOO", "..R....C..R"},
		{"samples while raised do not count towards the next raise", "OOOOOOuuuuuO", "..R.......C."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h hysteresis
			var got strings.Builder
			for _, s := range tc.samples {
				mark := "."
				if h.feed(s == 'O', s == 'u') {
					mark = "C"
					if h.raised {
						mark = "R"
					}
				}
				got.WriteString(mark)
			}
			assert.Equal(t, tc.want, got.String())
		})
	}
}

func TestQualityTracker(t *testing.T) {
	good := CallQuality{RTT: 40 * time.Millisecond, Jitter: 2 * time.Millisecond, MOS: 4.4}
	slow := good
	slow.RTT = 450 * time.Millisecond
	bad := slow
	bad.Loss, bad.MOS = 8, 3.2

	var tr qualityTracker
	feed := func(q CallQuality) (CallQuality, []qualityChange) {
		ch := tr.update(&q)
		return q, ch
	}
	q, ch := feed(good)
	assert.Equal(t, QualityGood, q.Level)
	assert.Nil(t, q.Warnings)
	assert.Empty(t, ch)

	feed(slow)
	feed(slow)
	q, ch = feed(slow)
	assert.Equal(t, []qualityChange{{WarningHighRTT, true}}, ch)
	assert.Equal(t, []QualityWarning{WarningHighRTT}, q.Warnings)
	assert.Equal(t, QualityFair, q.Level)

	feed(bad)
	feed(bad)
	q, ch = feed(bad)
	assert.Equal(t, []qualityChange{{WarningHighLoss, true}, {WarningLowMOS, true}}, ch)
	assert.Equal(t, []QualityWarning{WarningHighRTT, WarningHighLoss, WarningLowMOS}, q.Warnings)
	assert.Equal(t, QualityPoor, q.Level)
	assert.True(t, q.Has(WarningLowMOS))
	assert.False(t, q.Has(WarningHighJitter))

	for range QualityClearCount - 1 {
		_, ch = feed(good)
		assert.Empty(t, ch)
	}
	q, ch = feed(good)
	assert.Equal(t, []qualityChange{{WarningHighRTT, false}, {WarningHighLoss, false}, {WarningLowMOS, false}}, ch)
	assert.Nil(t, q.Warnings)
	assert.Equal(t, QualityGood, q.Level)
}

func TestLossPercent(t *testing.T) {
	st := func(received, lost, late uint64) audio.JitterStats {
		return audio.JitterStats{Received: received, Lost: lost, Late: late}
	}
	assert.Zero(t, lossPercent(st(0, 0, 0), st(0, 0, 0)), "nothing expected: on hold")
	assert.Zero(t, lossPercent(st(100, 2, 1), st(150, 2, 1)))
	assert.InDelta(t, 10, lossPercent(st(100, 2, 1), st(145, 6, 2)), 1e-9, "45 arrived, 4 lost, 1 late")
	assert.InDelta(t, 0, lossPercent(st(100, 5, 0), st(150, 4, 1)), 1e-9,
		"a frame counted lost came late: Lost went down, Late up")
}

func TestPongMatching(t *testing.T) {
	q := &qualitySampler{}
	t0 := time.UnixMilli(1_000_000)
	q.pings = []sentPing{{t0.UnixMilli(), t0}, {t0.UnixMilli() + 1000, t0.Add(time.Second)}}
	q.firstPing, q.lastPing = t0.UnixMilli(), t0.UnixMilli()+1000

	q.pong(t0.UnixMilli()-5, t0.Add(300*time.Millisecond))
	q.pong(t0.UnixMilli()+1005, t0.Add(300*time.Millisecond))
	assert.False(t, q.haveRTT, "a ts never sent is ignored")
	assert.Zero(t, q.currentRTT(t0.Add(5*time.Second)), "no RTT before the first pong")

	q.pong(t0.UnixMilli(), t0.Add(300250*time.Microsecond))
	assert.Equal(t, 300250*time.Microsecond, q.currentRTT(t0.Add(time.Second)), "timed on the local clock, not by ms")
	assert.Equal(t, 800*time.Millisecond, q.currentRTT(t0.Add(1800*time.Millisecond)),
		"the second ping is unanswered after 800 ms: the RTT is at least that")
	q.pong(t0.UnixMilli()+1000, t0.Add(1900*time.Millisecond))
	assert.Equal(t, 900*time.Millisecond, q.currentRTT(t0.Add(2500*time.Millisecond)))
	assert.Empty(t, q.pings)
}

func TestPingTimestampsAreUnique(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90000", "1001"))
	fc := e.fs.lastCall(t)
	e.sdk.mu.Lock()
	c := e.sdk.call
	conn := c.conn
	e.sdk.mu.Unlock()
	now := time.Now()
	c.quality.ping(conn, now)
	c.quality.ping(conn, now) // the same millisecond
	waitFor(t, func() bool { return len(fc.messages(wire.TypePing)) >= 3 }, "the pings")
	// The sampler's own pings interleave with these two: every ts is
	// distinct and they rise in the order sent.
	pings := fc.messages(wire.TypePing)
	for i := 1; i < len(pings); i++ {
		assert.Greater(t, pings[i].TS, pings[i-1].TS, "ping %d", i)
	}
	require.NoError(t, e.sdk.EndCall(ctxT(t)))
}

// qualityRecorder is a recorder that also records quality events.
type qualityRecorder struct {
	*recorder
	mu      sync.Mutex
	samples []CallQuality
}

func (r *qualityRecorder) OnCallQuality(q CallQuality) {
	r.mu.Lock()
	r.samples = append(r.samples, q)
	r.mu.Unlock()
	r.add("quality")
}

func (r *qualityRecorder) OnQualityWarning(w QualityWarning, raised bool) {
	r.add(fmt.Sprintf("warning:%s:%t", w, raised))
}

func (r *qualityRecorder) sampleCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.samples)
}

func (r *qualityRecorder) last() CallQuality {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.samples[len(r.samples)-1]
}

func TestCallQualitySamplesAndWarnings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withQualityInterval(20*time.Millisecond))
	rec := &qualityRecorder{recorder: &recorder{}}
	e.sdk.SetCallProgressCallback(rec)
	var pongDelay atomic.Int64 // ns
	e.fs.onPing = func(fc *fakeCall, m wire.Message) {
		time.AfterFunc(time.Duration(pongDelay.Load()), func() {
			_ = fc.conn.Send(wire.Message{Type: wire.TypePong, TS: m.TS})
		})
	}
	assert.Zero(t, e.sdk.CallQuality().Level, "no sample before a call")

	ctx := ctxT(t)
	require.NoError(t, e.sdk.StartInBoundCall(ctx, "90000", "1001"))
	fc := e.fs.lastCall(t)
	waitFor(t, func() bool { return rec.sampleCount() >= 5 }, "five samples")
	assert.NotEmpty(t, fc.messages(wire.TypePing), "the SDK pings on the call socket")
	q := rec.last()
	assert.Equal(t, fc.id, q.CallID)
	assert.Equal(t, QualityGood, q.Level)
	assert.Less(t, q.RTT, 100*time.Millisecond)
	assert.Greater(t, q.MOS, 4.0, "G.711 on loopback with echoed audio")
	assert.InDelta(t, MOSFromR(EModelR(q.Delay, q.Loss)), q.MOS, 1e-9)

	// Pongs 450 ms late: the RTT goes over 400 ms and high_rtt is raised
	// (low_mos too: half a second of RTT costs G.711 nearly a point).
	pongDelay.Store(int64(450 * time.Millisecond))
	waitFor(t, func() bool { return rec.has("warning:high_rtt:true") }, "high_rtt raised")
	q = e.sdk.CallQuality()
	assert.True(t, q.Has(WarningHighRTT))
	assert.NotEqual(t, QualityGood, q.Level)
	assert.Greater(t, q.RTT, RTTRaiseThreshold)

	pongDelay.Store(0)
	waitFor(t, func() bool { return rec.has("warning:high_rtt:false") }, "high_rtt cleared")
	waitFor(t, func() bool { return e.sdk.CallQuality().Level == QualityGood }, "quality good again")

	require.NoError(t, e.sdk.EndCall(ctx))
	flush(e.sdk)
	lines := rec.without("quality")
	require.NotEmpty(t, lines)
	assert.Equal(t, "ended:inbound:90000", lines[len(lines)-1], "nothing after onCallEnded")
	all := rec.lines()
	assert.Equal(t, "ended:inbound:90000", all[len(all)-1], "no sample after onCallEnded")
	assert.Equal(t, q.CallID, e.sdk.CallQuality().CallID, "the last call's last sample stays readable")

	// The next call starts without the last one's sample.
	require.NoError(t, e.sdk.StartInBoundCall(ctx, "90000", "1001"))
	assert.NotEqual(t, q.CallID, e.sdk.CallQuality().CallID)
	require.NoError(t, e.sdk.EndCall(ctx))
}

// Warnings come right after the sample that changed them, and the sample
// already lists them.
func TestQualityWarningFollowsItsSample(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withQualityInterval(10*time.Millisecond))
	var mu sync.Mutex
	var last CallQuality
	var order []string
	e.sdk.SetCallProgressCallback(CallbackFuncs{
		Quality: func(q CallQuality) { mu.Lock(); last = q; mu.Unlock() },
		QualityWarning: func(w QualityWarning, raised bool) {
			mu.Lock()
			defer mu.Unlock()
			order = append(order, fmt.Sprintf("%s:%t listed:%t", w, raised, last.Has(w)))
		},
	})
	e.fs.onPing = func(fc *fakeCall, m wire.Message) { // 500 ms of RTT
		time.AfterFunc(500*time.Millisecond, func() { _ = fc.conn.Send(wire.Message{Type: wire.TypePong, TS: m.TS}) })
	}
	ctx := ctxT(t)
	require.NoError(t, e.sdk.StartInBoundCall(ctx, "90000", "1001"))
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(order) > 0 }, "a warning")
	require.NoError(t, e.sdk.EndCall(ctx))
	flush(e.sdk)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, order)
	for _, o := range order {
		assert.Contains(t, o, ":true listed:true")
	}
}

// The per-frame path (a frame received, then played) allocates nothing,
// jitter measurement included.
func TestReceivePathAllocatesNothing(t *testing.T) {
	m := newMedia(nil)
	m.setPhase(phaseActive)
	out := make([]int16, wire.FrameSamples)
	raw := make([]byte, 0, wire.MaxAudioMessage)
	var seq, ts uint32
	frame := func() {
		raw, _ = wire.AppendAudio(raw[:0], wire.AudioFrame{Seq: seq, Timestamp: ts, Samples: out})
		seq++
		ts += wire.FrameSamples
		m.onAudio(raw)
		m.Playback(out)
	}
	for range 50 {
		frame() // past buffering, with recycled buffers
	}
	assert.Zero(t, testing.AllocsPerRun(200, frame))
}

package e2e

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/dsp"
)

// Mouth-to-ear delay is measured with markers: the sender's microphone
// steps through markerFreqs, one every markerEvery, and the receiver's
// recording tells when each step was heard. Seven tones make a step
// unmistakable for 0.7 s, longer than any delay measured.
var markerFreqs = []float64{500, 700, 900, 1100, 1300, 1500, 1700}

const (
	markerEvery = 100 * time.Millisecond
	// markerWin is the Goertzel window that tells the tones apart (20 ms:
	// tones 200 Hz apart fall four bins apart) and markerStep its stride.
	markerWin  = audio.FrameSamples
	markerStep = 8
	// markerLost is how long after its step a tone must be heard to count.
	markerLost = 600 * time.Millisecond
)

// step is one switch of a sender's tone.
type step struct {
	at    time.Time
	freq  int     // index into markerFreqs
	n     int64   // samples the receiver had played at that moment
	heard float64 // receiver's samples from the switch to when it was heard; -1 never
}

func (s step) delay() time.Duration {
	if s.heard < 0 {
		return -1
	}
	return time.Duration(s.heard * float64(time.Second) / audio.SampleRate)
}

// markers switches from's tone every markerEvery until the test ends,
// noting how far to's play-out had got at each switch.
type markers struct {
	from, to *phone
	mu       sync.Mutex
	steps    []step
	levels   []level // the receiver's jitter buffer, every 10 ms
}

type level struct {
	at       time.Time
	buffered time.Duration
}

func startMarkers(t *testing.T, from, to *phone) *markers {
	m := &markers{from: from, to: to}
	m.switchTone(0)
	c, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(markerEvery)
		defer tick.Stop()
		sample := time.NewTicker(10 * time.Millisecond)
		defer sample.Stop()
		for i := 1; ; {
			select {
			case <-c.Done():
				return
			case <-tick.C:
				m.switchTone(i % len(markerFreqs))
				i++
			case now := <-sample.C:
				b := to.sdk.CallStats().Jitter.Buffered
				m.mu.Lock()
				m.levels = append(m.levels, level{now, b})
				m.mu.Unlock()
			}
		}
	}()
	return m
}

// switchTone makes the sender send markerFreqs[f] from now on.
func (m *markers) switchTone(f int) {
	n := m.to.dev.PlayedSamples()
	m.from.dev.SetTone(markerFreqs[f], 0.5)
	m.mu.Lock()
	m.steps = append(m.steps, step{at: time.Now(), freq: f, n: n})
	m.mu.Unlock()
}

// measure finds in the receiver's recording when each step was heard: the
// first window, from the switch on, in which the new tone is the strongest
// of the markers and holds at least a quarter of the power (half the window
// is the new tone). A step the receiver never played (audio discarded as
// stale) is not heard within markerLost.
func (m *markers) measure() []step {
	m.mu.Lock()
	steps := slices.Clone(m.steps)
	m.mu.Unlock()

	rec, end := m.to.dev.RecordingAt()
	first := end - int64(len(rec))
	// Which marker dominates each window (-1: none).
	class := make([]int8, max(0, (len(rec)-markerWin)/markerStep+1))
	for w := range class {
		win := rec[w*markerStep : w*markerStep+markerWin]
		best, share := -1, 0.25
		for i, f := range markerFreqs {
			if s := dsp.ToneShare(win, f); s > share {
				best, share = i, s
			}
		}
		class[w] = int8(best)
	}
	lost := int64(markerLost.Seconds() * audio.SampleRate)
	for i := range steps {
		s := &steps[i]
		s.heard = -1
		from := max(0, (s.n-first-markerWin)/markerStep)
		to := min(int64(len(class)), (s.n+lost-first)/markerStep)
		for w := from; w < to; w++ {
			if int(class[w]) == s.freq {
				mid := first + w*markerStep + markerWin/2 // half the window is the new tone
				s.heard = float64(mid - s.n)
				break
			}
		}
	}
	return steps
}

// stallFigures is what a stall did to one direction of a call.
type stallFigures struct {
	before     time.Duration // median delay before the stall
	firstAt    time.Duration // when, after the release, the first step heard after it was sent
	firstAfter time.Duration // and its delay
	settled    time.Duration // from the release until steps are heard within 20 ms of before (and stay)
	end        time.Duration // median delay of the steps 2-4 s after release (markerLost if not heard)
	discarded  int           // steps sent after the release never heard
	bufBefore  time.Duration // the receiver's jitter buffer, median before the stall
	bufSettled time.Duration // from the release until its level over 100 ms is at most bufBefore+20 ms (and stays)
	bufEnd     time.Duration // the median of its lowest levels over 100 ms from 2 to 4 s after the release
}

func (f stallFigures) String() string {
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("delay before %v; the first step heard after the release (sent %v after it) %v; "+
		"within 20 ms of before from %v after the release; 2-4 s after: %v; %d steps after the release discarded; "+
		"jitter buffer before %v, back within 20 ms of that %v after the release, %v 2-4 s after",
		ms(f.before), ms(f.firstAt), ms(f.firstAfter), ms(f.settled), ms(f.end), f.discarded, ms(f.bufBefore), ms(f.bufSettled), ms(f.bufEnd))
}

// figures sums up the steps and levels up to 4 s after the release.
func figures(steps []step, levels []level, stallAt, release time.Time) stallFigures {
	f := stallFigures{firstAt: -1, firstAfter: -1}
	last := release.Add(4 * time.Second)
	var pre, post, preBuf []time.Duration
	for _, s := range steps {
		switch {
		case s.at.After(last):
		case s.at.Before(stallAt.Add(-markerEvery)):
			if s.heard >= 0 {
				pre = append(pre, s.delay())
			}
		case s.at.After(release):
			if f.firstAfter < 0 && s.heard >= 0 {
				f.firstAt, f.firstAfter = s.at.Sub(release), s.delay()
			}
			if s.heard < 0 {
				f.discarded++
			}
			if s.at.After(release.Add(2 * time.Second)) {
				d := s.delay()
				if s.heard < 0 {
					d = markerLost // never heard: as late as can be told
				}
				post = append(post, d)
			}
		}
	}
	f.before, f.end = median(pre), median(post)
	var postBuf []time.Duration
	for _, s := range steps {
		if s.at.After(release) && !s.at.After(last) && (s.heard < 0 || s.delay() > f.before+20*time.Millisecond) {
			f.settled = s.at.Add(max(0, s.delay())).Sub(release) // heard (or due) then
		}
	}
	for _, l := range levels {
		if l.at.Before(stallAt) {
			preBuf = append(preBuf, l.buffered)
		}
	}
	f.bufBefore = median(preBuf)
	for i, l := range levels {
		if !l.at.After(release) || l.at.After(last) {
			continue
		}
		low := lowest(levels[i:])
		if low > f.bufBefore+20*time.Millisecond {
			f.bufSettled = l.at.Sub(release)
		}
		if l.at.After(release.Add(2 * time.Second)) {
			postBuf = append(postBuf, low)
		}
	}
	f.bufEnd = median(postBuf)
	return f
}

// lowest is the lowest level in the 100 ms from levels[0]. The level rises
// by a frame whenever one arrives, by several when the network bunches
// them: its lowest over a while is the audio that waits to play.
func lowest(levels []level) time.Duration {
	low := levels[0].buffered
	for _, m := range levels {
		if m.at.Sub(levels[0].at) > 100*time.Millisecond {
			break
		}
		low = min(low, m.buffered)
	}
	return low
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return -1
	}
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}

// TestDelayDrainsAfterANetworkStall stalls an app-to-app call's network
// (TCP: nothing is lost, everything arrives late, at once) and measures
// the mouth-to-ear delay both ways before and after: the backlog must not
// stay in the jitter buffers as latency.
func TestDelayDrainsAfterANetworkStall(t *testing.T) {
	t.Parallel()
	for _, stall := range []time.Duration{2 * time.Second, 5 * time.Second, 15 * time.Second} {
		t.Run(stall.String(), func(t *testing.T) {
			t.Parallel()
			p, a, b := proxiedAppCall(t)
			a.hears(toneB)
			b.hears(toneA)
			toA, toB := startMarkers(t, b, a), startMarkers(t, a, b)
			// Steady audio for the "before" figure.
			waitSteps(t, toA, 2*time.Second)
			stallAt := time.Now()
			p.stall(stall)
			release := time.Now()
			// Collect until the steps of 4 s after the release have had half
			// a second to be heard.
			require.Eventually(t, func() bool {
				return toA.last().at.After(release.Add(4500*time.Millisecond)) &&
					toB.last().at.After(release.Add(4500*time.Millisecond))
			}, 4500*time.Millisecond+waitAudio, 20*time.Millisecond)
			assert.True(t, a.sdk.IsCallActive())
			assert.True(t, b.sdk.IsCallActive())

			for _, dir := range []struct {
				name string
				m    *markers
				rx   *phone
			}{{"B→A", toA, a}, {"A→B", toB, b}} {
				steps := dir.m.measure()
				dir.m.mu.Lock()
				levels := slices.Clone(dir.m.levels)
				dir.m.mu.Unlock()
				f := figures(steps, levels, stallAt, release)
				st := dir.rx.sdk.CallStats().Jitter
				t.Logf("%v stall, %s: %v; jitter buffer target now %v, dropped %v, compressed %v",
					stall, dir.name, f, st.TargetDelay.Round(time.Millisecond),
					samplesDur(st.Dropped).Round(time.Millisecond), samplesDur(st.Compressed).Round(time.Millisecond))
				require.Positive(t, f.before, "%s: steps heard before the stall", dir.name)
				// The median: a hiccup of the machine running the test (the
				// race detector, the other tests) can add a frame or two of
				// delay for a moment, as it would in any call.
				assert.Less(t, f.end, 100*time.Millisecond, "%s: the delay 2-4 s after the release", dir.name)
				assert.Less(t, f.bufEnd, 100*time.Millisecond, "%s: the receiver's jitter buffer 2-4 s after the release", dir.name)
			}
		})
	}
}

func (m *markers) last() step {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.steps) == 0 {
		return step{}
	}
	return m.steps[len(m.steps)-1]
}

// waitSteps waits until markers have been switching for d.
func waitSteps(t *testing.T, m *markers, d time.Duration) {
	t.Helper()
	m.mu.Lock()
	start := m.steps[0].at // startMarkers took the first
	m.mu.Unlock()
	require.Eventually(t, func() bool { return m.last().at.Sub(start) >= d }, d+waitAudio, 20*time.Millisecond)
}

func samplesDur(n uint64) time.Duration { return time.Duration(n) * time.Second / audio.SampleRate }

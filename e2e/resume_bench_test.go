package e2e

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkResumeGap gives the figures for how long a call is cut off by a
// TCP reset (a Wi-Fi to mobile handover): one echo-DID call (90000) whose
// phone reaches the server through a proxy is reset b.N times, one after
// another, each once audio flows both ways again. Reported, in ms:
//
//   - gap-*: from the reset to the first audio frame the phone receives
//     again (CallStats().FramesReceived advancing), as resumeGap measures;
//   - resume-*: the resume as the SDK reports it, from
//     OnCallReconnecting(false) to OnCallReconnected(false).
//
// One op is one reset and resume, including the wait for audio before the
// next (so ns/op says little). Benchmarks run only with -bench:
//
//	go test ./e2e -run '^$' -bench BenchmarkResumeGap -benchtime 60x
func BenchmarkResumeGap(b *testing.B) {
	e := startServer(b)
	p := startProxy(b, e.url[len("http://"):])
	direct := e.url
	e.url = p.url()
	a := e.newPhone(b, "1001", toneA)
	e.url = direct

	// The phone's usual callbacks, with the SDK's reconnect events timed.
	var mu sync.Mutex
	var lost, back []time.Time
	cb := a.log.callbacks()
	reconnecting, reconnected := cb.Reconnecting, cb.Reconnected
	cb.Reconnecting = func(remote bool) {
		if !remote {
			mu.Lock()
			lost = append(lost, time.Now())
			mu.Unlock()
		}
		reconnecting(remote)
	}
	cb.Reconnected = func(remote bool) {
		if !remote {
			mu.Lock()
			back = append(back, time.Now())
			mu.Unlock()
		}
		reconnected(remote)
	}
	a.sdk.SetCallProgressCallback(cb)

	require.NoError(b, a.sdk.StartInBoundCall(ctx(b), "90000", "1001"))
	a.waitFor("started inbound 90000 1001")

	var gaps, resumes []time.Duration
	for b.Loop() {
		i := len(gaps)
		echoed(b, a)
		before := a.sdk.CallStats().FramesReceived
		cut := time.Now()
		p.cut()
		var heard time.Time
		require.Eventually(b, func() bool {
			if a.sdk.CallStats().FramesReceived > before {
				heard = time.Now()
				return true
			}
			return false
		}, 10*time.Second, time.Millisecond, "no audio after reset %d", i+1)
		gaps = append(gaps, heard.Sub(cut))
		a.waitForCount("reconnected local", i+1, waitEvent)
		mu.Lock()
		require.Len(b, lost, i+1, "one reconnect per reset")
		resumes = append(resumes, back[i].Sub(lost[i]))
		mu.Unlock()
	}
	b.StopTimer()
	echoed(b, a)
	require.True(b, a.sdk.IsCallActive())
	require.Equal(b, len(gaps), a.sdk.CallStats().Resumes)
	require.NotContains(b, a.snapshot(), "ended inbound 90000")

	reportPercentiles(b, "gap", gaps)
	reportPercentiles(b, "resume", resumes)
	b.Logf("%d resets: gaps %v", len(gaps), roundAll(gaps))
}

// echoed waits until a (in an echo-DID call) receives a listening window's
// worth of new frames and hears its own tone in them: audio flows both
// ways. (freshAudio and hears do the same for a *testing.T.)
func echoed(b *testing.B, a *phone) {
	b.Helper()
	from := a.sdk.CallStats().FramesReceived
	need := uint64(window/(20*time.Millisecond)) + 5
	require.Eventually(b, func() bool { return a.sdk.CallStats().FramesReceived >= from+need }, waitAudio,
		10*time.Millisecond, "no audio (%d frames since)", a.sdk.CallStats().FramesReceived-from)
	a.hears(toneA)
}

// reportPercentiles reports p50, p90, p99 and max of ds in ms as name-p50-ms, ….
func reportPercentiles(b *testing.B, name string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(s[len(s)*50/100]), name+"-p50-ms")
	b.ReportMetric(ms(s[len(s)*90/100]), name+"-p90-ms")
	b.ReportMetric(ms(s[len(s)*99/100]), name+"-p99-ms")
	b.ReportMetric(ms(s[len(s)-1]), name+"-max-ms")
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(100 * time.Microsecond)
	}
	return out
}

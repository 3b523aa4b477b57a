package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/onecxi/phone/callcore"
	"github.com/stretchr/testify/require"
)

// BenchmarkCallSetup measures call set-up time as the guide's user sees it:
// from StartInBoundCall to onCallStarted, through the real SDK and server on
// loopback, dialling the echo DID. Reported as p50/p99 in milliseconds; one
// op is a whole call (set up, then hung up).
//
//	go test -run '^$' -bench CallSetup -benchtime 200x ./e2e/
func BenchmarkCallSetup(b *testing.B) {
	e := startServer(b)
	started := make(chan time.Time, 1)
	ended := make(chan struct{}, 1)
	p := e.newPhone(b, "1001", toneA).sdk
	p.SetCallProgressCallback(callcore.CallbackFuncs{
		Started: func(callcore.CallType, string, string) { started <- time.Now() },
		Ended:   func(callcore.CallType, string) { ended <- struct{}{} },
	})
	var setups []time.Duration
	for b.Loop() {
		begin := time.Now()
		require.NoError(b, p.StartInBoundCall(ctx(b), "90000", "1001"))
		at := <-started
		setups = append(setups, at.Sub(begin))
		require.NoError(b, p.EndCall(ctx(b)))
		<-ended
	}
	slices.Sort(setups)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(setups[len(setups)/2]), "setup-p50-ms")
	b.ReportMetric(ms(setups[len(setups)*99/100]), "setup-p99-ms")
}

package e2e

import (
	"runtime"
	"testing"
	"time"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/platform"
	"github.com/stretchr/testify/require"
)

// Many calls set up and torn down must leave nothing behind: no calls in the
// server's registry, no goroutines in the SDK or the server.
func TestManyCallsLeaveNothingBehind(t *testing.T) {
	e := startServer(t)
	a := e.newPhone(t, "1001", toneA)
	b := e.newPhone(t, "1002", toneB, answering(platform.ActionAccept))
	require.NoError(t, b.sdk.ListenForIncomingCalls(ctx(t), "1002"))
	settle := func() int {
		require.Eventually(t, func() bool {
			return !a.sdk.IsCallActive() && !b.sdk.IsCallActive() && e.srv.Stats().ActiveCalls == 0
		}, waitEvent, 10*time.Millisecond)
		require.NoError(t, a.sdk.FlushCallbacks(ctx(t)))
		require.NoError(t, b.sdk.FlushCallbacks(ctx(t)))
		return runtime.NumGoroutine()
	}
	call := func(i int) {
		if i%2 == 0 {
			require.NoError(t, a.sdk.StartInBoundCall(ctx(t), "90000", "1001"))
		} else {
			require.NoError(t, a.sdk.StartAppToAppInboundCall(ctx(t), "1002", "1001"))
			require.Eventually(t, b.sdk.IsCallActive, waitEvent, time.Millisecond)
		}
		require.Eventually(t, func() bool { return a.sdk.GetCallStatus().State == callcore.CallStateActive },
			waitEvent, time.Millisecond)
		require.NoError(t, a.sdk.EndCall(ctx(t)))
		settle()
	}
	call(0)
	call(1)
	base := settle()
	for i := range 60 {
		call(i)
	}
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= base+2 }, waitEvent, 20*time.Millisecond,
		"goroutines grew from %d to %d over 60 calls", base, runtime.NumGoroutine())
}

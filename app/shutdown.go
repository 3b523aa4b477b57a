package app

import (
	"bytes"
	"log/slog"
	"runtime/pprof"
	"time"
)

// shutdownLimit bounds how long the app waits for its clean shutdown (the
// call's hang-up, the SDK, the embedded server) once the window is gone.
// The server's own graceful stop takes a few seconds at most; past this the
// process is stuck, and a softphone that cannot be quit is worse than one
// that quits without finishing its goodbyes.
const shutdownLimit = 15 * time.Second

// stopWithin runs stop and waits for it at most limit. When it is late, it
// logs every goroutine's stack, so the hang can be found and fixed, and
// returns false without waiting further: the caller then exits anyway.
func stopWithin(log *slog.Logger, limit time.Duration, stop func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		stop()
	}()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		var stacks bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&stacks, 2)
		log.Error("shutdown did not finish; exiting anyway", "after", limit, "goroutines", stacks.String())
		return false
	}
}

package callcore

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestDispatcherDeliversInOrderWithoutBlocking(t *testing.T) {
	d := newDispatcher(discardLogger())
	release := make(chan struct{})
	var mu sync.Mutex
	var got []int
	d.set(CallbackFuncs{WebSocket: func(bool) { <-release }, Error: func(err error, _ CallType) {
		mu.Lock()
		got = append(got, int(err.(ErrorKind)))
		mu.Unlock()
	}})
	d.emit(func(cb CallProgressCallback) { cb.OnWebSocketStatusChanged(true) }) // blocks the UI
	start := time.Now()
	for i := 1; i <= 1000; i++ {
		k := ErrorKind(i)
		d.emit(func(cb CallProgressCallback) { cb.OnCallError(k, CallTypeNone) })
	}
	assert.Less(t, time.Since(start), time.Second, "emit never waits for a slow callback")
	close(release)
	<-d.drained()
	require.Len(t, got, 1000)
	for i, v := range got {
		require.Equal(t, i+1, v, "FIFO")
	}
}

func TestDispatcherReplacementAndPanics(t *testing.T) {
	d := newDispatcher(discardLogger())
	var first, second []string
	d.set(CallbackFuncs{Ended: func(_ CallType, did string) { first = append(first, did) }})
	d.emit(func(cb CallProgressCallback) { cb.OnCallEnded(CallTypeInbound, "a") })
	<-d.drained()
	d.set(CallbackFuncs{Ended: func(_ CallType, did string) {
		if did == "boom" {
			panic("ui bug")
		}
		second = append(second, did)
	}})
	d.emit(func(cb CallProgressCallback) { cb.OnCallEnded(CallTypeInbound, "boom") })
	d.emit(func(cb CallProgressCallback) { cb.OnCallEnded(CallTypeInbound, "b") })
	<-d.drained()
	assert.Equal(t, []string{"a"}, first, "the replaced callback gets nothing more")
	assert.Equal(t, []string{"b"}, second, "a panicking callback does not stop later events")

	d.set(nil)
	d.emit(func(cb CallProgressCallback) { cb.OnCallEnded(CallTypeInbound, "c") })
	<-d.drained()
	assert.Equal(t, []string{"b"}, second, "nil unregisters")

	d.close()
	d.set(CallbackFuncs{Ended: func(_ CallType, did string) { second = append(second, did) }})
	d.emit(func(cb CallProgressCallback) { cb.OnCallEnded(CallTypeInbound, "d") })
	<-d.drained()
	assert.Equal(t, []string{"b"}, second, "closed dispatchers drop events")
}

func TestCallbackFuncsNilFieldsAreIgnored(t *testing.T) {
	var f CallbackFuncs
	f.OnCallStatusChanged(CallStatus{})
	f.OnCallStarted(CallTypeInbound, "1", "2")
	f.OnCallEnded(CallTypeInbound, "1")
	f.OnCallError(ErrUnknown, CallTypeInbound)
	f.OnWebSocketStatusChanged(true)
	f.OnCallDeclined(CallTypeAppToApp, "1")
}

func TestFlushCallbacks(t *testing.T) {
	s, _ := newSDK(t)
	release := make(chan struct{})
	running := make(chan struct{})
	s.SetCallProgressCallback(CallbackFuncs{WebSocket: func(bool) {
		close(running)
		<-release
	}})
	s.disp.emit(func(cb CallProgressCallback) { cb.OnWebSocketStatusChanged(true) })
	<-running
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, s.FlushCallbacks(ctx), context.DeadlineExceeded, "a slow callback is still running")
	close(release)
	require.NoError(t, s.FlushCallbacks(ctxT(t)))

	// From inside a callback it waits for that callback too, so it returns
	// only when its context ends (the documented rule), and does not hang.
	inside := make(chan error, 1)
	s.SetCallProgressCallback(CallbackFuncs{WebSocket: func(bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		inside <- s.FlushCallbacks(ctx)
	}})
	s.disp.emit(func(cb CallProgressCallback) { cb.OnWebSocketStatusChanged(true) })
	select {
	case err := <-inside:
		assert.ErrorIs(t, err, context.DeadlineExceeded, "FlushCallbacks inside a callback waits for itself until ctx ends")
	case <-time.After(5 * time.Second):
		t.Fatal("FlushCallbacks inside a callback hung")
	}
	require.NoError(t, s.FlushCallbacks(ctxT(t)))
}

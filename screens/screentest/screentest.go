// Package screentest runs Fyne UI tests the way the real driver runs the app.
//
// Fyne's test driver runs fyne.Do synchronously on the calling goroutine, so
// an SDK callback that hops to "the Fyne goroutine" with fyne.Do would touch
// widgets on the SDK's goroutine while the test taps and reads them on its
// own: a data race the real app does not have. New installs a test app whose
// fyne.Do queues work for one UI goroutine, as the desktop driver does; the
// test runs its taps, typing and reads on that goroutine with Do and Get.
package screentest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onecxi/phone/internal/goid"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// UI is a Fyne test app with a UI goroutine.
type UI struct {
	app *wrappedApp

	mu      sync.Mutex
	queue   []func()
	stopped bool
	wake    chan struct{}
	done    chan struct{}
	loop    atomic.Uint64 // the UI goroutine's ID
}

// New starts a test app (test.NewTempApp) whose fyne.Do runs on a UI
// goroutine, makes it the current app and stops it when the test ends,
// after running what is queued by then. Register cleanups that still
// deliver UI work (stopping an SDK, a server) after calling New, so they run
// before it stops.
func New(t testing.TB) *UI {
	t.Helper()
	inner := test.NewTempApp(t)
	u := &UI{wake: make(chan struct{}, 1), done: make(chan struct{})}
	u.app = &wrappedApp{App: inner, drv: &driver{Driver: inner.Driver(), ui: u}}
	fyne.SetCurrentApp(u.app)
	started := make(chan struct{})
	go u.run(started)
	<-started
	t.Cleanup(u.stop)
	return u
}

// App is the app to build windows and screens with.
func (u *UI) App() fyne.App { return u.app }

// Do runs f on the UI goroutine after everything queued before it, and
// waits for it.
func (u *UI) Do(f func()) { u.post(f, true) }

// Flush waits until everything queued with fyne.Do so far has run.
func (u *UI) Flush() { u.Do(func() {}) }

// Get returns f's result, computed on the UI goroutine.
func Get[T any](u *UI, f func() T) T {
	var v T
	u.Do(func() { v = f() })
	return v
}

// Eventually waits up to wait for cond, evaluated on the UI goroutine, to
// hold; it reports whether it did. Use it with require.True, or use
// require.Eventually with Get inside the condition.
func (u *UI) Eventually(cond func() bool, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		if Get(u, cond) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (u *UI) post(f func(), wait bool) {
	if u.onLoop() { // already on the UI goroutine: the real driver would not deadlock either
		f()
		return
	}
	var done chan struct{}
	run := f
	if wait {
		done = make(chan struct{})
		run = func() { defer close(done); f() }
	}
	u.mu.Lock()
	if u.stopped {
		u.mu.Unlock()
		if wait {
			panic("screentest: Do after the test ended")
		}
		return // late fyne.Do from a background goroutine: the app is gone
	}
	u.queue = append(u.queue, run)
	u.mu.Unlock()
	select {
	case u.wake <- struct{}{}:
	default:
	}
	if wait {
		<-done
	}
}

func (u *UI) run(started chan<- struct{}) {
	defer close(u.done)
	u.loop.Store(goid.ID())
	close(started)
	for {
		u.mu.Lock()
		q := u.queue
		u.queue = nil
		stopped := u.stopped
		u.mu.Unlock()
		for _, f := range q {
			f()
		}
		if len(q) > 0 {
			continue
		}
		if stopped {
			return
		}
		<-u.wake
	}
}

func (u *UI) stop() {
	u.mu.Lock()
	u.stopped = true
	u.mu.Unlock()
	select {
	case u.wake <- struct{}{}:
	default:
	}
	<-u.done
}

func (u *UI) onLoop() bool {
	id := u.loop.Load()
	return id != 0 && id == goid.ID()
}

// wrappedApp is the test app with the queueing driver.
type wrappedApp struct {
	fyne.App
	drv *driver
}

func (a *wrappedApp) Driver() fyne.Driver { return a.drv }

// driver is the test driver whose DoFromGoroutine queues for the UI
// goroutine.
type driver struct {
	fyne.Driver
	ui *UI
}

func (d *driver) DoFromGoroutine(f func(), wait bool) { d.ui.post(f, wait) }

// Package screentest runs Fyne UI tests the way the real driver runs the app.
//
// Fyne's test driver runs fyne.Do synchronously on the calling goroutine, so
// an SDK callback that hops to "the Fyne goroutine" with fyne.Do would touch
// widgets on the SDK's goroutine while the test taps and reads them on its
// own: a data race the real app does not have. New installs a test app whose
// fyne.Do queues work for one UI goroutine, as the desktop driver does; the
// test runs its taps, typing and reads on that goroutine with Do and Get.
//
// The rules are the real driver's, and nothing here asks which goroutine is
// calling:
//
//   - fyne.Do always queues: from the UI goroutine too, its function runs
//     after the current one returns, in order, never inline.
//   - Do, Get, Flush and fyne.DoAndWait wait for the UI goroutine, so they
//     must not be called on it: not inside a function passed to Do or Get,
//     nor in a widget callback (OnTapped, OnChanged, …) that such a function
//     runs. There they wait for themselves and the test hangs, just as
//     fyne.DoAndWait must not be called from the main goroutine of a real
//     app. To see the work a tap queued with fyne.Do, return from the Do,
//     then call Flush or Get.
package screentest

import (
	"sync"
	"testing"
	"time"

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
	go u.run()
	t.Cleanup(u.stop)
	return u
}

// App is the app to build windows and screens with.
func (u *UI) App() fyne.App { return u.app }

// Do runs f on the UI goroutine after everything queued before it, and
// waits for it. It must not be called on the UI goroutine (inside f, or a
// widget callback f runs): it would wait for itself.
func (u *UI) Do(f func()) { u.post(f, true) }

// Flush waits until everything queued with fyne.Do so far has run. Like Do,
// it must not be called on the UI goroutine.
func (u *UI) Flush() { u.Do(func() {}) }

// Get returns f's result, computed on the UI goroutine. Like Do, it must not
// be called on the UI goroutine.
func Get[T any](u *UI, f func() T) T {
	var v T
	u.Do(func() { v = f() })
	return v
}

// Eventually waits up to wait for cond, evaluated on the UI goroutine, to
// hold; it reports whether it did. Use it with require.True (testify's
// Eventually evaluates its condition on goroutines of its own, which may
// outlive it; see Never). Like Do, it must not be called on the UI
// goroutine.
func (u *UI) Eventually(cond func() bool, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		if Get(u, cond) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond) // the poll interval, not a wait for an event
	}
}

// Never checks cond, evaluated on the UI goroutine, every 10 ms for the
// whole of wait; it reports whether cond stayed false throughout. Use it
// with require.True rather than testify's Never: that evaluates its
// condition on goroutines of its own which can outlive it (and then Get
// after the test has ended), while this polls from the calling goroutine.
// Like Do, it must not be called on the UI goroutine.
func (u *UI) Never(cond func() bool, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		if Get(u, cond) {
			return false
		}
		if time.Now().After(deadline) {
			return true
		}
		time.Sleep(10 * time.Millisecond) // the poll interval, not a wait for an event
	}
}

// post queues f for the UI goroutine, from any goroutine (the UI goroutine
// too), and with wait waits until it has run.
func (u *UI) post(f func(), wait bool) {
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

func (u *UI) run() {
	defer close(u.done)
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

// wrappedApp is the test app with the queueing driver.
type wrappedApp struct {
	fyne.App
	drv *driver
}

func (a *wrappedApp) Driver() fyne.Driver { return a.drv }

// driver is the test driver whose DoFromGoroutine queues for the UI
// goroutine, whichever goroutine calls it.
type driver struct {
	fyne.Driver
	ui *UI
}

func (d *driver) DoFromGoroutine(f func(), wait bool) { d.ui.post(f, wait) }

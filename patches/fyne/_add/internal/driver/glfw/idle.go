package glfw

// OneCxi patch (patches/fyne in github.com/onecxi/phone; not part of Fyne):
// the main loop sleeps while there is nothing to do, instead of polling
// events and checking every window 60 times a second. An idle phone woke
// its main thread 60 times a second for nothing: each wake-up is a handoff
// to the locked OS thread, and together they were nearly all of its idle CPU.

import (
	"sync"
	"sync/atomic"
	"time"
)

const (
	// idleAfterTicks ticks in a row with nothing drawn, no window change and
	// no animation running send the loop to sleep.
	idleAfterTicks = 4
	// idleWait bounds one sleep, so that a canvas changed without fyne.Do
	// (which would not wake the loop) is still drawn within it.
	idleWait = time.Second
)

var (
	// mainQueued counts functions sent to funcQueue and not yet taken off it:
	// the loop does not sleep while one is on its way.
	mainQueued atomic.Int64

	// sleepMu guards asleep, so that an empty event is posted only while the
	// loop sleeps in GLFW (never before GLFW started or after it ended).
	sleepMu sync.Mutex
	asleep  bool
)

// wakeMain ends the loop's sleep, if it sleeps: called after anything that
// gives it work (a function queued to run on main, an animation started,
// Quit).
func wakeMain() {
	sleepMu.Lock()
	if asleep {
		asleep = false
		postEmptyEvent()
	}
	sleepMu.Unlock()
}

// sleepUntilEvent waits in GLFW until an OS event arrives, wakeMain is
// called or idleWait passes, and reports whether it waited: not when work
// is already queued or the driver is quitting.
func (d *gLDriver) sleepUntilEvent() bool {
	if !canSleep {
		return false
	}
	sleepMu.Lock()
	asleep = true
	sleepMu.Unlock()
	// Set asleep first, then look for work: a sender either finds asleep
	// set (and posts) or its work is seen here.
	wait := mainQueued.Load() == 0
	select {
	case <-d.done:
		wait = false
	default:
	}
	if wait {
		waitEvents(idleWait)
	}
	sleepMu.Lock()
	asleep = false
	sleepMu.Unlock()
	return wait
}

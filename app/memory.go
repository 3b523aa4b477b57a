package app

import (
	"runtime/debug"
	"sync"
	"time"
)

// startupSettle is how long after the first sign-in the start-up garbage
// (config, font tables parsed by Fyne, the first paints, the sign-in itself)
// is released: by then the window shows the signed-in state.
const startupSettle = 3 * time.Second

var releaseOnce sync.Once

// releaseStartupMemory returns the Go heap's free pages to the OS once,
// after the first sign-in. The runtime's scavenger would keep most of them
// resident: it retains pages up to about the next GC goal (twice the live
// heap by default), which an idle phone is slow to reach.
func releaseStartupMemory() {
	releaseOnce.Do(func() { time.AfterFunc(startupSettle, debug.FreeOSMemory) })
}

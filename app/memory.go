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
// (it retains up to the next GC's goal), and an idle phone allocates little,
// so they would stay resident for hours.
func releaseStartupMemory() {
	releaseOnce.Do(func() { time.AfterFunc(startupSettle, debug.FreeOSMemory) })
}

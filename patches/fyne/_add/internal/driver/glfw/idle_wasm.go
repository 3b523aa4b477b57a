//go:build wasm || test_web_driver

package glfw

// OneCxi patch (patches/fyne): see idle.go. In a browser the loop keeps
// ticking as before.

import (
	"time"
)

const canSleep = false

func waitEvents(time.Duration) {}

func postEmptyEvent() {}

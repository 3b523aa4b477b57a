//go:build !wasm && !test_web_driver

package glfw

// OneCxi patch (patches/fyne): see idle.go.

import (
	"time"

	"github.com/go-gl/glfw/v3.3/glfw"
)

// canSleep: GLFW waits for events and posts empty events on every desktop OS.
const canSleep = true

func waitEvents(timeout time.Duration) { glfw.WaitEventsTimeout(timeout.Seconds()) }

func postEmptyEvent() { glfw.PostEmptyEvent() }

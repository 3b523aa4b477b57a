package animation

// OneCxi patch (patches/fyne): the driver's main loop sleeps only while no
// animation runs (internal/driver/glfw/idle.go).

// Running reports whether any animation is started and not yet finished.
func (r *Runner) Running() bool {
	r.animationMutex.RLock()
	defer r.animationMutex.RUnlock()
	return r.runnerStarted
}

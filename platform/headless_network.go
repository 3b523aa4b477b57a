package platform

import "context"

var _ NetworkWatcher = (*Headless)(nil)

// WatchNetwork calls changed for each SimulateNetworkChange until ctx ends.
// See NetworkWatcher.
func (h *Headless) WatchNetwork(ctx context.Context, changed func()) error {
	id := new(int) // identifies this watch for its removal
	h.mu.Lock()
	if h.watchers == nil {
		h.watchers = map[*int]func(){}
	}
	h.watchers[id] = changed
	h.mu.Unlock()
	<-ctx.Done()
	h.mu.Lock()
	delete(h.watchers, id)
	h.mu.Unlock()
	return nil
}

// SimulateNetworkChange plays the OS reporting a network change: every
// WatchNetwork running gets its changed call, on the caller's goroutine.
func (h *Headless) SimulateNetworkChange() {
	h.mu.Lock()
	fns := make([]func(), 0, len(h.watchers))
	for _, f := range h.watchers {
		fns = append(fns, f)
	}
	h.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// NetworkWatchers is how many WatchNetwork calls are running, so a test can
// wait until its app watches before simulating a change.
func (h *Headless) NetworkWatchers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.watchers)
}

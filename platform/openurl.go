package platform

import "sync"

// maxPendingURLs bounds the links held for a handler that is not set yet
// or is still busy: a click delivers one, so more is a flood, not clicks.
const maxPendingURLs = 64

// openURLs takes the links the OS asks this process to open. It is
// package-wide, not per Platform, because the OS sends them to the process
// (a macOS Apple Event), possibly before any Platform exists.
var openURLs urlQueue

var listenOnce = sync.OnceValue(listenOpenURL)

// ListenOpenURL starts taking the links the OS hands to a running app
// instead of putting them on the command line: on macOS the Get URL Apple
// Event that LaunchServices sends when a tel:, callto: or sip: link is
// clicked (openurl_darwin.go). Call it early, before the GUI toolkit starts
// NSApplication, because the link that launched the app arrives while
// NSApplication finishes launching. It is safe to call more than once.
//
// On Linux and Windows links arrive as arguments: there is nothing to
// listen to and it returns nil. Where this build cannot take them (macOS
// without cgo, Android, iOS) it returns an error wrapping ErrUnsupported.
func ListenOpenURL() error { return listenOnce() }

// OnOpenURL sets the function that receives the links taken since
// ListenOpenURL; a later call replaces it, and nil pauses delivery. Links
// that came before a handler was set are held (up to 64; further ones are
// dropped) and delivered to it in order. h runs on a goroutine of its own,
// one link at a time, in arrival order, never on the OS's thread: it may
// block, but the following links wait for it. A link is whatever the OS
// sent, unchecked: h must validate it.
func OnOpenURL(h func(link string)) { openURLs.setHandler(h) }

// deliverOpenURL is where the OS glue hands a link over. It never waits for
// the handler: on macOS it runs on the main thread, which draws the UI.
func deliverOpenURL(link string) { openURLs.push(link) }

// urlQueue hands links to a handler in arrival order, from one goroutine at
// a time that exists only while there is something to deliver. The lock is
// never held while the handler runs, so the handler may call back in.
type urlQueue struct {
	mu       sync.Mutex
	handler  func(string)
	pending  []string
	draining bool // a drain goroutine runs
	dropped  int  // links refused because pending was full
}

// push queues link, or drops it when maxPendingURLs are already waiting.
func (q *urlQueue) push(link string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) >= maxPendingURLs {
		q.dropped++
		return
	}
	q.pending = append(q.pending, link)
	q.startLocked()
}

// setHandler sets h and delivers what waits to it.
func (q *urlQueue) setHandler(h func(string)) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.handler = h
	q.startLocked()
}

// startLocked starts a drain goroutine when there is work and none runs.
func (q *urlQueue) startLocked() {
	if q.draining || q.handler == nil || len(q.pending) == 0 {
		return
	}
	q.draining = true
	go q.drain()
}

// drain delivers links until none waits or the handler is unset; the
// handler is read afresh for every link, so a replacement takes over at
// the next one.
func (q *urlQueue) drain() {
	for {
		q.mu.Lock()
		h := q.handler
		if h == nil || len(q.pending) == 0 {
			q.draining = false
			q.mu.Unlock()
			return
		}
		link := q.pending[0]
		q.pending[0] = ""
		q.pending = q.pending[1:]
		if len(q.pending) == 0 {
			q.pending = nil // let the backing array go
		}
		q.mu.Unlock()
		h(link)
	}
}

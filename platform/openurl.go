package platform

import "sync"

// maxPendingURLs bounds the links held for a handler that is not set yet
// or is still busy: a click delivers one, so more is a flood, not clicks.
const maxPendingURLs = maxPendingEvents

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

// urlQueue hands links to a handler in arrival order (queue.go).
type urlQueue = eventQueue[string]

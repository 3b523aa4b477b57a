package endpoint

import (
	"sync"
	"sync/atomic"
	"time"
)

// Echo is the far end of an echo DID: it sends each frame straight back,
// re-stamped with its own sequence and timestamp. It is reactive, so it needs
// no goroutine: it runs on the caller's reader goroutine. While a call
// resumes, the old socket's reader and the new one's can both hand it a
// frame for a moment, so the stamping is guarded (uncontended otherwise).
type Echo struct {
	out    AudioSink
	mu     sync.Mutex
	st     Stamper // guarded by mu
	resync atomic.Bool
}

// NewEcho returns an echo sending back into out.
func NewEcho(out AudioSink) *Echo { return &Echo{out: out, st: NewStamper()} }

// SendAudioRaw implements Endpoint: the frame goes straight back.
func (e *Echo) SendAudioRaw(raw []byte) bool {
	now := time.Now()
	e.mu.Lock()
	if e.resync.Swap(false) {
		e.st.Resync(now)
	}
	e.st.Stamp(raw, now)
	e.mu.Unlock()
	return e.out.SendAudioRaw(raw)
}

// DTMF implements Endpoint: an echo ignores digits.
func (e *Echo) DTMF(byte) {}

// Hold implements Endpoint: nothing arrives to echo while held, and the
// first frame after resuming starts a new talk spurt.
func (e *Echo) Hold(on bool) {
	if !on {
		e.resync.Store(true)
	}
}

// Close implements Endpoint.
func (e *Echo) Close() {}

var _ Endpoint = (*Echo)(nil)

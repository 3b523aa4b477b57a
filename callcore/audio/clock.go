package audio

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrStarted is returned by a Device's Start while it is already running.
var ErrStarted = errors.New("audio: device already started")

// errNilStream is returned by Start without a Stream to clock.
var errNilStream = errors.New("audio: Start with a nil Stream")

// clockCatchUp is how many frames a late tick may deliver at once: enough
// to ride out a scheduling hiccup (100 ms) without bursting after a stall.
const clockCatchUp = 5

// frameClock is the software clock of the virtual devices: every 20 ms on
// its own goroutine it fills a captured frame, hands it to the Stream, asks
// the Stream for a frame to play and passes that on. It keeps the long-run
// rate at 50 frames a second even when ticks come late.
type frameClock struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// start begins clocking s. fill produces each captured frame and sink
// receives each played one (after the Stream saw the tick's captured
// frame); either may be nil (silence, discard).
func (c *frameClock) start(ctx context.Context, s Stream, fill, sink func([]int16)) error {
	if s == nil {
		return errNilStream
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		select {
		case <-c.done:
		default:
			return ErrStarted
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	c.cancel, c.done = cancel, make(chan struct{})
	go c.run(ctx, c.done, s, fill, sink)
	return nil
}

func (c *frameClock) run(ctx context.Context, done chan struct{}, s Stream, fill, sink func([]int16)) {
	defer close(done)
	in := make([]int16, FrameSamples)
	out := make([]int16, FrameSamples)
	t := time.NewTicker(FrameSamples * time.Second / SampleRate)
	defer t.Stop()
	begin := time.Now()
	var sent int64
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			due := int64(now.Sub(begin) / (FrameSamples * time.Second / SampleRate))
			if due-sent > clockCatchUp {
				sent = due - clockCatchUp // too far behind: drop, do not burst
			}
			for ; sent < due; sent++ {
				if ctx.Err() != nil {
					return
				}
				if fill != nil {
					fill(in)
				} else {
					clear(in)
				}
				s.Capture(in)
				clear(out)
				s.Playback(out)
				if sink != nil {
					sink(out)
				}
			}
		}
	}
}

// stop ends the clock and waits for its goroutine; it reports whether the
// clock had been started since the last stop.
func (c *frameClock) stop() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		return false
	}
	c.cancel()
	<-c.done
	c.done, c.cancel = nil, nil
	return true
}

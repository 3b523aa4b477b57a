package platform

import "sync"

// maxPendingEvents bounds what an eventQueue holds for a handler that is
// not set yet or is still busy.
const maxPendingEvents = 64

// eventQueue hands what the OS delivers (clicked links, the Java side's
// events) to a handler in arrival order, from one goroutine at a time that
// exists only while there is something to deliver. push never waits for
// the handler, so the OS's thread is never held up; the lock is never held
// while the handler runs, so the handler may call back in. The zero value
// is ready to use.
type eventQueue[T any] struct {
	mu       sync.Mutex
	handler  func(T)
	pending  []T
	draining bool // a drain goroutine runs
	dropped  int  // events refused because pending was full
}

// push queues v and reports whether it was queued: with maxPendingEvents
// already waiting it is dropped (the newest goes, not the oldest, which
// may be what launched the app).
func (q *eventQueue[T]) push(v T) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) >= maxPendingEvents {
		q.dropped++
		return false
	}
	q.pending = append(q.pending, v)
	q.startLocked()
	return true
}

// setHandler sets h and delivers what waits to it; nil pauses delivery.
func (q *eventQueue[T]) setHandler(h func(T)) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.handler = h
	q.startLocked()
}

// startLocked starts a drain goroutine when there is work and none runs.
func (q *eventQueue[T]) startLocked() {
	if q.draining || q.handler == nil || len(q.pending) == 0 {
		return
	}
	q.draining = true
	go q.drain()
}

// drain delivers events until none waits or the handler is unset; the
// handler is read afresh for every event, so a replacement takes over at
// the next one.
func (q *eventQueue[T]) drain() {
	var zero T
	for {
		q.mu.Lock()
		h := q.handler
		if h == nil || len(q.pending) == 0 {
			q.draining = false
			q.mu.Unlock()
			return
		}
		v := q.pending[0]
		q.pending[0] = zero
		q.pending = q.pending[1:]
		if len(q.pending) == 0 {
			q.pending = nil // let the backing array go
		}
		q.mu.Unlock()
		h(v)
	}
}

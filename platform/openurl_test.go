package platform

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linkSink is a handler that records what it was given and counts how many
// calls overlap.
type linkSink struct {
	mu      sync.Mutex
	got     []string
	arrived chan struct{} // one send per link, never blocking the handler

	inside, overlap atomic.Int32
}

func newLinkSink() *linkSink { return &linkSink{arrived: make(chan struct{}, 1024)} }

func (s *linkSink) handle(link string) {
	if s.inside.Add(1) > 1 {
		s.overlap.Add(1)
	}
	defer s.inside.Add(-1)
	s.mu.Lock()
	s.got = append(s.got, link)
	s.mu.Unlock()
	s.arrived <- struct{}{}
}

// wait returns the links once n have arrived, failing after 5 s.
func (s *linkSink) wait(t *testing.T, n int) []string {
	t.Helper()
	for range n {
		select {
		case <-s.arrived:
		case <-time.After(5 * time.Second):
			s.mu.Lock()
			defer s.mu.Unlock()
			require.FailNow(t, "links missing", "want %d, got %d: %q", n, len(s.got), s.got)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// quiet checks that nothing more arrives for a while.
func (s *linkSink) quiet(t *testing.T) {
	t.Helper()
	select {
	case <-s.arrived:
		s.mu.Lock()
		defer s.mu.Unlock()
		assert.Fail(t, "an extra link arrived", "%q", s.got)
	case <-time.After(50 * time.Millisecond):
	}
}

// The link that launched the app comes before the app has set a handler:
// it waits, and the ones after it follow in order.
func TestOpenURLQueuedUntilHandlerSet(t *testing.T) {
	var q urlQueue
	q.push("tel:1")
	q.push("tel:2")
	s := newLinkSink()
	s.quiet(t) // nobody to deliver to yet
	q.setHandler(s.handle)
	q.push("tel:3")
	assert.Equal(t, []string{"tel:1", "tel:2", "tel:3"}, s.wait(t, 3))
	s.quiet(t)
	assert.Zero(t, s.overlap.Load(), "the handler ran twice at once")
}

// The OS's thread never waits for the app: push returns while the handler
// is stuck, and the links behind it are delivered once it returns.
func TestOpenURLPushDoesNotWaitForHandler(t *testing.T) {
	var q urlQueue
	entered, release := make(chan struct{}), make(chan struct{})
	s := newLinkSink()
	q.setHandler(func(link string) {
		if link == "tel:1" {
			close(entered)
			<-release
		}
		s.handle(link)
	})
	q.push("tel:1")
	<-entered // the handler is busy with it
	pushed := make(chan struct{})
	go func() {
		for i := 2; i <= 10; i++ {
			q.push(fmt.Sprintf("tel:%d", i))
		}
		close(pushed)
	}()
	select {
	case <-pushed:
	case <-time.After(5 * time.Second):
		t.Fatal("push waited for a busy handler")
	}
	close(release)
	got := s.wait(t, 10)
	for i, link := range got {
		assert.Equal(t, fmt.Sprintf("tel:%d", i+1), link)
	}
}

// The handler runs without the queue's lock: it may push and replace the
// handler itself without deadlocking, and the replacement takes over at the
// next link.
func TestOpenURLHandlerMayCallBack(t *testing.T) {
	var q urlQueue
	second := newLinkSink()
	first := newLinkSink()
	q.setHandler(func(link string) {
		first.handle(link)
		q.push("tel:again")
		q.setHandler(second.handle)
	})
	q.push("tel:1")
	assert.Equal(t, []string{"tel:1"}, first.wait(t, 1))
	assert.Equal(t, []string{"tel:again"}, second.wait(t, 1))
	first.quiet(t)
}

// A nil handler pauses delivery; links wait for the next one.
func TestOpenURLNilHandlerPauses(t *testing.T) {
	var q urlQueue
	s := newLinkSink()
	q.setHandler(s.handle)
	q.push("tel:1")
	s.wait(t, 1)
	q.setHandler(nil)
	q.push("tel:2")
	s.quiet(t)
	q.setHandler(s.handle)
	assert.Equal(t, []string{"tel:1", "tel:2"}, s.wait(t, 1))
}

// A flood beyond maxPendingURLs drops the newest, not the oldest (the
// launching link is first), and the queue keeps working after.
func TestOpenURLBoundedQueue(t *testing.T) {
	var q urlQueue
	for i := range maxPendingURLs + 5 {
		q.push(fmt.Sprintf("tel:%d", i))
	}
	assert.Equal(t, 5, q.dropped)
	s := newLinkSink()
	q.setHandler(s.handle)
	got := s.wait(t, maxPendingURLs)
	assert.Equal(t, "tel:0", got[0])
	assert.Equal(t, fmt.Sprintf("tel:%d", maxPendingURLs-1), got[maxPendingURLs-1])
	q.push("tel:after")
	assert.Equal(t, "tel:after", s.wait(t, 1)[maxPendingURLs])
}

// Many pushers and a handler set midway: every link arrives exactly once,
// each pusher's in its order, and the handler never runs twice at once
// (run with -race).
func TestOpenURLConcurrent(t *testing.T) {
	var q urlQueue
	const pushers, each = 8, 7 // 56 < maxPendingURLs: none may be dropped
	s := newLinkSink()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for p := range pushers {
		wg.Go(func() {
			<-start
			for i := range each {
				q.push(fmt.Sprintf("tel:%d-%d", p, i))
			}
		})
	}
	wg.Go(func() {
		<-start
		q.setHandler(s.handle)
	})
	close(start)
	wg.Wait()
	got := s.wait(t, pushers*each)
	s.quiet(t)
	next := make(map[int]int)
	for _, link := range got {
		var p, i int
		_, err := fmt.Sscanf(link, "tel:%d-%d", &p, &i)
		require.NoError(t, err, link)
		assert.Equal(t, next[p], i, "pusher %d out of order: %q", p, got)
		next[p] = i + 1
	}
	assert.Len(t, next, pushers)
	assert.Zero(t, s.overlap.Load(), "the handler ran twice at once")
	assert.Zero(t, q.dropped)
}

// The package-wide entry points: what the OS glue delivers reaches the
// handler set with OnOpenURL, a NUL inside a link included (the app's
// checks refuse it, not the glue).
func TestOnOpenURL(t *testing.T) {
	t.Cleanup(func() { OnOpenURL(nil) })
	deliverOpenURL("tel:+14155550100")
	deliverOpenURL("tel:1\x00;evil")
	s := newLinkSink()
	OnOpenURL(s.handle)
	assert.Equal(t, []string{"tel:+14155550100", "tel:1\x00;evil"}, s.wait(t, 2))
}

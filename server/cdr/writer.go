package cdr

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Writer sizes and timings.
const (
	DefaultQueue = 4096 // records waiting for the store
	maxBatch     = 256  // records per Store.Write
	writeTimeout = 10 * time.Second
	logEvery     = 10 * time.Second // drops and failures are logged at most this often
)

// Writer hands records to a Store from one goroutine. Record never blocks:
// with the queue full the record is dropped and counted.
type Writer struct {
	store Store
	log   *slog.Logger
	q     chan Record
	done  chan struct{}

	mu     sync.RWMutex // Record (read) against Close (write)
	closed bool

	written, dropped, failed atomic.Uint64
	lastDropLog, lastFailLog atomic.Int64 // unix nanos
	now                      func() time.Time
}

// WriterStats are a Writer's counters.
type WriterStats struct {
	Written, Dropped, Failed uint64 // failed: records of batches the store refused
}

// NewWriter starts a writer to store with a queue of size records (≤ 0:
// DefaultQueue). Stop it with Close.
func NewWriter(store Store, log *slog.Logger, size int) *Writer {
	if size <= 0 {
		size = DefaultQueue
	}
	w := &Writer{store: store, log: log, q: make(chan Record, size), done: make(chan struct{}), now: time.Now}
	go w.run()
	return w
}

// Record queues r for the store; false if it was dropped (queue full, or
// the writer closed).
func (w *Writer) Record(r Record) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if !w.closed {
		select {
		case w.q <- r:
			return true
		default:
		}
	}
	n := w.dropped.Add(1)
	if w.sample(&w.lastDropLog) {
		w.log.Warn("call detail record dropped: the database is not keeping up", "dropped", n, "queue", cap(w.q))
	}
	return false
}

// sample reports whether a line sampled by last may be logged now.
func (w *Writer) sample(last *atomic.Int64) bool {
	now := w.now().UnixNano()
	prev := last.Load()
	return (prev == 0 || now-prev >= int64(logEvery)) && last.CompareAndSwap(prev, now)
}

// Stats returns the writer's counters.
func (w *Writer) Stats() WriterStats {
	return WriterStats{Written: w.written.Load(), Dropped: w.dropped.Load(), Failed: w.failed.Load()}
}

func (w *Writer) run() {
	defer close(w.done)
	batch := make([]Record, 0, maxBatch)
	for r := range w.q {
		batch = append(batch[:0], r)
	more:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-w.q:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		w.write(batch)
	}
}

func (w *Writer) write(batch []Record) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if err := w.store.Write(ctx, batch); err != nil {
		n := w.failed.Add(uint64(len(batch)))
		if w.sample(&w.lastFailLog) {
			w.log.Error("writing call detail records failed", "records", len(batch), "failedTotal", n, "err", err)
		}
		return
	}
	w.written.Add(uint64(len(batch)))
}

// Close stops taking records and waits, bounded by ctx, until those queued
// are written. It does not close the store.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.q)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

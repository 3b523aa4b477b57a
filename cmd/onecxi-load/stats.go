package main

import (
	"math"
	"sync/atomic"
	"time"
)

// histogram counts durations in fixed 50 µs buckets up to 2 s, lock-free,
// so thousands of receive goroutines can record without contention.
type histogram struct {
	buckets [40000]atomic.Uint64
	over    atomic.Uint64
	count   atomic.Uint64
}

const bucketWidth = 50 * time.Microsecond

func (h *histogram) record(d time.Duration) {
	h.count.Add(1)
	i := int(d / bucketWidth)
	if i < 0 {
		i = 0
	}
	if i >= len(h.buckets) {
		h.over.Add(1)
		return
	}
	h.buckets[i].Add(1)
}

func (h *histogram) reset() {
	for i := range h.buckets {
		h.buckets[i].Store(0)
	}
	h.over.Store(0)
	h.count.Store(0)
}

// quantile returns the upper edge of the bucket holding quantile q, or +Inf
// when it lies beyond the last bucket.
func (h *histogram) quantile(q float64) time.Duration {
	total := h.count.Load()
	if total == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= want {
			return time.Duration(i+1) * bucketWidth
		}
	}
	return time.Duration(math.MaxInt64)
}

package server

import (
	"sync"
	"sync/atomic"
)

// cowMap is a map read without a lock (one atomic load) and copied on
// every change: bridges are looked up per frame and made per call.
type cowMap[K comparable, V any] struct {
	mu sync.Mutex
	m  atomic.Pointer[map[K]V]
}

func (c *cowMap[K, V]) load(id K) (V, bool) {
	if m := c.m.Load(); m != nil {
		v, ok := (*m)[id]
		return v, ok
	}
	var zero V
	return zero, false
}

func (c *cowMap[K, V]) store(id K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.storeLocked(id, v)
}

func (c *cowMap[K, V]) storeLocked(id K, v V) {
	next := make(map[K]V, c.lenLocked()+1)
	if m := c.m.Load(); m != nil {
		for k, x := range *m {
			next[k] = x
		}
	}
	next[id] = v
	c.m.Store(&next)
}

func (c *cowMap[K, V]) delete(id K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.m.Load()
	if m == nil {
		return
	}
	if _, ok := (*m)[id]; !ok {
		return
	}
	next := make(map[K]V, len(*m))
	for k, x := range *m {
		if k != id {
			next[k] = x
		}
	}
	c.m.Store(&next)
}

func (c *cowMap[K, V]) lenLocked() int {
	if m := c.m.Load(); m != nil {
		return len(*m)
	}
	return 0
}

// all is a snapshot of the values.
func (c *cowMap[K, V]) all() []V {
	m := c.m.Load()
	if m == nil {
		return nil
	}
	out := make([]V, 0, len(*m))
	for _, v := range *m {
		out = append(out, v)
	}
	return out
}

// DelayBuckets are the upper bounds, in seconds, of the relay delay
// histogram (Metrics.BridgeDelay): how long an audio frame took from one
// node to another.
var DelayBuckets = [...]float64{0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1}

// delayHist is a histogram written per frame with atomics only.
type delayHist struct {
	counts [len(DelayBuckets) + 1]atomic.Uint64 // the last: above every bound
	sumNs  atomic.Int64
}

func (h *delayHist) observe(ns int64) {
	if ns < 0 {
		ns = 0 // clocks of two hosts disagree
	}
	h.sumNs.Add(ns)
	s := float64(ns) / 1e9
	for i, ub := range DelayBuckets {
		if s <= ub {
			h.counts[i].Add(1)
			return
		}
	}
	h.counts[len(DelayBuckets)].Add(1)
}

// Histogram is a snapshot of a histogram: Counts[i] counts observations
// at most Bounds[i] (not cumulative), the last entry those above them all.
type Histogram struct {
	Bounds     []float64
	Counts     []uint64
	SumSeconds float64
}

func (h *delayHist) snapshot() Histogram {
	out := Histogram{Bounds: DelayBuckets[:], Counts: make([]uint64, len(h.counts))}
	for i := range h.counts {
		out.Counts[i] = h.counts[i].Load()
	}
	out.SumSeconds = float64(h.sumNs.Load()) / 1e9
	return out
}

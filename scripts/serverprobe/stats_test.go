package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPercentileIsTheNearestRank(t *testing.T) {
	t.Parallel()
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100) // 1..100 ms
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, c := range []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 51, 3 * time.Millisecond},
		{ms(1, 2, 3, 4), 100, 4 * time.Millisecond},
		{ms(1, 2, 3, 4), 0, 1 * time.Millisecond},
		{hundred, 50, 50 * time.Millisecond},
		{hundred, 90, 90 * time.Millisecond},
		{hundred, 99, 99 * time.Millisecond},
		{hundred[:60], 99, 60 * time.Millisecond}, // fewer than 100: p99 is the largest
		{hundred[:60], 90, 54 * time.Millisecond},
	} {
		assert.Equal(t, c.want, percentile(c.sorted, c.p), "p%v of %v", c.p, c.sorted)
	}
}

func TestSummarizeSortsACopy(t *testing.T) {
	t.Parallel()
	ds := []time.Duration{5 * time.Millisecond, time.Millisecond, 3 * time.Millisecond}
	s := summarize(ds)
	assert.Equal(t, summary{n: 3, min: time.Millisecond, p50: 3 * time.Millisecond, p90: 5 * time.Millisecond,
		p99: 5 * time.Millisecond, max: 5 * time.Millisecond, avg: 3 * time.Millisecond}, s)
	assert.Equal(t, 5*time.Millisecond, ds[0], "the input is left as it was")
	assert.Equal(t, "p50 3.0 ms, p90 5.0 ms, p99 5.0 ms, max 5.0 ms (min 1.0 ms, mean 3.0 ms, n=3)", s.String())
	assert.Equal(t, summary{}, summarize(nil))
}

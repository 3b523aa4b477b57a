package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted, an
// ascending slice, by the nearest-rank method: the smallest value with at
// least p% of the values at or below it. It is always one of the values;
// with fewer than 100 values p99 is the largest. Empty: 0.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// summary is a distribution of durations.
type summary struct {
	n                            int
	min, p50, p90, p99, max, avg time.Duration
}

func summarize(ds []time.Duration) summary {
	if len(ds) == 0 {
		return summary{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return summary{
		n: len(s), min: s[0], max: s[len(s)-1], avg: sum / time.Duration(len(s)),
		p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99),
	}
}

func (s summary) String() string {
	return fmt.Sprintf("p50 %s, p90 %s, p99 %s, max %s (min %s, mean %s, n=%d)",
		ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), ms(s.min), ms(s.avg), s.n)
}

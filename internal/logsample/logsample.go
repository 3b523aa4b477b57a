// Package logsample keeps a repeated failure from flooding the log: a
// Sampler writes the first line of a run and then at most one per period,
// saying how many it left out.
package logsample

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// Sampler samples one kind of log line. Its zero value is not usable:
// make it with New. Safe for concurrent use, without a lock.
type Sampler struct {
	every   time.Duration
	last    atomic.Int64 // Unix ns of the last line written
	skipped atomic.Int64
}

// New returns a Sampler writing at most one line per every.
func New(every time.Duration) *Sampler { return &Sampler{every: every} }

// Warn writes msg as a warning unless a line was written less than the
// period ago; a line written after some were left out says how many
// ("unlogged").
func (s *Sampler) Warn(l *slog.Logger, msg string, args ...any) {
	now := time.Now().UnixNano()
	prev := s.last.Load()
	if prev != 0 && now-prev < int64(s.every) || !s.last.CompareAndSwap(prev, now) {
		s.skipped.Add(1)
		return
	}
	if n := s.skipped.Swap(0); n > 0 {
		args = append(args, "unlogged", n)
	}
	l.Warn(msg, args...)
}

package main

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// timeline collects what happened, each line with its time from the
// client's start, like the README's drain block, and prints it in time
// order once the scenario is over (flush): the server's log lines, marked
// "server:", are read from its stderr a little after they were written, so
// they come in late.
type timeline struct {
	mu      sync.Mutex
	out     io.Writer
	start   time.Time
	entries []entry
	last    time.Time // of the latest entry the client made: notes go with it
}

type entry struct {
	key  time.Time // the order
	text string
}

func newTimeline(out io.Writer) *timeline { return &timeline{out: out, start: time.Now()} }

// secs is t as seconds from the start.
func (t *timeline) secs(at time.Time) float64 { return at.Sub(t.start).Seconds() }

// at adds a line for the moment when.
func (t *timeline) at(when time.Time, format string, args ...any) {
	t.add(when, true, fmt.Sprintf("%8.3fs  %s", t.secs(when), fmt.Sprintf(format, args...)))
}

// span adds a line for the interval from–to, in order of its end.
func (t *timeline) span(from, to time.Time, format string, args ...any) {
	t.add(to, true, fmt.Sprintf("%9s  %s", fmt.Sprintf("%.1f–%.1fs", t.secs(from), t.secs(to)), fmt.Sprintf(format, args...)))
}

// note adds a line without a time, after the client's latest line.
func (t *timeline) note(format string, args ...any) {
	t.mu.Lock()
	last := t.last
	t.mu.Unlock()
	t.add(last, true, "           "+fmt.Sprintf(format, args...))
}

// server adds a server log line.
func (t *timeline) server(l logLine) {
	t.add(l.at, false, fmt.Sprintf("%8.3fs  server: %s", t.secs(l.at), l))
}

func (t *timeline) add(key time.Time, client bool, text string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.entries = append(t.entries, entry{key, text})
	if client {
		t.last = key
	}
}

// flush prints the lines collected so far in time order (lines of the same
// time in the order they came) and forgets them.
func (t *timeline) flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	sort.SliceStable(t.entries, func(i, j int) bool { return t.entries[i].key.Before(t.entries[j].key) })
	for _, e := range t.entries {
		fmt.Fprintln(t.out, e.text)
	}
	t.entries = nil
}

// ms renders a duration in milliseconds, to a tenth.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

package sipgw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a time the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestSampler(every time.Duration) (*sampler, *fakeClock) {
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := newSampler(every)
	s.now = clock.now
	return s, clock
}

// The first line of a source and reason is written, the next ones in its
// period are counted; the first after the period carries the count; a
// count nothing followed is reported when the period ends.
func TestSamplerWritesTheFirstThenOnePerPeriodWithCounts(t *testing.T) {
	s, clock := newTestSampler(10 * time.Second)
	var reported []int
	report := func(n int) { reported = append(reported, n) }
	type step struct {
		advance           time.Duration
		source, reason    string
		write             bool
		suppressed        int
		flush             bool
		wantReportedAfter []int
	}
	steps := []step{
		{0, "a", "r", true, 0, false, nil},
		{time.Second, "a", "r", false, 0, false, nil},
		{time.Second, "a", "r", false, 0, false, nil},
		{0, "b", "r", true, 0, false, nil},  // another source
		{0, "a", "r2", true, 0, false, nil}, // another reason
		{9 * time.Second, "a", "r", true, 2, false, nil},
		{time.Second, "a", "r", false, 0, false, nil},
		{0, "", "", false, 0, true, nil}, // the period is not over
		{10 * time.Second, "", "", false, 0, true, []int{1}},
		{0, "", "", false, 0, true, []int{1}}, // reported once
	}
	for i, st := range steps {
		clock.add(st.advance)
		if st.flush {
			s.flush(false)
			assert.Equal(t, st.wantReportedAfter, reported, "step %d", i)
			continue
		}
		w, n := s.sample(st.source, st.reason, report)
		assert.Equal(t, st.write, w, "step %d", i)
		assert.Equal(t, st.suppressed, n, "step %d", i)
	}
	// Quiet keys are forgotten.
	clock.add(time.Minute)
	s.flush(false)
	s.flush(false)
	s.mu.Lock()
	assert.Empty(t, s.keys)
	s.mu.Unlock()
}

// A flood from many sources (spoofed ones, say) shares one key per reason
// past maxSampleKeys, so it still writes a handful of lines.
func TestSamplerBoundsItsKeys(t *testing.T) {
	s, _ := newTestSampler(time.Minute)
	written := 0
	for i := 0; i < 10*maxSampleKeys; i++ {
		if w, _ := s.sample(fmt.Sprintf("10.0.%d.%d", i/256, i%256), "flood", func(int) {}); w {
			written++
		}
	}
	assert.Equal(t, maxSampleKeys+1, written)
	s.mu.Lock()
	assert.LessOrEqual(t, len(s.keys), maxSampleKeys+1)
	s.mu.Unlock()
}

// Close reports what is still counted.
func TestSamplerFinalFlushReportsEverything(t *testing.T) {
	s, _ := newTestSampler(time.Hour)
	var got []int
	s.sample("a", "r", nil)
	for i := 0; i < 5; i++ {
		s.sample("a", "r", func(n int) { got = append(got, n) })
	}
	s.flush(false)
	assert.Empty(t, got)
	s.flush(true)
	assert.Equal(t, []int{5}, got)
}

// sipgo logs a packet it cannot parse whole, at ERROR (the carrier's 33–38
// KB lines); through sipgoLog it is one short line, and a flood of them a
// couple of lines.
func TestSipgoLogLinesAreShortAndSampled(t *testing.T) {
	buf := &logBuffer{}
	s, clock := newTestSampler(10 * time.Second)
	log := slog.New(&sipgoLog{next: slog.NewTextHandler(buf, nil), sampler: s}).With("caller", "Transport<UDP>")
	packet := "INVITE sip:5000@gw SIP/2.0\r\n" + strings.Repeat("X-Junk: "+strings.Repeat("z", 60)+"\r\n", 500)
	err := errors.New("field name with no value in header: " + fmt.Sprintf("%q", packet))
	for i := 0; i < 2000; i++ {
		log.Error("failed to parse", "data", packet, "error", err)
	}
	lines := buf.lines("failed to parse")
	require.Len(t, lines, 1)
	assert.Less(t, len(lines[0]), 400, lines[0])
	assert.Contains(t, lines[0], `level=ERROR`)
	assert.Contains(t, lines[0], `data="\"INVITE sip:5000@\"… (`)
	assert.NotContains(t, lines[0], "zzzzzzzzzzzzzzzzzzzz")
	clock.add(11 * time.Second)
	s.flush(false)
	lines = buf.lines("failed to parse")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[1], "suppressed=1999")

	// Other lines: long texts cut, short ones kept, below WARN not sampled.
	log.Debug("sent", "req", strings.Repeat("R", 1000), "raddr", "127.0.0.1:5060", "n", 3)
	log.Debug("sent", "req", "short")
	log.Warn("group", slog.Group("g", "data", []byte(strings.Repeat("b", 100)), "x", fmt.Stringer(stringer(strings.Repeat("s", 100)))))
	for _, l := range strings.Split(buf.String(), "\n") {
		assert.Less(t, len(l), 400, l)
	}
	assert.Len(t, buf.lines(`msg=sent`), 0, "below the handler's level")
	assert.Len(t, buf.lines(`msg=group`, `g.data="\"bbbbbbbbbbbbbbbb\"… (100 bytes)"`, `g.x="\"ssssssssssssssss\"… (100 bytes)"`), 1)
	assert.True(t, (&sipgoLog{next: slog.NewTextHandler(buf, nil), sampler: s}).Enabled(context.Background(), slog.LevelInfo))
}

type stringer string

func (s stringer) String() string { return string(s) }

package cdr_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server/cdr"
	"github.com/onecxi/phone/server/cdr/cdrtest"
)

func TestMemory(t *testing.T) {
	t.Parallel()
	cdrtest.Run(t, func(*testing.T) cdr.Store { return cdr.NewMemory() })
}

// blocked is a store whose writes wait until released, or fail.
type blocked struct {
	cdr.Memory
	release chan struct{}
	fail    bool
}

func (b *blocked) Write(ctx context.Context, recs []cdr.Record) error {
	<-b.release
	if b.fail {
		return errors.New("database down")
	}
	return b.Memory.Write(ctx, recs)
}

func TestWriterNeverBlocksAndCountsDrops(t *testing.T) {
	t.Parallel()
	st := &blocked{release: make(chan struct{})}
	w := cdr.NewWriter(st, slog.New(slog.NewTextHandler(io.Discard, nil)), 4)
	start := time.Now()
	accepted := 0
	for i := range 100 {
		if w.Record(cdr.Record{CallID: string(rune('a' + i%26))}) {
			accepted++
		}
	}
	assert.Less(t, time.Since(start), time.Second, "Record does not wait for the store")
	assert.LessOrEqual(t, accepted, 9, "the queue (4), twice at most: one batch taken, then waiting")
	assert.Equal(t, uint64(100-accepted), w.Stats().Dropped)
	close(st.release)
	require.NoError(t, w.Close(context.Background()))
	got, _ := st.List(context.Background(), cdr.Query{Limit: 1000})
	assert.Len(t, got, accepted, "what was queued is written at Close")
	assert.Equal(t, uint64(accepted), w.Stats().Written)
	assert.False(t, w.Record(cdr.Record{}), "closed: dropped, no panic")
}

func TestWriterLogsDropsSampled(t *testing.T) {
	t.Parallel()
	st := &blocked{release: make(chan struct{})}
	var logged strings.Builder
	var mu sync.Mutex
	w := cdr.NewWriter(st, slog.New(slog.NewTextHandler(lockedWriter{&mu, &logged}, nil)), 1)
	for range 1000 {
		w.Record(cdr.Record{})
	}
	close(st.release)
	require.NoError(t, w.Close(context.Background()))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, strings.Count(logged.String(), "call detail record dropped"), "one line for a burst of drops")
	assert.Greater(t, w.Stats().Dropped, uint64(900))
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestWriterCountsFailures(t *testing.T) {
	t.Parallel()
	st := &blocked{release: make(chan struct{}), fail: true}
	close(st.release)
	w := cdr.NewWriter(st, slog.New(slog.NewTextHandler(io.Discard, nil)), 0)
	require.True(t, w.Record(cdr.Record{CallID: "x"}))
	require.NoError(t, w.Close(context.Background()))
	assert.Equal(t, uint64(1), w.Stats().Failed)
}

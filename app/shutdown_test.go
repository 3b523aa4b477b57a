package app

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestStopWithin(t *testing.T) {
	t.Run("a stop that finishes", func(t *testing.T) {
		var logs bytes.Buffer
		ran := false
		assert.True(t, stopWithin(slog.New(slog.NewTextHandler(&logs, nil)), time.Minute, func() { ran = true }))
		assert.True(t, ran)
		assert.Empty(t, logs.String())
	})
	t.Run("a stop that hangs", func(t *testing.T) {
		var logs bytes.Buffer
		release := make(chan struct{})
		defer close(release)
		ok := stopWithin(slog.New(slog.NewTextHandler(&logs, nil)), 50*time.Millisecond, func() { <-release })
		assert.False(t, ok, "the caller is told to exit anyway")
		assert.Contains(t, logs.String(), "shutdown did not finish")
		assert.Contains(t, logs.String(), "app.TestStopWithin", "the hung goroutine's stack is in the log")
	})
}

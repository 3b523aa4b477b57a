//go:build !android && !ios

package platform

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The desktop watches this machine's real addresses: it starts, and it
// stops with its context. (What counts as a change is TestWatchAddrs's.)
func TestDesktopWatchesTheNetwork(t *testing.T) {
	w, ok := New().(NetworkWatcher)
	require.True(t, ok, "the desktop platform is a NetworkWatcher")
	_, err := systemAddrs()
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.WatchNetwork(ctx, func() {}) }()
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("WatchNetwork did not return when its context ended")
	}
}

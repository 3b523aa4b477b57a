package screentest

import (
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDoRunsOnTheUIGoroutineInOrder(t *testing.T) {
	ui := New(t)
	require.Same(t, ui.App(), fyne.CurrentApp())
	label := Get(ui, func() *widget.Label { return widget.NewLabel("") })

	// Do runs f on the UI goroutine after what was queued before it, not on
	// the caller's goroutine (the race detector checks order is touched on
	// one goroutine).
	var order []string
	fyne.Do(func() { order = append(order, "queued") })
	ui.Do(func() { order = append(order, "Do") })
	assert.Equal(t, []string{"queued", "Do"}, Get(ui, func() []string { return order }))

	// Work that fyne.Do queues from elsewhere runs on that same goroutine:
	// not while a Do is running, but after it.
	ui.Do(func() {
		queued := false
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); fyne.Do(func() { queued = true }) }()
		wg.Wait() // fyne.Do has returned: its function is queued
		assert.False(t, queued, "not run while this Do runs")
		fyne.Do(func() { assert.True(t, queued, "run in order, on the UI goroutine") })
	})

	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() { // background goroutines, as the SDK's callbacks are
			defer wg.Done()
			for range 50 {
				fyne.Do(func() { label.SetText(label.Text + "x") })
			}
			fyne.DoAndWait(func() { _ = i })
		}()
	}
	wg.Wait()
	ui.Flush()
	assert.Len(t, Get(ui, func() string { return label.Text }), 200)
	assert.True(t, ui.Eventually(func() bool { return label.Text != "" }, 0))
}

// fyne.Do on the UI goroutine queues, as the real driver does: its function
// runs after the current one returns, in order, never inline.
func TestFyneDoOnTheUIGoroutineQueues(t *testing.T) {
	ui := New(t)
	var order []string // touched on the UI goroutine only
	ui.Do(func() {
		fyne.Do(func() {
			order = append(order, "first")
			fyne.Do(func() { order = append(order, "queued by first") })
		})
		fyne.Do(func() { order = append(order, "second") })
		order = append(order, "current")
	})
	ui.Flush()
	assert.Equal(t, []string{"current", "first", "second", "queued by first"},
		Get(ui, func() []string { return order }))

	// A widget callback run inside Do is on the UI goroutine too.
	btn := Get(ui, func() *widget.Button {
		return widget.NewButton("", func() { fyne.Do(func() { order = append(order, "after the tap") }) })
	})
	ui.Do(func() {
		btn.OnTapped()
		assert.Len(t, order, 4, "queued, not run inline")
	})
	ui.Flush()
	assert.Equal(t, "after the tap", Get(ui, func() string { return order[len(order)-1] }))
}

func TestEventuallyAndNeverPollFromTheCaller(t *testing.T) {
	u := New(t)
	var n int // touched only on the UI goroutine
	u.Do(func() { n = 1 })
	assert.True(t, u.Eventually(func() bool { return n == 1 }, time.Second))
	assert.True(t, u.Never(func() bool { return n != 1 }, 50*time.Millisecond), "n stays 1")
	u.Do(func() { n = 2 })
	assert.False(t, u.Never(func() bool { return n == 2 }, time.Second), "Never sees a condition that holds")
	assert.False(t, u.Eventually(func() bool { return n == 3 }, 30*time.Millisecond))
}

package screentest

import (
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDoRunsOnTheUIGoroutineInOrder(t *testing.T) {
	ui := New(t)
	require.Same(t, ui.App(), fyne.CurrentApp())
	label := Get(ui, func() *widget.Label { return widget.NewLabel("") })
	ui.Do(func() { assert.True(t, ui.onLoop()) })
	assert.False(t, ui.onLoop())

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

	ui.Do(func() {
		ran := false
		fyne.DoAndWait(func() { ran = true }) // from the UI goroutine: runs at once
		assert.True(t, ran)
	})
	assert.True(t, ui.Eventually(func() bool { return label.Text != "" }, 0))
}

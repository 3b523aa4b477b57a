package screens

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"github.com/stretchr/testify/assert"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/screens/screentest"
)

var (
	goodSample = callcore.CallQuality{
		At: time.Unix(1, 0), RTT: 42 * time.Millisecond, Jitter: 3100 * time.Microsecond, MOS: 4.38,
		Level: callcore.QualityGood,
	}
	poorSample = callcore.CallQuality{
		At: time.Unix(2, 0), RTT: 612 * time.Millisecond, Jitter: 35 * time.Millisecond, Loss: 7.5, MOS: 3.21,
		Warnings: []callcore.QualityWarning{callcore.WarningHighRTT, callcore.WarningHighJitter,
			callcore.WarningHighLoss, callcore.WarningLowMOS},
		Level: callcore.QualityPoor,
	}
)

// indicatorState is what the indicator shows, read on the UI goroutine.
type indicatorState struct {
	visible, details, warning   bool
	label, detailText, warnText string
	lit                         int // bars not grey
}

func readIndicator(q *QualityIndicator) indicatorState {
	st := indicatorState{
		visible: q.Visible(), details: q.Details.Visible(), warning: q.Warning.Visible(),
		label: q.Label.Text, detailText: q.Details.Text, warnText: q.Warning.Text,
	}
	for _, b := range q.Bars {
		if b.FillColor != theme.Color(theme.ColorNameDisabled) {
			st.lit++
		}
	}
	return st
}

func TestQualityIndicator(t *testing.T) {
	ui := screentest.New(t)
	c := screentest.Get(ui, func() *InCall { return NewInCall(nil) })
	q := c.Quality
	state := func() indicatorState { return screentest.Get(ui, func() indicatorState { return readIndicator(q) }) }

	ui.Do(func() { c.Begin("90000", callcore.CallTypeInbound) })
	assert.False(t, state().visible, "hidden until the call is answered")
	ui.Do(func() { c.SetQuality(goodSample) })
	assert.False(t, state().visible, "a sample before the answer is not shown")

	ui.Do(c.Started)
	st := state()
	assert.True(t, st.visible)
	assert.Equal(t, "Measuring…", st.label)
	assert.Zero(t, st.lit)

	ui.Do(func() { c.SetQuality(goodSample) })
	st = state()
	assert.Equal(t, "Good", st.label)
	assert.Equal(t, 3, st.lit)
	assert.False(t, st.details, "details only on hover or tap")
	assert.False(t, st.warning)
	assert.Equal(t, "RTT 42 ms · jitter 3.1 ms · loss 0.0 % · MOS 4.38", st.detailText)

	// Hover shows the details; leaving hides them.
	ui.Do(func() { q.MouseIn(&desktop.MouseEvent{}) })
	assert.True(t, state().details)
	ui.Do(q.MouseOut)
	assert.False(t, state().details)

	// A tap keeps them open, across samples and the pointer leaving.
	ui.Do(func() { test.Tap(q) })
	assert.True(t, state().details)
	ui.Do(func() { c.SetQuality(poorSample) })
	ui.Do(q.MouseOut)
	st = state()
	assert.True(t, st.details)
	assert.Equal(t, "Poor", st.label)
	assert.Equal(t, 1, st.lit)
	assert.Equal(t, "RTT 612 ms · jitter 35 ms · loss 7.5 % · MOS 3.21", st.detailText)
	assert.True(t, st.warning, "an active warning is shown without a tap")
	assert.Equal(t, "High latency (RTT 612 ms) · Unsteady network (jitter 35 ms) · Audio lost (7.5 %) · Poor call quality (MOS 3.2)",
		st.warnText)
	ui.Do(func() { test.Tap(q) })
	assert.False(t, state().details, "a second tap closes them")

	fair := goodSample
	fair.Level, fair.Warnings = callcore.QualityFair, []callcore.QualityWarning{callcore.WarningHighRTT}
	fair.RTT = 450 * time.Millisecond
	ui.Do(func() { c.SetQuality(fair) })
	st = state()
	assert.Equal(t, "Fair", st.label)
	assert.Equal(t, 2, st.lit)
	assert.Equal(t, "High latency (RTT 450 ms)", st.warnText)

	ui.Do(func() { c.SetQuality(goodSample) })
	st = state()
	assert.False(t, st.warning, "a cleared warning disappears")
	assert.Equal(t, 3, st.lit)

	ui.Do(c.Reset)
	assert.False(t, state().visible)
	ui.Do(func() { c.SetQuality(goodSample) })
	assert.False(t, state().visible, "a late sample after the call does not bring it back")
}

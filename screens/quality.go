package screens

import (
	"fmt"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onecxi/phone/callcore"
)

// Signal bars of the quality indicator.
const (
	qualityBars    = 3
	qualityBarW    = 4
	qualityBarGap  = 2
	qualityBarMinH = 5 // the shortest bar; each next is this much taller
)

// QualityIndicator is the in-call screen's call quality: signal bars and a
// word (Good, Fair, Poor) from the SDK's quality samples. Hovering over it,
// or tapping it, shows the measurements (a second tap hides them again);
// an active warning is shown in words below it. Hidden until the call is
// answered.
type QualityIndicator struct {
	widget.BaseWidget

	Bars    [qualityBars]*canvas.Rectangle
	Label   *widget.Label
	Details *widget.Label // RTT, jitter, loss and MOS: on hover or after a tap
	Warning *widget.Label // the active warnings; hidden when there are none

	q       callcore.CallQuality
	pinned  bool // tapped open
	hovered bool
	content *fyne.Container
}

var (
	_ fyne.Tappable     = (*QualityIndicator)(nil)
	_ desktop.Hoverable = (*QualityIndicator)(nil)
)

// NewQualityIndicator returns a hidden indicator.
func NewQualityIndicator() *QualityIndicator {
	q := &QualityIndicator{}
	bars := make([]fyne.CanvasObject, qualityBars)
	for i := range q.Bars {
		q.Bars[i] = canvas.NewRectangle(color.Transparent)
		q.Bars[i].CornerRadius = 1
		bars[i] = q.Bars[i]
	}
	q.Label = widget.NewLabel("")
	q.Details = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Monospace: true})
	q.Details.SizeName = theme.SizeNameCaptionText
	q.Details.Wrapping = fyne.TextWrapWord
	q.Warning = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	q.Warning.Importance = widget.WarningImportance
	q.Warning.Wrapping = fyne.TextWrapWord
	q.content = container.NewVBox(
		container.NewCenter(container.NewHBox(
			container.NewCenter(container.New(barsLayout{}, bars...)), q.Label)),
		q.Details, q.Warning)
	q.ExtendBaseWidget(q)
	q.Reset()
	return q
}

// CreateRenderer implements fyne.Widget.
func (q *QualityIndicator) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(q.content)
}

// Reset hides the indicator and forgets the last sample (a call ended or
// is being placed).
func (q *QualityIndicator) Reset() {
	q.q, q.pinned, q.hovered = callcore.CallQuality{}, false, false
	q.apply()
	q.Hide()
}

// Start shows the indicator for a call just answered, waiting for its first
// sample.
func (q *QualityIndicator) Start() {
	q.q, q.pinned, q.hovered = callcore.CallQuality{}, false, false
	q.apply()
	q.Show()
}

// Set shows a quality sample.
func (q *QualityIndicator) Set(s callcore.CallQuality) {
	q.q = s
	q.apply()
	q.Show()
}

// Tapped shows the details, or hides them again.
func (q *QualityIndicator) Tapped(*fyne.PointEvent) {
	q.pinned = !q.pinned
	q.apply()
}

// MouseIn shows the details while the pointer is over the indicator.
func (q *QualityIndicator) MouseIn(*desktop.MouseEvent) { q.hovered = true; q.apply() }

// MouseMoved implements desktop.Hoverable.
func (q *QualityIndicator) MouseMoved(*desktop.MouseEvent) {}

// MouseOut hides the details again unless they were tapped open.
func (q *QualityIndicator) MouseOut() { q.hovered = false; q.apply() }

// Refresh recolours the bars (the theme may have changed) and redraws.
func (q *QualityIndicator) Refresh() {
	q.colourBars()
	q.BaseWidget.Refresh()
}

// apply shows q.q on the widgets.
func (q *QualityIndicator) apply() {
	q.colourBars()
	q.Label.SetText(QualityLevelText(q.q.Level))
	q.Details.SetText(QualityDetails(q.q))
	if q.pinned || q.hovered {
		q.Details.Show()
	} else {
		q.Details.Hide()
	}
	warn := QualityWarningsText(q.q)
	q.Warning.SetText(warn)
	if warn == "" {
		q.Warning.Hide()
	} else {
		q.Warning.Show()
	}
}

// colourBars lights as many bars as the level earns, in its colour: three
// green, two orange, one red; none before the first sample.
func (q *QualityIndicator) colourBars() {
	lit, on := 0, theme.ColorNameDisabled
	switch q.q.Level {
	case callcore.QualityGood:
		lit, on = 3, theme.ColorNameSuccess
	case callcore.QualityFair:
		lit, on = 2, theme.ColorNameWarning
	case callcore.QualityPoor:
		lit, on = 1, theme.ColorNameError
	}
	for i, b := range q.Bars {
		name := theme.ColorNameDisabled
		if i < lit {
			name = on
		}
		b.FillColor = theme.Color(name)
		b.Refresh()
	}
}

// QualityLevelText is the indicator's word for a level.
func QualityLevelText(l callcore.QualityLevel) string {
	switch l {
	case callcore.QualityGood:
		return "Good"
	case callcore.QualityFair:
		return "Fair"
	case callcore.QualityPoor:
		return "Poor"
	}
	return "Measuring…"
}

// QualityDetails is the indicator's details line: "RTT 42 ms · jitter
// 3.1 ms · loss 0.0 % · MOS 4.38".
func QualityDetails(q callcore.CallQuality) string {
	if q.At.IsZero() {
		return "Measuring call quality…"
	}
	return fmt.Sprintf("RTT %s · jitter %s · loss %.1f %% · MOS %.2f",
		millis(q.RTT), millis(q.Jitter), q.Loss, q.MOS)
}

// QualityWarningsText says what the active warnings mean, "" for none.
func QualityWarningsText(q callcore.CallQuality) string {
	var parts []string
	for _, w := range q.Warnings {
		switch w {
		case callcore.WarningHighRTT:
			parts = append(parts, "High latency (RTT "+millis(q.RTT)+")")
		case callcore.WarningHighJitter:
			parts = append(parts, "Unsteady network (jitter "+millis(q.Jitter)+")")
		case callcore.WarningHighLoss:
			parts = append(parts, fmt.Sprintf("Audio lost (%.1f %%)", q.Loss))
		case callcore.WarningLowMOS:
			parts = append(parts, fmt.Sprintf("Poor call quality (MOS %.1f)", q.MOS))
		default:
			parts = append(parts, string(w))
		}
	}
	return strings.Join(parts, " · ")
}

// millis is d in whole milliseconds, "42 ms" (tenths below 10 ms).
func millis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

// barsLayout stands the signal bars side by side on a common baseline,
// each taller than the last.
type barsLayout struct{}

func (barsLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	n := float32(len(objs))
	return fyne.NewSize(n*qualityBarW+(n-1)*qualityBarGap, n*qualityBarMinH)
}

func (barsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for i, o := range objs {
		h := float32(i+1) * qualityBarMinH
		o.Resize(fyne.NewSize(qualityBarW, h))
		o.Move(fyne.NewPos(float32(i)*(qualityBarW+qualityBarGap), size.Height-h))
	}
}

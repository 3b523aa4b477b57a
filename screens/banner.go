package screens

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Banner is a strip in a strong colour with an icon and a line of text
// that wraps: for a state the user must not miss while it lasts (the call
// reconnecting, the phone offline). A label in a warning colour on the
// window's background is easy to overlook; a filled strip is not. Hidden
// until Set shows it.
type Banner struct {
	widget.BaseWidget

	Message *widget.RichText

	fill    fyne.ThemeColorName // the strip's colour
	text    *widget.TextSegment
	bg      *canvas.Rectangle
	content fyne.CanvasObject
}

// NewBanner returns a hidden banner in the theme's colour fill (for
// example theme.ColorNameWarning) with text and icon in on, its contrast
// colour (theme.ColorNameForegroundOnWarning).
func NewBanner(icon fyne.Resource, fill, on fyne.ThemeColorName) *Banner {
	b := &Banner{fill: fill}
	b.bg = canvas.NewRectangle(color.Transparent)
	b.bg.CornerRadius = theme.InputRadiusSize()
	// A text segment takes a colour of its own; a Label would need a theme
	// override, which costs Fyne a parse of its fonts.
	b.text = &widget.TextSegment{Style: widget.RichTextStyle{
		ColorName: on, TextStyle: fyne.TextStyle{Bold: true}, Inline: true, SizeName: theme.SizeNameText,
	}}
	b.Message = widget.NewRichText(b.text)
	b.Message.Wrapping = fyne.TextWrapWord
	tinted := theme.NewThemedResource(icon)
	tinted.ColorName = on
	b.content = container.NewStack(b.bg, container.NewPadded(
		container.NewBorder(nil, nil, container.NewCenter(widget.NewIcon(tinted)), nil, b.Message)))
	b.ExtendBaseWidget(b)
	b.Hide()
	return b
}

// CreateRenderer implements fyne.Widget.
func (b *Banner) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(b.content)
}

// Text is what the banner says ("" when hidden).
func (b *Banner) Text() string { return b.text.Text }

// Set shows the banner with text, or hides it for "", and reports whether
// it appeared or disappeared: then the screen holding it must be laid out
// again, from its root (the desktop driver notices by itself at its next
// frame; Fyne's test driver, which tests and screenshots use, does not).
func (b *Banner) Set(text string) (shownOrHidden bool) {
	was := b.Visible()
	if text == b.text.Text && was == (text != "") {
		return false // callers set it on every status change
	}
	b.text.Text = text
	if text == "" {
		b.Hide()
	} else {
		b.Show()
		b.Refresh()
	}
	return was != b.Visible()
}

// Refresh recolours the strip (the theme may have changed) and redraws.
func (b *Banner) Refresh() {
	b.bg.FillColor = theme.Color(b.fill)
	b.bg.Refresh()
	b.Message.Refresh()
	b.BaseWidget.Refresh()
}

package screens

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// callTimeout bounds placing a call (not the call itself).
const callTimeout = 20 * time.Second

// Keypad is a 12-key phone keypad.
type Keypad struct {
	Keys    map[string]*widget.Button
	content *fyne.Container
}

// NewKeypad calls pressed with the digit of each tapped key.
func NewKeypad(pressed func(digit string)) *Keypad {
	k := &Keypad{Keys: map[string]*widget.Button{}, content: container.NewGridWithColumns(3)}
	for _, d := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"} {
		b := widget.NewButton("", func() { pressed(d) })
		k.Keys[d] = b
		k.content.Add(container.NewStack(b, newKeyText(d)))
	}
	return k
}

// Content is the keypad's root object.
func (k *Keypad) Content() fyne.CanvasObject { return k.content }

// keyText is a key's digit, drawn over its (blank) button at keyTextSize.
// Not a theme override for the size: Fyne parses its fonts again for every
// override scope (~7 MiB of heap for the keypad's bold digits).
type keyText struct {
	widget.BaseWidget
	text *canvas.Text
}

func newKeyText(digit string) *keyText {
	t := canvas.NewText(digit, nil)
	t.Alignment = fyne.TextAlignCenter
	t.TextSize = keyTextSize
	t.TextStyle.Bold = true // as a button's label
	k := &keyText{text: t}
	k.ExtendBaseWidget(k)
	return k
}

// Refresh takes the theme's text colour again: the theme or its variant
// may have changed.
func (k *keyText) Refresh() {
	k.text.Color = theme.ColorForWidget(theme.ColorNameForeground, k)
	k.BaseWidget.Refresh()
}

func (k *keyText) CreateRenderer() fyne.WidgetRenderer {
	k.text.Color = theme.ColorForWidget(theme.ColorNameForeground, k)
	return &keyTextRenderer{k: k}
}

type keyTextRenderer struct{ k *keyText }

func (r *keyTextRenderer) Layout(size fyne.Size) { r.k.text.Resize(size) }

// MinSize is a button's: its label with inner padding twice each side.
func (r *keyTextRenderer) MinSize() fyne.Size {
	pad := 4 * r.k.Theme().Size(theme.SizeNameInnerPadding)
	return r.k.text.MinSize().AddWidthHeight(pad, pad)
}

func (r *keyTextRenderer) Refresh()                     { r.k.text.Refresh() }
func (r *keyTextRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.k.text} }
func (r *keyTextRenderer) Destroy()                     {}

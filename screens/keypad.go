package screens

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// callTimeout bounds placing a call (not the call itself).
const callTimeout = 20 * time.Second

// Keypad is a 12-key phone keypad.
type Keypad struct {
	Keys    map[string]*widget.Button
	grid    *fyne.Container
	content fyne.CanvasObject
}

// NewKeypad calls pressed with the digit of each tapped key.
func NewKeypad(pressed func(digit string)) *Keypad {
	k := &Keypad{Keys: map[string]*widget.Button{}, grid: container.NewGridWithColumns(3)}
	for _, d := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"} {
		b := widget.NewButton(d, func() { pressed(d) })
		k.Keys[d] = b
		k.grid.Add(b)
	}
	k.content = textSized(k.grid, keyTextSize)
	return k
}

// Content is the keypad's root object.
func (k *Keypad) Content() fyne.CanvasObject { return k.content }

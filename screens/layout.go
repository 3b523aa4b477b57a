package screens

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// Sizes of the phone-style parts of the screens.
const (
	keyTextSize    = 22 // keypad digits
	numberTextSize = 18 // the number being dialled
	bigButtonH     = 52 // Call, End call, Accept, Decline
	toggleH        = 44 // Mute, Hold, Speaker
)

// textSized shows obj with the theme's text size replaced by size, so a
// number field reads like a phone's. Each override costs Fyne another parse
// of its fonts for every text style drawn in it: use it sparingly.
func textSized(obj fyne.CanvasObject, size float32) fyne.CanvasObject {
	return container.NewThemeOverride(obj, sizedTheme{text: size})
}

// sizedTheme is the app's theme with another text size.
type sizedTheme struct{ text float32 }

func (t sizedTheme) base() fyne.Theme {
	if a := fyne.CurrentApp(); a != nil {
		return a.Settings().Theme()
	}
	return theme.DefaultTheme()
}

func (t sizedTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	return t.base().Color(n, v)
}
func (t sizedTheme) Font(s fyne.TextStyle) fyne.Resource     { return t.base().Font(s) }
func (t sizedTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return t.base().Icon(n) }
func (t sizedTheme) Size(n fyne.ThemeSizeName) float32 {
	if n == theme.SizeNameText {
		return t.text
	}
	return t.base().Size(n)
}

// tall gives obj at least height h: the big buttons of a phone.
func tall(obj fyne.CanvasObject, h float32) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(0, h))
	return container.NewStack(r, obj)
}

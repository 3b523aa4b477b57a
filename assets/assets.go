package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

//go:embed icon.png
var iconPNG []byte

// Icon is the 512x512 application icon (a white handset on a teal-to-blue
// rounded square), the same file FyneApp.toml names for packaging.
var Icon = &fyne.StaticResource{StaticName: "icon.png", StaticContent: iconPNG}

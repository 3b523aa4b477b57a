// Command onecxi-phone is the OneCxi Phone desktop softphone.
package main

import (
	"os"

	"github.com/onecxi/phone/app"
	_ "github.com/onecxi/phone/internal/localefix" // before Fyne reads the locale: see its doc
)

func main() { os.Exit(app.Main(os.Args[1:])) }

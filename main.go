// Command onecxi-phone is the OneCxi Phone desktop softphone.
package main

import (
	"os"

	"github.com/onecxi/phone/app"
)

func main() { os.Exit(app.Main(os.Args[1:])) }

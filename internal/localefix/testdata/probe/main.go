// Command probe is TestInitRunsBeforeFyne's program: it imports Fyne's lang
// package and localefix, and prints a translated word.
package main

import (
	"fmt"

	"fyne.io/fyne/v2/lang"

	_ "github.com/onecxi/phone/internal/localefix"
)

func main() { fmt.Println(lang.L("Quit")) }

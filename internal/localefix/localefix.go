// Package localefix keeps Fyne from printing "Error parsing user locale C"
// at start under LANG=C.UTF-8 (the default of many containers and minimal
// systems): Fyne's lang package reads the locale in its init, takes the
// language "C" of "C.UTF-8" for a language tag, and logs the parse error.
// Under such a locale this package sets LANGUAGE=en, the language C means,
// which Fyne's locale lookup (github.com/jeandeaual/go-locale) reads next.
//
// It must run before Fyne's lang package is initialised, so it imports
// nothing but os and strings: Go initialises packages in import-path order
// among those whose imports are ready (the spec, "Package initialization"),
// and this one is ready as soon as os is, long before lang (which needs log,
// fmt and text/template). The phone's main package imports it for its side
// effect; TestInitRunsBeforeFyne checks the order in the built binary.
package localefix

import (
	"os"
	"strings"
)

func init() {
	if v, ok := languageFor(os.Getenv); ok {
		_ = os.Setenv("LANGUAGE", v)
	}
}

// languageFor returns the LANGUAGE to set, if any: "en" when the locale in
// effect (LC_ALL, else LC_MESSAGES, else LANG) is C or POSIX with a
// codeset or modifier ("C.UTF-8", "POSIX@x") and LANGUAGE is unset. A bare
// "C" or "POSIX", which Fyne reads correctly, and any real locale are left
// alone.
func languageFor(getenv func(string) string) (string, bool) {
	if getenv("LANGUAGE") != "" {
		return "", false
	}
	var loc string
	for _, k := range [...]string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if loc = getenv(k); loc != "" {
			break
		}
	}
	if loc == "C" || loc == "POSIX" {
		return "", false
	}
	lang, _, _ := strings.Cut(loc, ".")
	lang, _, _ = strings.Cut(lang, "@")
	if lang == "C" || lang == "POSIX" {
		return "en", true
	}
	return "", false
}

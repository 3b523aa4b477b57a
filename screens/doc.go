// Package screens is the Fyne user interface of OneCxi Phone. Each screen is a
// struct holding its widgets, its dependencies and its onX handlers; package
// app builds them with one constructor and feeds them SDK events. Screens are
// only touched on the Fyne goroutine: callers on other goroutines go through
// fyne.Do.
package screens

// Package fyneloop holds the tests of Fyne's main loop as this project
// builds it: with patches/fyne, which lets the loop sleep while there is
// nothing to draw (README, Footprint). The tests run a real Fyne app (the
// GLFW driver, on an X display) and watch its main thread: it must sleep
// when idle, and wake at once for fyne.Do, an animation started off the main
// goroutine, and Quit. Run through make test, which builds with the patch
// (scripts/fynepatch); without a display they are skipped.
package fyneloop

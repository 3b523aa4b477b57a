// Package app wires OneCxi Phone together: settings from flags, environment
// and build flags; the embedded reference server when no server is
// configured; the SDK; the platform; and the Fyne screens, which it feeds SDK
// events through fyne.Do.
package app

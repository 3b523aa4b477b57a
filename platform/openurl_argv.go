//go:build !darwin && !android

package platform

// listenOpenURL has nothing to do: on Linux, Windows and the BSDs a clicked
// link starts the app with the link as its argument (the desktop entry's
// %u, the registry's "%1"), and the app hands it to the running phone
// itself (app/instance).
func listenOpenURL() error { return nil }

// Package app wires OneCxi Phone together: the account from flags,
// environment and build settings, else from Settings (its API key in the OS
// keychain, or in the app's storage with a warning where there is none),
// else the embedded reference server; the SDK; the platform; the sound
// devices (callaudio.go: the in-call Speaker toggle moves the call between
// the chosen headset and loudspeaker); the call history; the ringtone; the
// tray; the network watcher (network.go: a change of the machine's network
// has the SDK redial a lost events connection at once); and the Fyne window
// with its Phone, History and Settings tabs, which it feeds SDK events
// through fyne.Do, banners for a call reconnecting and for being offline
// included.
package app

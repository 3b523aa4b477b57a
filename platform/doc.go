// Package platform is the one small interface between OneCxi Phone and the
// operating system: microphone and notification permissions, push tokens, the
// incoming-call screen, keeping the process alive during a call, and the audio
// route.
//
// [New] returns the [Platform] for the OS the binary was built for. The
// implementation is chosen at compile time by build-tagged twin files:
//
//   - desktop.go (linux, darwin, windows): the app's own in-window incoming
//     call screen plus an optional OS notification; nothing to request;
//     network changes found by polling the interface addresses
//     (network_desktop.go).
//   - android.go: Go-side bookkeeping; the JNI glue (FCM, foreground
//     service, full-screen intent) is not written yet and reports
//     [ErrUnsupported].
//   - ios.go: Go-side bookkeeping; the PushKit/CallKit glue is not written
//     yet and reports [ErrUnsupported].
//
// All twins take the same [Option]s, so the app configures the platform
// once and callers never branch on the OS: they call the interface and handle
// errors wrapping [ErrUnsupported] or [ErrPermission].
//
// One extension is optional, found with a type assertion: [NetworkWatcher]
// reports changes of the device's network, so the app can have the SDK
// reconnect its events connection at once. The desktop platform polls its
// interface addresses; the Android and iOS twins do not implement it yet.
//
// Links the OS asks the app to open (a clicked tel:, callto: or sip: link)
// are process-wide, not per [Platform], and can come before any Platform
// exists, so two package functions take them: [ListenOpenURL], called early,
// and [OnOpenURL], which sets their receiver; links that come in between
// wait for it. On macOS they are Get URL Apple Events, taken by Objective-C
// (openurl_darwin.go and openurl_darwin.m, cgo); on Linux and Windows they
// are the program's argument and there is nothing to listen to
// (openurl_argv.go); Android, iOS and macOS without cgo report
// [ErrUnsupported] (openurl_unsupported.go). The queue between the OS and the
// receiver is portable (openurl.go).
//
// [Headless] is a complete implementation with no UI at all, for command-line
// tools, server-side tools and tests: permissions and tokens are settable,
// everything shown, dismissed and routed is recorded, and [Headless.Respond]
// plays the user tapping accept or decline, [Headless.SimulateNetworkChange]
// the network changing.
//
// Every implementation is safe for concurrent use. Call actions are delivered
// at most once per shown call: the first answer wins, and answers for calls
// that were dismissed or never shown are dropped.
package platform

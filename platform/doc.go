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
//   - android.go: the app's Java side (com.onecxi.phone.OneCxiBridge, in
//     the APK; docs/android.md) over JNI: permissions, the FCM token and
//     FCM's pushes, the full-screen incoming-call notification and its
//     answers, the foreground service, the audio route, kill-state
//     recovery. The JNI itself is android_jni.go and bridge_android.c
//     (android, cgo); what needs neither (the Java calls as a Go
//     interface, the typing of Java's answers, Java's strings, the inbox
//     where Java's calls land, in order and without ever blocking Java) is
//     jbridge.go, which builds and is tested everywhere. The Java VM comes
//     from the app through [WithAndroidNative] (this package does not
//     import Fyne); without it every native operation reports
//     [ErrUnsupported] naming the option.
//   - ios.go: CallKit shows every call, PushKit brings the VoIP token and
//     pushes, AVAudioSession carries the audio, UserNotifications asks for
//     notifications (docs/ios.md). Every decision is Go, in iosphone.go
//     and iosevents.go, which build and are tested everywhere over a Go
//     interface of the Objective-C side (applebridge.go): every VoIP push
//     is reported to
//     CallKit before anything else, an ended or unreadable one too (and
//     ended at once), and reaches the SDK only once CallKit has the call;
//     CallKit's answer, end, mute, hold and keypad become CallActions,
//     delivered in order after their push; the call's audio waits for
//     CallKit to activate the session. The push payload is read by
//     voippush.go. The glue itself is thin: ios_objc.go (cgo) and
//     ios_glue.m (Objective-C), across ios_glue.h.
//
// All twins take the same [Option]s, so the app configures the platform
// once and callers never branch on the OS: they call the interface and handle
// errors wrapping [ErrUnsupported], [ErrPermission], [ErrNotAllowed],
// [ErrInvalid] or [ErrNativeFailed].
//
// Three extensions are optional, found with [As] (which looks through an
// app's wrapper, [Wrapper]): [NetworkWatcher] reports changes of the
// device's network, so the app can have the SDK reconnect its events
// connection at once (the desktop polls its interface addresses; Android
// and iOS do not implement it yet); [PushSource] hands the SDK the pushes
// and new push tokens the OS gives the process (Android's FCM, iOS's
// PushKit); [KillState]
// gives it what the native side kept while the app was not running
// (Android), behind callcore's CheckPendingIncomingCall,
// CheckCallAcceptAction and StoreRegisteredNumber.
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
// that were dismissed or never shown are dropped. The in-call actions
// (ActionHangup, from Android's ongoing-call notification or CallKit;
// ActionMute, ActionHold and ActionDTMF, from CallKit) are the exception:
// they are about the call in progress and always reach the handler.
package platform

package platform

import (
	"context"
	"errors"
	"fmt"
)

// ErrUnsupported is wrapped by operations this build cannot perform (for
// example the native push glue on a mobile OS that has not been built yet).
var ErrUnsupported = errors.New("platform: not supported on this build")

// ErrPermission is wrapped when the user refused a permission.
var ErrPermission = errors.New("platform: permission denied")

// ErrNotAllowed is wrapped when the OS refused an operation the app may not
// perform right now (Android: a foreground service started from the
// background, a full-screen intent the user has not allowed).
var ErrNotAllowed = errors.New("platform: not allowed by the OS")

// ErrInvalid is wrapped when an argument was refused (an unknown audio
// route; the native side finding a value it cannot use).
var ErrInvalid = errors.New("platform: invalid argument")

// ErrNativeFailed is wrapped when the native side of the platform failed
// for any other reason (Android: an exception in the Java bridge).
var ErrNativeFailed = errors.New("platform: native call failed")

// TokenKind selects a push token.
type TokenKind int

// Push token kinds.
const (
	TokenVoIP TokenKind = iota // iOS PushKit VoIP token
	TokenFCM                   // Firebase Cloud Messaging registration token
)

// Route is where call audio plays.
type Route int

// Audio routes.
const (
	RouteEarpiece Route = iota // handset earpiece; on desktop the chosen headset output
	RouteSpeaker               // loudspeaker
)

// IncomingCall is what a native incoming-call UI shows (CallKit's
// CXCallUpdate, Android's full-screen notification, the desktop's screen).
type IncomingCall struct {
	CallID     string // the SDK's key for the call: the server's call ID, or UUID when it has none
	UUID       string // stable per call; CallKit's call UUID
	Handle     string // caller's number
	CallerName string // display name; may be empty
	CallType   string // guide's push spelling: Inbound, Outbound, APPTOAPP
}

// Action is the user's answer to an incoming call.
type Action int

// Call actions.
const (
	ActionAccept Action = iota
	ActionDecline
	// ActionHangup is the user ending the call in progress from outside the
	// app's window (Android: the Hang up action of the ongoing-call
	// notification). It is not an answer to an incoming call: an
	// incoming-call UI's respond function refuses it, and the handler
	// receives it whether or not a call is showing.
	ActionHangup
	// ActionMute, ActionHold and ActionDTMF are the OS's own in-call
	// controls (iOS: the mute, hold and keypad buttons of CallKit's call
	// screen). Like ActionHangup they are about the call in progress and
	// always reach the handler: ActionMute and ActionHold carry the state
	// the user chose in CallAction.On, ActionDTMF the keys in
	// CallAction.Digits. They come on the platform's own goroutine, one at
	// a time and in the order the user gave them, never on an OS thread:
	// the handler may carry them out before returning, and so keep that
	// order.
	ActionMute
	ActionHold
	ActionDTMF
)

// CallAction reports what the user did with an incoming call, or (the
// in-call actions: ActionHangup, ActionMute, ActionHold, ActionDTMF) with
// the call in progress.
type CallAction struct {
	Action Action
	CallID string
	On     bool   // ActionMute, ActionHold: true to mute or hold, false to undo
	Digits string // ActionDTMF: the keys pressed, each one of 0-9, * and #
}

// Platform is everything OS-specific the SDK and app need. Each OS has one
// implementation selected by build tags; callers never branch on the OS.
type Platform interface {
	// Name is "linux", "darwin", "windows", "android" or "ios" (and
	// "headless" for [Headless]).
	Name() string
	// RequestPermissions asks for microphone and notification permission and
	// reports whether both are granted.
	RequestPermissions(ctx context.Context) (bool, error)
	// CheckPermissions reports whether both are already granted.
	CheckPermissions(ctx context.Context) (bool, error)
	// PushToken returns the device's push token of kind, or "" when this
	// platform has none of that kind.
	PushToken(ctx context.Context, kind TokenKind) (string, error)
	// ShowIncomingCall presents the native incoming-call UI. The user's
	// answer arrives on the handler set with SetCallActionHandler.
	ShowIncomingCall(ctx context.Context, call IncomingCall) error
	// DismissIncomingCall removes that UI (the call ended or was answered
	// elsewhere). Dismissing an unknown call is not an error.
	DismissIncomingCall(ctx context.Context, callID string) error
	// SetCallActionHandler registers the receiver of accept/decline actions
	// (and, where the OS has a call notification, ActionHangup); a later
	// call replaces it.
	SetCallActionHandler(func(CallAction))
	// StartForegroundService keeps the process and microphone alive while a
	// call is active (Android's foreground service, iOS's audio session);
	// a no-op where the OS does not suspend the app.
	StartForegroundService(ctx context.Context, title string) error
	StopForegroundService(ctx context.Context) error
	// SetAudioRoute switches call audio between earpiece and loudspeaker.
	SetAudioRoute(ctx context.Context, r Route) error
}

// String returns "earpiece" or "speaker".
func (r Route) String() string {
	switch r {
	case RouteEarpiece:
		return "earpiece"
	case RouteSpeaker:
		return "speaker"
	}
	return fmt.Sprintf("Route(%d)", int(r))
}

func (r Route) valid() bool { return r == RouteEarpiece || r == RouteSpeaker }

// String returns "accept", "decline", "hangup", "mute", "hold" or "dtmf".
func (a Action) String() string {
	switch a {
	case ActionAccept:
		return "accept"
	case ActionDecline:
		return "decline"
	case ActionHangup:
		return "hangup"
	case ActionMute:
		return "mute"
	case ActionHold:
		return "hold"
	case ActionDTMF:
		return "dtmf"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// valid reports whether a answers an incoming call (accept or decline).
func (a Action) valid() bool { return a == ActionAccept || a == ActionDecline }

// String returns "voip" or "fcm".
func (k TokenKind) String() string {
	switch k {
	case TokenVoIP:
		return "voip"
	case TokenFCM:
		return "fcm"
	}
	return fmt.Sprintf("TokenKind(%d)", int(k))
}

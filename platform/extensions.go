package platform

import "context"

// The optional extensions of Platform: a platform implements one only where
// its OS does the thing, and callers find it with [As]. NetworkWatcher
// (network.go) is one; PushSource and KillState are the others.

// PushSource is an optional extension: a platform whose OS hands push
// messages to the process itself (Android: Firebase Cloud Messaging's
// onMessageReceived and onNewToken) rather than to a native call UI. The
// SDK (callcore) sets the handlers when it is created, so an incoming push
// takes the same path as HandleIncomingCallWithUI and a new token leads to
// registering the device again.
type PushSource interface {
	// SetPushHandlers sets the receivers of what the OS pushes; a later
	// call replaces them, and a nil field drops that kind of event (logged).
	SetPushHandlers(PushHandlers)
}

// PushHandlers receive what a PushSource delivers. They are called on the
// platform's own goroutine, one event at a time, in the order the OS
// delivered them, never on an OS thread: a handler may block, and the
// events behind it wait.
type PushHandlers struct {
	// Incoming receives an incoming push's data: FCM's data map, every
	// value as the push carried it (strings), unchecked.
	Incoming func(data map[string]any)
	// TokenChanged receives a new push token of kind, already checked to be
	// non-empty printable ASCII of a sane length.
	TokenChanged func(kind TokenKind, token string)
}

// KillState is an optional extension: a platform whose native side keeps
// what arrived while the app was not running, and reads the registered
// number, so that callcore's CheckPendingIncomingCall,
// CheckCallAcceptAction and StoreRegisteredNumber (the guide's kill-state
// recovery) see it. On Android the FCM service and the call notification's
// actions store the call and the user's answer when no running app can
// take them, and start the app, which then asks.
type KillState interface {
	// TakePendingIncomingCall returns the push data stored while the app
	// was not running, unchecked, and forgets it; nil when there is none.
	TakePendingIncomingCall(ctx context.Context) (map[string]any, error)
	// TakePendingCallAction returns the user's answer to an incoming call
	// stored while the app was not running (ActionAccept or ActionDecline)
	// and forgets it; ok is false when there is none.
	TakePendingCallAction(ctx context.Context) (a CallAction, ok bool, err error)
	// StoreRegisteredNumber keeps number where the native side can read it.
	StoreRegisteredNumber(ctx context.Context, number string) error
	// RegisteredNumber returns the number stored, or "".
	RegisteredNumber(ctx context.Context) (string, error)
}

// Wrapper is implemented by a Platform that wraps another, for example an
// app adding behaviour around the one New returned. [As] looks through it.
type Wrapper interface {
	Unwrap() Platform
}

// maxWrapDepth bounds As's walk, so a wrapper that (wrongly) wraps itself
// cannot loop forever.
const maxWrapDepth = 16

// As returns p as the optional extension T ([NetworkWatcher], [PushSource],
// [KillState]) when p implements it, or else the first Platform it wraps
// ([Wrapper]) that does; ok is false when none does. Like errors.As, it
// lets a wrapper stay transparent without repeating every extension.
func As[T any](p Platform) (t T, ok bool) {
	for range maxWrapDepth {
		if p == nil {
			break
		}
		if t, ok := p.(T); ok {
			return t, true
		}
		w, isWrapper := p.(Wrapper)
		if !isWrapper {
			break
		}
		p = w.Unwrap()
	}
	return t, false
}

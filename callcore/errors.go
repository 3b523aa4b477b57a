package callcore

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/onecxi/phone/wire"
)

// ErrorKind is one of the guide's fifteen OneCxiError values. Every error the
// SDK returns is an *Error carrying a kind, and a kind is itself an error, so
// both of these work:
//
//	errors.Is(err, callcore.ErrPermissionDenied)
//	switch callcore.KindOf(err) { case callcore.ErrCallInProgress: … }
type ErrorKind int

// The guide's error kinds, in the guide's order. The zero ErrorKind is no
// kind at all (what KindOf returns for a nil error).
const (
	ErrNotInitialized            ErrorKind = iota + 1 // a method needing Initialize was called before it (or after Dispose)
	ErrInvalidInput                                   // an empty, whitespace-only or malformed parameter
	ErrCallInProgress                                 // a call is already active
	ErrNoCallInProgress                               // the method needs a call and there is none
	ErrPermissionDenied                               // microphone (or notification) permission not granted
	ErrWebSocketConnectionFailed                      // the server cannot be reached
	ErrAudioSessionSetupFailed                        // the audio device could not be opened
	ErrInitializationFailed                           // bad credentials or a server error during Initialize
	ErrCallFailed                                     // the call could not be placed or failed
	ErrCallEndFailed                                  // the call could not be ended cleanly
	ErrIncomingCallFailed                             // an incoming-call push could not be handled
	ErrSpeakerControlFailed                           // switching the audio route failed
	ErrHoldControlFailed                              // hold or resume failed
	ErrMuteControlFailed                              // mute or unmute failed
	ErrUnknown                                        // anything unclassified
)

var kindNames = [...]string{
	ErrNotInitialized:            "notInitialized",
	ErrInvalidInput:              "invalidInput",
	ErrCallInProgress:            "callInProgress",
	ErrNoCallInProgress:          "noCallInProgress",
	ErrPermissionDenied:          "permissionDenied",
	ErrWebSocketConnectionFailed: "webSocketConnectionFailed",
	ErrAudioSessionSetupFailed:   "audioSessionSetupFailed",
	ErrInitializationFailed:      "initializationFailed",
	ErrCallFailed:                "callFailed",
	ErrCallEndFailed:             "callEndFailed",
	ErrIncomingCallFailed:        "incomingCallFailed",
	ErrSpeakerControlFailed:      "speakerControlFailed",
	ErrHoldControlFailed:         "holdControlFailed",
	ErrMuteControlFailed:         "muteControlFailed",
	ErrUnknown:                   "unknown",
}

var kindMessages = [...]string{
	ErrNotInitialized:            "SDK not initialized",
	ErrInvalidInput:              "Invalid input",
	ErrCallInProgress:            "A call is already in progress",
	ErrNoCallInProgress:          "No call in progress",
	ErrPermissionDenied:          "Permission denied",
	ErrWebSocketConnectionFailed: "WebSocket connection failed",
	ErrAudioSessionSetupFailed:   "Audio session setup failed",
	ErrInitializationFailed:      "Initialization failed",
	ErrCallFailed:                "Call failed",
	ErrCallEndFailed:             "Failed to end call",
	ErrIncomingCallFailed:        "Failed to handle incoming call",
	ErrSpeakerControlFailed:      "Failed to control speaker",
	ErrHoldControlFailed:         "Failed to control hold",
	ErrMuteControlFailed:         "Failed to control mute",
	ErrUnknown:                   "Unknown error",
}

// AllErrorKinds returns the fifteen kinds in the guide's order.
func AllErrorKinds() []ErrorKind {
	out := make([]ErrorKind, 0, len(kindNames)-1)
	for k := ErrNotInitialized; k <= ErrUnknown; k++ {
		out = append(out, k)
	}
	return out
}

func (k ErrorKind) valid() bool { return k >= ErrNotInitialized && k <= ErrUnknown }

// String returns the guide's camelCase name, e.g. "permissionDenied".
func (k ErrorKind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	if k == 0 {
		return "none"
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// Message returns the human-readable description, e.g. "Permission denied"
// (the guide's OneCxiError.message).
func (k ErrorKind) Message() string {
	if k.valid() {
		return kindMessages[k]
	}
	return kindMessages[ErrUnknown]
}

// Error makes a kind usable as an error value and as an errors.Is target.
func (k ErrorKind) Error() string { return k.Message() }

// Error is what every SDK method returns on failure: a kind for the app to
// switch on, a detail saying what exactly went wrong, and the underlying
// cause (a *ServerError, a network error, a platform error) for errors.As.
type Error struct {
	Kind   ErrorKind
	Detail string
	Err    error
}

func newError(kind ErrorKind, err error, format string, args ...any) *Error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...), Err: err}
}

// Error returns "Message: detail: cause", leaving out empty parts.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Message())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if se, ok := e.Err.(*ServerError); ok && se.Message == e.Detail {
		// The detail already is the server's words; add only its code.
		b.WriteString(" (server code ")
		b.WriteString(string(se.Code))
		b.WriteString(")")
	} else if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches an ErrorKind equal to e.Kind, or another *Error of the same kind.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case ErrorKind:
		return e.Kind == t
	case *Error:
		return t != nil && e.Kind == t.Kind
	}
	return false
}

// KindOf returns the kind of err: the outermost *Error's kind or a bare
// ErrorKind found by errors.As; ErrUnknown for any other non-nil error; and
// the zero kind for nil.
func KindOf(err error) ErrorKind {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var k ErrorKind
	if errors.As(err, &k) && k.valid() {
		return k
	}
	return ErrUnknown
}

// KindFromPlatformCode maps a native platform exception code (the Flutter
// SDK's PlatformException.code) to a kind. Codes are matched ignoring case,
// underscores, dashes and spaces, so "PERMISSION_DENIED", "permission-denied"
// and "permissionDenied" are the same. Unknown codes give ErrUnknown.
func KindFromPlatformCode(code string) ErrorKind {
	n := normalizeCode(code)
	for k := ErrNotInitialized; k <= ErrUnknown; k++ {
		if n == normalizeCode(kindNames[k]) {
			return k
		}
	}
	if k, ok := platformCodeAliases[n]; ok {
		return k
	}
	return ErrUnknown
}

// platformCodeAliases are spellings native layers use besides the kind names.
var platformCodeAliases = map[string]ErrorKind{
	"notinitialised":           ErrNotInitialized,
	"sdknotinitialized":        ErrNotInitialized,
	"invalidargument":          ErrInvalidInput,
	"invalidarguments":         ErrInvalidInput,
	"invalidparameter":         ErrInvalidInput,
	"callalreadyinprogress":    ErrCallInProgress,
	"nocall":                   ErrNoCallInProgress,
	"noactivecall":             ErrNoCallInProgress,
	"permissionerror":          ErrPermissionDenied,
	"microphonepermission":     ErrPermissionDenied,
	"micpermissiondenied":      ErrPermissionDenied,
	"websocketerror":           ErrWebSocketConnectionFailed,
	"connectionfailed":         ErrWebSocketConnectionFailed,
	"audiosessionerror":        ErrAudioSessionSetupFailed,
	"audiosetupfailed":         ErrAudioSessionSetupFailed,
	"initfailed":               ErrInitializationFailed,
	"callerror":                ErrCallFailed,
	"endcallfailed":            ErrCallEndFailed,
	"incomingcallerror":        ErrIncomingCallFailed,
	"speakerfailed":            ErrSpeakerControlFailed,
	"holdfailed":               ErrHoldControlFailed,
	"mutefailed":               ErrMuteControlFailed,
	"error":                    ErrUnknown,
	"unknownerror":             ErrUnknown,
	"websocketconnectionerror": ErrWebSocketConnectionFailed,
}

func normalizeCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch r {
		case '_', '-', ' ', '.':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ServerError is an error reported by the call server: a wire.Code from an
// `error` message or an HTTP error body. It is the cause (Err) of the *Error
// the SDK returns, so ServerCode can find it.
type ServerError struct {
	Code       wire.Code
	Message    string
	HTTPStatus int // 0 when it came over the WebSocket
	// RetryAfter is the server's Retry-After on a 429 or 503 (0: none):
	// asking again sooner only gets the same answer.
	RetryAfter time.Duration
}

// maxRetryAfter bounds a Retry-After the SDK honours, so a broken or hostile
// header cannot park a reconnect for days.
const maxRetryAfter = 10 * time.Minute

// RetryAfter returns the Retry-After a server error in err's chain asked
// for, or 0.
func RetryAfter(err error) time.Duration {
	var se *ServerError
	if errors.As(err, &se) {
		return se.RetryAfter
	}
	return 0
}

func (e *ServerError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = DescribeServerCode(e.Code)
	}
	if e.HTTPStatus != 0 {
		return fmt.Sprintf("server said %s (HTTP %d): %s", e.Code, e.HTTPStatus, msg)
	}
	return fmt.Sprintf("server said %s: %s", e.Code, msg)
}

// ServerCode returns the server's error code carried anywhere in err's chain
// ("" when the server did not report one), so an app can tell "the other user
// is offline" (wire.CodeUnreachable) from "busy" or "no answer".
func ServerCode(err error) wire.Code {
	var se *ServerError
	if errors.As(err, &se) {
		return se.Code
	}
	return ""
}

// KindFromServerCode maps a server code to the kind an SDK method reports
// when the code arrives outside a specific operation. Inside an operation the
// operation decides: any failed start is ErrCallFailed, a failed mute is
// ErrMuteControlFailed and so on, with the code kept in the chain.
func KindFromServerCode(c wire.Code) ErrorKind {
	switch c {
	case wire.CodeUnauthorized, wire.CodeUnsupported:
		return ErrInitializationFailed
	case wire.CodeBadRequest, wire.CodeInvalidInput, wire.CodeSelfCall:
		return ErrInvalidInput
	case wire.CodeNotFound, wire.CodeUnreachable, wire.CodeBusy, wire.CodeNoAnswer,
		wire.CodeNumberInUse, wire.CodeAlreadyAnswered, wire.CodeTrunkFailed,
		wire.CodeCallEnded:
		return ErrCallFailed
	case wire.CodeTooManyRequests, wire.CodeShuttingDown:
		return ErrWebSocketConnectionFailed
	}
	return ErrUnknown
}

// DescribeServerCode is a short sentence for a server code, fit to show a
// user; the server's own message is more specific but not localisable.
func DescribeServerCode(c wire.Code) string {
	switch c {
	case wire.CodeUnauthorized:
		return "The account name or API key was rejected"
	case wire.CodeBadRequest, wire.CodeInvalidInput:
		return "The request was not valid"
	case wire.CodeUnsupported:
		return "The server does not support this app version"
	case wire.CodeNotFound:
		return "The number was not found"
	case wire.CodeUnreachable:
		return "The other user is offline"
	case wire.CodeBusy:
		return "The line is busy"
	case wire.CodeNoAnswer:
		return "No answer"
	case wire.CodeSelfCall:
		return "You cannot call your own number"
	case wire.CodeNumberInUse:
		return "Your number is already in a call on another device"
	case wire.CodeAlreadyAnswered:
		return "The call was answered on another device"
	case wire.CodeTrunkFailed:
		return "The phone network could not connect the call"
	case wire.CodeInternal:
		return "The server had an internal error"
	case wire.CodeCallEnded:
		return "The call has already ended"
	case wire.CodeControlRejected:
		return "That is not possible at this point of the call"
	case wire.CodeTooManyRequests:
		return "The server is busy; try again shortly"
	case wire.CodeShuttingDown:
		return "The server is restarting; try again shortly"
	}
	return "The server reported an error"
}

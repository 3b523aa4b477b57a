package platform

// The Go half of the Android JNI bridge that does not need cgo or Android:
// the interface the Android platform calls Java through, the typing of
// Java's answers, the conversion of Java's strings, and the inbox where
// Java's calls into Go land. It builds everywhere so that its tests run on
// every host, with the race detector; android.go uses it, and
// android_jni.go (android, cgo) connects it to the Java VM. The Java side
// and the contract between the two are described in docs/android.md.

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/onecxi/phone/wire"
)

// javaBridge is the Java side, one method per static method of
// com.onecxi.phone.OneCxiBridge (each passes the app's Context first). The
// string results are Java's, unchecked: "" for success or
// "<kind>: <message>" (see nativeResult), or data. The error is the call
// itself failing: no Java VM, the class or method not found, or a Java
// exception; it wraps ErrNativeFailed (javaFailure). Implementations are
// safe for concurrent use; the JNI one runs each call on a thread attached
// to the VM and may block until Java returns.
type javaBridge interface {
	checkPermissions() (bool, error)
	requestPermissions(requestCode int32) error
	requestFcmToken(requestCode int32) error
	startCallService(callID, remote string) (string, error)
	stopCallService() (string, error)
	showIncomingCall(callID, callerName, callerNumber, callType string) (string, error)
	dismissIncomingCall(callID string) error
	setAudioRoute(route string) (string, error)
	takePendingIncomingCall() (string, error)
	takePendingCallAction() (string, error)
	storeRegisteredNumber(number string) (string, error)
	registeredNumber() (string, error)
}

// bridgeMethod is a static method of com.onecxi.phone.OneCxiBridge: its
// name and JNI signature, exactly as the contract gives them.
type bridgeMethod struct{ name, sig string }

// The methods Go calls. Each takes the app's Context first.
var (
	mCheckPermissions        = bridgeMethod{"checkPermissions", "(Landroid/content/Context;)Z"}
	mRequestPermissions      = bridgeMethod{"requestPermissions", "(Landroid/content/Context;I)V"}
	mRequestFcmToken         = bridgeMethod{"requestFcmToken", "(Landroid/content/Context;I)V"}
	mStartCallService        = bridgeMethod{"startCallService", "(Landroid/content/Context;Ljava/lang/String;Ljava/lang/String;)Ljava/lang/String;"}
	mStopCallService         = bridgeMethod{"stopCallService", "(Landroid/content/Context;)Ljava/lang/String;"}
	mShowIncomingCall        = bridgeMethod{"showIncomingCall", "(Landroid/content/Context;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)Ljava/lang/String;"}
	mDismissIncomingCall     = bridgeMethod{"dismissIncomingCall", "(Landroid/content/Context;Ljava/lang/String;)V"}
	mSetAudioRoute           = bridgeMethod{"setAudioRoute", "(Landroid/content/Context;Ljava/lang/String;)Ljava/lang/String;"}
	mTakePendingIncomingCall = bridgeMethod{"takePendingIncomingCall", "(Landroid/content/Context;)Ljava/lang/String;"}
	mTakePendingCallAction   = bridgeMethod{"takePendingCallAction", "(Landroid/content/Context;)Ljava/lang/String;"}
	mStoreRegisteredNumber   = bridgeMethod{"storeRegisteredNumber", "(Landroid/content/Context;Ljava/lang/String;)Ljava/lang/String;"}
	mRegisteredNumber        = bridgeMethod{"registeredNumber", "(Landroid/content/Context;)Ljava/lang/String;"}
)

// bridgeMethods lists them all, for tests.
var bridgeMethods = []bridgeMethod{
	mCheckPermissions, mRequestPermissions, mRequestFcmToken, mStartCallService, mStopCallService,
	mShowIncomingCall, mDismissIncomingCall, mSetAudioRoute, mTakePendingIncomingCall,
	mTakePendingCallAction, mStoreRegisteredNumber, mRegisteredNumber,
}

// returns is how the method returns: 'V' (void), 'Z' (boolean) or 'S'
// (String), as the C side (onecxi_call) takes it; 0 for anything else.
func (m bridgeMethod) returns() byte {
	switch {
	case strings.HasSuffix(m.sig, ")V"):
		return 'V'
	case strings.HasSuffix(m.sig, ")Z"):
		return 'Z'
	case strings.HasSuffix(m.sig, ")Ljava/lang/String;"):
		return 'S'
	}
	return 0
}

// params lists the parameters after the Context: 'I' (int) or 'S'
// (String); nil when the signature has another type or no Context first.
func (m bridgeMethod) params() []byte {
	const ctx = "(Landroid/content/Context;"
	rest, ok := strings.CutPrefix(m.sig, ctx)
	if !ok {
		return nil
	}
	list, _, ok := strings.Cut(rest, ")")
	if !ok {
		return nil
	}
	ps := []byte{}
	for list != "" {
		switch {
		case strings.HasPrefix(list, "I"):
			ps, list = append(ps, 'I'), list[1:]
		case strings.HasPrefix(list, "Ljava/lang/String;"):
			ps, list = append(ps, 'S'), list[len("Ljava/lang/String;"):]
		default:
			return nil
		}
	}
	return ps
}

// The kinds of failure Java reports, the text before ": ".
const (
	kindPermission  = "permission"
	kindNotAllowed  = "not_allowed"
	kindUnsupported = "unsupported"
	kindInvalid     = "invalid"
	kindFailed      = "failed"
)

// nativeError is a failure the Java side reported: a method's
// "<kind>: <message>" answer, or an exception (kind failed). errors.Is
// matches it by kind: ErrPermission, ErrNotAllowed, ErrUnsupported,
// ErrInvalid or ErrNativeFailed. Its text shows only a short prefix of
// Java's message (wire.Quote).
type nativeError struct {
	op   string // the bridge method, e.g. "startCallService"
	kind string // one of the kind constants
	msg  string // Java's message, as given
}

func (e *nativeError) Error() string {
	return fmt.Sprintf("platform: android %s: %s: %s", e.op, e.kind, wire.Quote(e.msg))
}

func (e *nativeError) Unwrap() error {
	switch e.kind {
	case kindPermission:
		return ErrPermission
	case kindNotAllowed:
		return ErrNotAllowed
	case kindUnsupported:
		return ErrUnsupported
	case kindInvalid:
		return ErrInvalid
	}
	return ErrNativeFailed
}

// nativeResult types what a bridge method answered: nil for "", else a
// *nativeError. An answer that is not "<known kind>: <message>" is kind
// failed with the whole answer as its message.
func nativeResult(op, res string) error {
	if res == "" {
		return nil
	}
	kind, msg, ok := strings.Cut(res, ": ")
	switch kind {
	case kindPermission, kindNotAllowed, kindUnsupported, kindInvalid, kindFailed:
	default:
		ok = false
	}
	if !ok {
		return &nativeError{op: op, kind: kindFailed, msg: res}
	}
	return &nativeError{op: op, kind: kind, msg: msg}
}

// javaFailure is the error of a bridge call that failed as a call: what
// says what happened (an exception's toString, "no Java VM", …).
func javaFailure(op, what string) error {
	return &nativeError{op: op, kind: kindFailed, msg: what}
}

// bridgeResult combines a bridge call's answer and error into one error.
func bridgeResult(op, res string, err error) error {
	if err != nil {
		return err
	}
	return nativeResult(op, res)
}

// maxJavaString is the most of a Java string the bridge takes, in UTF-16
// units: far more than any push payload (FCM's data is at most 4 KB), call
// ID or token, and small enough that a runaway string costs nothing much.
// A longer string is cut there and marked so.
const maxJavaString = 64 << 10

// javaText is a string that came from Java.
type javaText struct {
	s   string
	cut bool // the Java string was longer than maxJavaString units; s is its start
}

// fromJava decodes the UTF-16 units Java gave (at most maxJavaString of a
// string of full units). An unpaired surrogate becomes U+FFFD, so the
// result is always valid UTF-8.
func fromJava(units []uint16, full int) javaText {
	if len(units) > maxJavaString {
		units = units[:maxJavaString]
	}
	return javaText{s: string(utf16.Decode(units)), cut: full > len(units)}
}

// toJava encodes s as UTF-16 for Java's NewString: bytes that are not
// UTF-8 become U+FFFD, and NUL stays NUL (the length is passed, not a
// terminator). Java's modified UTF-8 (NewStringUTF) is never used, so no
// string can make the VM abort.
func toJava(s string) []uint16 {
	units := make([]uint16, 0, len(s))
	for _, r := range s { // range turns invalid bytes into utf8.RuneError
		units = utf16.AppendRune(units, r)
	}
	return units
}

// Hostile-input checks on what Java sends.

// parsePushData decodes an incoming push's data, which Java passes as a
// JSON object (FCM's RemoteMessage.getData()).
func parsePushData(t javaText) (map[string]any, error) {
	if t.cut {
		return nil, fmt.Errorf("platform: push data longer than %d characters: %w", maxJavaString, ErrInvalid)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(t.s), &m); err != nil {
		return nil, fmt.Errorf("platform: push data %s is not a JSON object: %w", wire.Quote(t.s), ErrInvalid)
	}
	if m == nil {
		return nil, fmt.Errorf("platform: push data is null: %w", ErrInvalid)
	}
	return m, nil
}

// maxCallIDLen bounds a call ID from Java; the SDK's own IDs are far
// shorter.
const maxCallIDLen = 256

// parseCallAction checks a notification action: action is "accept",
// "decline" or "hangup"; callID is what Go gave Java with the call
// (any, "" included, for hangup).
func parseCallAction(callID, action javaText) (CallAction, error) {
	var a Action
	switch {
	case action.cut:
		return CallAction{}, fmt.Errorf("platform: call action too long: %w", ErrInvalid)
	case action.s == "accept":
		a = ActionAccept
	case action.s == "decline":
		a = ActionDecline
	case action.s == "hangup":
		a = ActionHangup
	default:
		return CallAction{}, fmt.Errorf("platform: unknown call action %s: %w", wire.Quote(action.s), ErrInvalid)
	}
	if callID.cut || len(callID.s) > maxCallIDLen {
		return CallAction{}, fmt.Errorf("platform: call ID %s is too long: %w", wire.Quote(callID.s), ErrInvalid)
	}
	if a != ActionHangup && callID.s == "" {
		return CallAction{}, fmt.Errorf("platform: %v without a call ID: %w", a, ErrInvalid)
	}
	return CallAction{Action: a, CallID: callID.s}, nil
}

// parsePendingAction decodes takePendingCallAction's "<action> <callId>"
// ("" for none; ok false). Only accept and decline are kept for later.
func parsePendingAction(s string) (a CallAction, ok bool, err error) {
	if s == "" {
		return CallAction{}, false, nil
	}
	action, callID, _ := strings.Cut(s, " ")
	a, err = parseCallAction(javaText{s: callID}, javaText{s: action})
	if err == nil && a.Action == ActionHangup {
		err = fmt.Errorf("platform: a stored hang-up has no call to end: %w", ErrInvalid)
	}
	if err != nil {
		return CallAction{}, false, fmt.Errorf("platform: stored call action %s: %w", wire.Quote(s), err)
	}
	return a, true, nil
}

// checkToken checks a push token from Java: non-empty printable ASCII of at
// most wire.MaxFCMToken bytes (FCM's tokens are about 160 characters of
// letters, digits, '-', '_' and ':'; the server checks the exact set). The
// token itself is never quoted: it is a credential of sorts.
func checkToken(t javaText) error {
	if t.s == "" {
		return fmt.Errorf("platform: the FCM token is empty: %w", ErrNativeFailed)
	}
	if t.cut || len(t.s) > wire.MaxFCMToken {
		return fmt.Errorf("platform: the FCM token is longer than %d bytes: %w", wire.MaxFCMToken, ErrInvalid)
	}
	for i := 0; i < len(t.s); i++ {
		if c := t.s[i]; c <= ' ' || c >= utf8.RuneSelf || c == 0x7f {
			return fmt.Errorf("platform: the FCM token has a character at byte %d that tokens do not: %w", i, ErrInvalid)
		}
	}
	return nil
}

// The inbox: where the Java side's calls into Go (the native methods of
// OneCxiBridge) land. Answers to requests go straight to the waiting
// request; events go through an ordered queue to the receiver (the
// Android platform). Nothing here ever waits for Go's side, so Java's
// thread returns at once.

// nativeAnswer is Java's answer to a request.
type nativeAnswer struct {
	granted bool     // nativePermissionsResult
	token   javaText // nativeFcmToken
	errText javaText // nativeFcmToken: "" or "<kind>: <message>"
}

// nativeEvent is something Java told Go without being asked.
type nativeEvent struct {
	token  string         // nativeTokenRefreshed, checked (data nil, action unset)
	data   map[string]any // nativeIncomingPush, decoded
	action *CallAction    // nativeCallAction, checked
}

// nativeReceiver takes the inbox's events.
type nativeReceiver interface {
	// wants reports whether it would handle ev now (its handler is set).
	// It is called on Java's thread with the inbox locked: it must not
	// block or call back into the inbox.
	wants(ev nativeEvent) bool
	// deliver handles ev, on the queue's goroutine.
	deliver(ev nativeEvent)
}

// maxRequestCode is the largest request code: Android's
// Activity.requestPermissions wants a non-negative code and FragmentActivity
// one that fits in 16 bits, so codes are 1..65535.
const maxRequestCode = math.MaxUint16

// nativeInbox correlates requests with Java's answers and queues Java's
// events. The zero value is not usable; see newNativeInbox.
type nativeInbox struct {
	mu       sync.Mutex
	next     int32 // the last request code handed out
	waiting  map[int32]chan nativeAnswer
	receiver nativeReceiver
	log      *slog.Logger
	events   eventQueue[nativeEvent]
}

func newNativeInbox() *nativeInbox {
	return &nativeInbox{waiting: make(map[int32]chan nativeAnswer), log: slog.Default()}
}

// javaInbox is the process's inbox: the JNI native methods are
// process-wide, and may be called before any Platform exists.
var javaInbox = newNativeInbox()

// install makes r the receiver of events (the latest wins) and log the
// logger of what is dropped.
func (in *nativeInbox) install(r nativeReceiver, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	in.mu.Lock()
	in.receiver, in.log = r, log
	in.mu.Unlock()
	in.events.setHandler(r.deliver)
}

func (in *nativeInbox) logger() *slog.Logger {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.log
}

// errTooManyRequests is returned when every request code is waiting for
// an answer, which only a Java side that never answers causes.
var errTooManyRequests = fmt.Errorf("platform: %d requests to Java are waiting for an answer: %w", maxRequestCode, ErrNativeFailed)

// expect reserves a request code and the channel its answer arrives on;
// forget releases it.
func (in *nativeInbox) expect() (int32, <-chan nativeAnswer, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.waiting) >= maxRequestCode {
		return 0, nil, errTooManyRequests
	}
	for {
		in.next++
		if in.next > maxRequestCode {
			in.next = 1
		}
		if _, busy := in.waiting[in.next]; !busy {
			break
		}
	}
	ch := make(chan nativeAnswer, 1) // answer never waits
	in.waiting[in.next] = ch
	return in.next, ch, nil
}

// forget releases code; a later answer for it is dropped.
func (in *nativeInbox) forget(code int32) {
	in.mu.Lock()
	delete(in.waiting, code)
	in.mu.Unlock()
}

// answer hands Java's answer to the request waiting on code. An answer for
// a code nobody waits for (never asked, answered twice, or given up on) is
// dropped and logged.
func (in *nativeInbox) answer(what string, code int32, a nativeAnswer) {
	in.mu.Lock()
	ch, ok := in.waiting[code]
	delete(in.waiting, code)
	log := in.log
	in.mu.Unlock()
	if !ok {
		log.Warn("platform: dropping an answer from Java for a request nobody waits for", "answer", what, "request_code", code)
		return
	}
	ch <- a // buffered, and only one answer per code reaches here
}

// event queues ev for the receiver and reports whether it did: false when
// no receiver wants it now (Java then keeps it for when the app starts) or
// the queue is full.
func (in *nativeInbox) event(what string, ev nativeEvent) bool {
	in.mu.Lock()
	r, log := in.receiver, in.log
	wanted := r != nil && r.wants(ev)
	in.mu.Unlock()
	if !wanted {
		log.Info("platform: nothing in this process takes this from Java now (for a push or a call action, Java keeps it for the app's start)", "event", what)
		return false
	}
	if !in.events.push(ev) {
		log.Warn("platform: too many events from Java waiting; dropped", "event", what)
		return false
	}
	return true
}

// What the JNI native methods call (android_jni.go), one per method.

// permissionsResult is nativePermissionsResult(requestCode, granted).
func (in *nativeInbox) permissionsResult(code int32, granted bool) {
	in.answer("permissions", code, nativeAnswer{granted: granted})
}

// fcmToken is nativeFcmToken(requestCode, token, error).
func (in *nativeInbox) fcmToken(code int32, token, errText javaText) {
	in.answer("fcm token", code, nativeAnswer{token: token, errText: errText})
}

// tokenRefreshed is nativeTokenRefreshed(token): FCM issued a new token.
// A token that is not one is dropped (logged).
func (in *nativeInbox) tokenRefreshed(token javaText) {
	if err := checkToken(token); err != nil {
		in.logger().Warn("platform: dropping a refreshed token from Java", "err", err)
		return
	}
	in.event("token refreshed", nativeEvent{token: token.s})
}

// incomingPush is nativeIncomingPush(dataJson). It reports whether a
// running app took the push; data that is not a JSON object is dropped
// (logged) and reported taken, since keeping it would not make it valid.
func (in *nativeInbox) incomingPush(dataJSON javaText) bool {
	data, err := parsePushData(dataJSON)
	if err != nil {
		in.logger().Warn("platform: dropping an incoming push from Java", "err", err)
		return true
	}
	return in.event("incoming push", nativeEvent{data: data})
}

// callAction is nativeCallAction(callId, action). It reports whether a
// running app took it; an unknown action or a bad call ID is dropped
// (logged) and reported taken.
func (in *nativeInbox) callAction(callID, action javaText) bool {
	a, err := parseCallAction(callID, action)
	if err != nil {
		in.logger().Warn("platform: dropping a call action from Java", "err", err)
		return true
	}
	return in.event("call action", nativeEvent{action: &a})
}

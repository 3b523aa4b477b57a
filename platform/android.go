//go:build android

package platform

import (
	"context"
	"fmt"
	"sync"

	"github.com/onecxi/phone/wire"
)

// android is the Platform for Android. The OS side is the app's Java
// (com.onecxi.phone.OneCxiBridge, built into the APK; docs/android.md),
// reached over JNI (android_jni.go) through the Java VM that
// WithAndroidNative gives:
//   - RECORD_AUDIO and, on Android 13+, POST_NOTIFICATIONS, checked and
//     requested (the answer comes back from the permission dialog);
//   - the FCM registration token, and FCM's new tokens and data pushes,
//     which reach the SDK through PushSource;
//   - the incoming call as a CATEGORY_CALL notification with a full-screen
//     intent (ringing over the lock screen), beside the app's own screen
//     (WithIncomingUI); its Accept and Decline, and the ongoing-call
//     notification's Hang up, come back as call actions;
//   - the foreground service (phoneCall|microphone) that keeps the call
//     alive in the background;
//   - the earpiece/loudspeaker route (AudioManager);
//   - kill-state recovery (KillState): the call and the answer Java stored
//     while the app was not running, and the registered number.
//
// Without WithAndroidNative, or in a build without cgo, each of those
// returns an error wrapping ErrUnsupported that says what is missing, and
// only the app's own incoming-call screen, the call-action bookkeeping and
// a WithRouteHandler handler work. Network changes need a
// ConnectivityManager.NetworkCallback, which the bridge does not have yet,
// so this platform does not implement NetworkWatcher (polling addresses,
// as the desktop does, would keep the radio awake).
type android struct {
	cfg      config
	calls    *callBook
	bridge   javaBridge // nil without a Java side; noBridge says why
	noBridge error
	inbox    *nativeInbox

	mu    sync.Mutex // held across route changes, so they apply in order
	route Route

	pushMu sync.Mutex // never held while calling out
	push   PushHandlers
}

var (
	_ Platform   = (*android)(nil)
	_ PushSource = (*android)(nil)
	_ KillState  = (*android)(nil)
)

func newPlatform(cfg config) Platform {
	b, why := newJNIBridge(cfg.jvm)
	return newAndroid(cfg, b, why, javaInbox)
}

// newAndroid returns the platform over bridge b (nil: none, for the
// reason why). A platform with a bridge becomes the receiver of in's
// events (the latest made wins).
func newAndroid(cfg config, b javaBridge, why error, in *nativeInbox) *android {
	a := &android{cfg: cfg, calls: newCallBook(cfg.logger), bridge: b, noBridge: why, inbox: in}
	if b != nil {
		in.install(a, cfg.logger)
	}
	return a
}

// errNoJVM is why there is no bridge when WithAndroidNative was not given.
var errNoJVM = fmt.Errorf("it needs the Java bridge, and this Platform was made without WithAndroidNative: %w", ErrUnsupported)

// unsupported is the error of an operation that needs the bridge.
func (a *android) unsupported(what string) error {
	return fmt.Errorf("platform: android %s: %w", what, a.noBridge)
}

// Name returns "android".
func (a *android) Name() string { return "android" }

// CheckPermissions reports whether RECORD_AUDIO (and POST_NOTIFICATIONS on
// Android 13+) are granted.
func (a *android) CheckPermissions(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if a.bridge == nil {
		return false, a.unsupported("permission check")
	}
	return a.bridge.checkPermissions()
}

// RequestPermissions asks the user for the permissions CheckPermissions
// checks and waits for the answer, or for ctx to end.
func (a *android) RequestPermissions(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if a.bridge == nil {
		return false, a.unsupported("permission request")
	}
	ans, err := a.ask(ctx, "permission request", a.bridge.requestPermissions)
	if err != nil {
		return false, err
	}
	return ans.granted, nil
}

// PushToken returns the FCM registration token, waiting for Firebase (or
// for ctx to end). TokenVoIP is iOS's: "".
func (a *android) PushToken(ctx context.Context, kind TokenKind) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if kind != TokenFCM {
		return "", nil
	}
	if a.bridge == nil {
		return "", a.unsupported("FCM token")
	}
	ans, err := a.ask(ctx, "FCM token", a.bridge.requestFcmToken)
	if err != nil {
		return "", err
	}
	if ans.errText.s != "" {
		return "", nativeResult("requestFcmToken", ans.errText.s)
	}
	if err := checkToken(ans.token); err != nil {
		return "", err
	}
	return ans.token.s, nil
}

// ask sends a request that Java answers later through the inbox, and waits
// for the answer or for ctx to end. A late answer is dropped by the inbox.
func (a *android) ask(ctx context.Context, what string, send func(requestCode int32) error) (nativeAnswer, error) {
	code, answer, err := a.inbox.expect()
	if err != nil {
		return nativeAnswer{}, err
	}
	defer a.inbox.forget(code)
	if err := send(code); err != nil {
		return nativeAnswer{}, err
	}
	select {
	case ans := <-answer:
		return ans, nil
	case <-ctx.Done():
		return nativeAnswer{}, fmt.Errorf("platform: android %s: waiting for the answer: %w", what, ctx.Err())
	}
}

// ShowIncomingCall posts the incoming-call notification, whose full-screen
// intent rings over the lock screen (Java's own notification: WithNotifier
// is not used), and shows the app's own screen when WithIncomingUI is set.
// When the notification fails the app's screen is enough (the failure is
// logged); without one the call is not shown and the error returned.
// Without the bridge only the app's screen can show it.
func (a *android) ShowIncomingCall(ctx context.Context, call IncomingCall) error {
	if err := checkCall(ctx, call); err != nil {
		return err
	}
	if a.bridge == nil {
		return a.showInApp(call)
	}
	a.calls.show(call)
	res, err := a.bridge.showIncomingCall(call.CallID, call.CallerName, call.Handle, call.CallType)
	err = bridgeResult("showIncomingCall", res, err)
	if a.cfg.incomingUI == nil {
		if err != nil {
			a.calls.dismiss(call.CallID)
			return err
		}
		return nil
	}
	if err != nil {
		a.cfg.logger.Warn("platform: the incoming-call notification failed; only the app's screen shows the call",
			"call_id", wire.Quote(call.CallID), "err", err)
	}
	a.cfg.incomingUI(call, a.calls.responder(call.CallID))
	return nil
}

// showInApp is ShowIncomingCall without the bridge: the app's screen, and
// a WithNotifier notification for a call not already showing.
func (a *android) showInApp(call IncomingCall) error {
	return showInApp(a.cfg, a.calls, call, a.unsupported("full-screen incoming-call notification"))
}

// DismissIncomingCall forgets the call, so a later answer is ignored, and
// removes its notification.
func (a *android) DismissIncomingCall(ctx context.Context, callID string) error {
	a.calls.dismiss(callID)
	if a.bridge == nil {
		return nil
	}
	return a.bridge.dismissIncomingCall(callID)
}

// SetCallActionHandler sets the receiver of answers; the latest one wins.
func (a *android) SetCallActionHandler(h func(CallAction)) { a.calls.setHandler(h) }

// SetPushHandlers sets the receivers of FCM's pushes and new tokens.
func (a *android) SetPushHandlers(h PushHandlers) {
	a.pushMu.Lock()
	a.push = h
	a.pushMu.Unlock()
}

func (a *android) pushHandlers() PushHandlers {
	a.pushMu.Lock()
	defer a.pushMu.Unlock()
	return a.push
}

// ongoingCallID is the call ID the foreground service is started with. The
// SDK starts the service before the call's socket is open, when the call
// has no ID yet, and Java wants a non-empty one; a Hang up from the
// service's notification ends whatever call is in progress, whatever ID it
// carries.
const ongoingCallID = "ongoing"

// StartForegroundService starts the call's foreground service with its
// ongoing-call notification (title names the call). Android refuses it
// from the background on 12+ (ErrNotAllowed).
func (a *android) StartForegroundService(ctx context.Context, title string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.bridge == nil {
		return a.unsupported("foreground service")
	}
	res, err := a.bridge.startCallService(ongoingCallID, title)
	return bridgeResult("startCallService", res, err)
}

// StopForegroundService stops the call's foreground service.
func (a *android) StopForegroundService(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.bridge == nil {
		return a.unsupported("foreground service")
	}
	res, err := a.bridge.stopCallService()
	return bridgeResult("stopCallService", res, err)
}

// SetAudioRoute switches call audio between earpiece and loudspeaker
// through AudioManager. With the bridge a WithRouteHandler handler is not
// called: the OS route is the one that counts. Without the bridge the
// handler is, and without either it is unsupported.
func (a *android) SetAudioRoute(ctx context.Context, r Route) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.cfg.routeHandler
	if a.bridge != nil {
		h = func(r Route) error {
			res, err := a.bridge.setAudioRoute(r.String())
			return bridgeResult("setAudioRoute", res, err)
		}
	}
	if err := setRoute(ctx, h, r); err != nil {
		return err
	}
	if h == nil {
		return a.unsupported("audio routing")
	}
	a.route = r
	return nil
}

// TakePendingIncomingCall returns the push data Java stored while the app
// was not running, and forgets it.
func (a *android) TakePendingIncomingCall(ctx context.Context) (map[string]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if a.bridge == nil {
		return nil, a.unsupported("kill-state recovery")
	}
	s, err := a.bridge.takePendingIncomingCall()
	if err != nil || s == "" {
		return nil, err
	}
	data, err := parsePushData(javaText{s: s})
	if err != nil {
		return nil, fmt.Errorf("platform: android stored incoming call: %w", err)
	}
	return data, nil
}

// TakePendingCallAction returns the answer (accept or decline) Java stored
// while the app was not running, and forgets it.
func (a *android) TakePendingCallAction(ctx context.Context) (CallAction, bool, error) {
	if err := ctx.Err(); err != nil {
		return CallAction{}, false, err
	}
	if a.bridge == nil {
		return CallAction{}, false, a.unsupported("kill-state recovery")
	}
	s, err := a.bridge.takePendingCallAction()
	if err != nil {
		return CallAction{}, false, err
	}
	return parsePendingAction(s)
}

// StoreRegisteredNumber keeps number in Java's storage.
func (a *android) StoreRegisteredNumber(ctx context.Context, number string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.bridge == nil {
		return a.unsupported("registered number")
	}
	res, err := a.bridge.storeRegisteredNumber(number)
	return bridgeResult("storeRegisteredNumber", res, err)
}

// RegisteredNumber returns the number in Java's storage, or "".
func (a *android) RegisteredNumber(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if a.bridge == nil {
		return "", a.unsupported("registered number")
	}
	n, err := a.bridge.registeredNumber()
	if err != nil {
		return "", err
	}
	if n != "" && !wire.ValidNumber(n) {
		return "", fmt.Errorf("platform: android stored registered number %s is not a number: %w", wire.Quote(n), ErrInvalid)
	}
	return n, nil
}

// wants implements nativeReceiver: an event is taken while its handler is
// set. It runs on Java's thread and takes only short-held locks.
func (a *android) wants(ev nativeEvent) bool {
	switch {
	case ev.action != nil:
		return a.calls.hasHandler()
	case ev.data != nil:
		return a.pushHandlers().Incoming != nil
	}
	return a.pushHandlers().TokenChanged != nil
}

// deliver implements nativeReceiver, on the inbox queue's goroutine.
func (a *android) deliver(ev nativeEvent) {
	switch {
	case ev.action != nil && ev.action.Action == ActionHangup:
		a.calls.inCall(CallAction{Action: ActionHangup, CallID: ev.action.CallID})
	case ev.action != nil:
		if !a.calls.respond(ev.action.CallID, ev.action.Action) {
			a.cfg.logger.Info("platform: a notification's answer was not delivered",
				"call_id", wire.Quote(ev.action.CallID), "action", ev.action.Action)
		}
	case ev.data != nil:
		if h := a.pushHandlers().Incoming; h != nil {
			h(ev.data)
		} else {
			a.cfg.logger.Warn("platform: no push handler set; incoming push dropped")
		}
	default:
		if h := a.pushHandlers().TokenChanged; h != nil {
			h(TokenFCM, ev.token)
		} else {
			a.cfg.logger.Warn("platform: no push handler set; new FCM token dropped")
		}
	}
}

// currentRoute is the last route set successfully.
func (a *android) currentRoute() Route {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.route
}

//go:build android

package platform

import (
	"context"
	"fmt"
	"sync"
)

// android is the Platform for Android. Only the Go side exists so far.
//
// What is missing is the Java/Kotlin and JNI glue, which needs the Android
// SDK and NDK to build and is not written yet:
//   - runtime permission requests (RECORD_AUDIO, and POST_NOTIFICATIONS on
//     Android 13+) need the Activity's requestPermissions callback;
//   - the FCM registration token needs the Firebase Messaging SDK;
//   - the full-screen incoming-call intent (shown over the lock screen) needs
//     a NotificationChannel and an Activity declared in the manifest;
//   - the foreground service (type phoneCall|microphone) that keeps the
//     microphone alive in the background needs a Service subclass;
//   - switching earpiece/loudspeaker needs AudioManager
//     (setCommunicationDevice / setSpeakerphoneOn);
//   - network changes need a ConnectivityManager.NetworkCallback, so this
//     platform does not implement NetworkWatcher (polling addresses, as the
//     desktop does, would keep the radio awake).
//
// Each of those returns an error wrapping ErrUnsupported rather than
// pretending to succeed. What works: Name, the app's own incoming-call screen
// while the app is in the foreground (WithIncomingUI), call-action
// bookkeeping, and audio routing through a WithRouteHandler handler.
type android struct {
	cfg   config
	calls *callBook

	mu    sync.Mutex
	route Route
}

func newPlatform(cfg config) Platform {
	return &android{cfg: cfg, calls: newCallBook(cfg.logger)}
}

func unsupportedAndroid(what string) error {
	return fmt.Errorf("platform: android %s needs the JNI glue, which is not built yet: %w", what, ErrUnsupported)
}

// Name returns "android".
func (a *android) Name() string { return "android" }

// RequestPermissions is unsupported: asking for RECORD_AUDIO and
// POST_NOTIFICATIONS at run time needs the Activity via JNI. It reports
// false so the app does not assume the microphone will open.
func (a *android) RequestPermissions(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return false, unsupportedAndroid("permission request")
}

// CheckPermissions is unsupported for the same reason as RequestPermissions
// (checkSelfPermission needs a Context via JNI).
func (a *android) CheckPermissions(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return false, unsupportedAndroid("permission check")
}

// PushToken returns "" for TokenVoIP (an iOS-only kind). TokenFCM is
// unsupported: it needs the Firebase Messaging SDK.
func (a *android) PushToken(ctx context.Context, kind TokenKind) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if kind != TokenFCM {
		return "", nil
	}
	return "", unsupportedAndroid("FCM token")
}

// ShowIncomingCall shows the app's own incoming-call screen, which is only
// visible while the app is in the foreground, and posts a notification when a
// notifier is set. The full-screen intent that rings over the lock screen is
// not built; without an incoming UI the call returns an error wrapping
// ErrUnsupported and shows nothing.
func (a *android) ShowIncomingCall(ctx context.Context, call IncomingCall) error {
	if err := checkCall(ctx, call); err != nil {
		return err
	}
	if a.cfg.incomingUI == nil {
		return unsupportedAndroid("full-screen incoming-call intent")
	}
	isNew := a.calls.show(call)
	a.cfg.incomingUI(call, a.calls.responder(call.CallID))
	if isNew && a.cfg.notifier != nil {
		title, body := notificationText(call)
		if err := a.cfg.notifier(title, body); err != nil {
			a.cfg.logger.Warn("platform: incoming-call notification failed", "call_id", call.CallID, "err", err)
		}
	}
	return nil
}

// DismissIncomingCall forgets the call, so a later answer is ignored.
func (a *android) DismissIncomingCall(ctx context.Context, callID string) error {
	a.calls.dismiss(callID)
	return nil
}

// SetCallActionHandler sets the receiver of answers; the latest one wins.
func (a *android) SetCallActionHandler(h func(CallAction)) { a.calls.setHandler(h) }

// StartForegroundService is unsupported: it needs a Service subclass started
// through JNI. Without it Android may stop the microphone once the app is in
// the background.
func (a *android) StartForegroundService(ctx context.Context, _ string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return unsupportedAndroid("foreground service")
}

// StopForegroundService is unsupported, like StartForegroundService.
func (a *android) StopForegroundService(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return unsupportedAndroid("foreground service")
}

// SetAudioRoute calls the WithRouteHandler handler. Without one it is
// unsupported: switching the route natively needs AudioManager via JNI.
func (a *android) SetAudioRoute(ctx context.Context, r Route) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cfg.routeHandler == nil {
		if err := setRoute(ctx, nil, r); err != nil {
			return err
		}
		return unsupportedAndroid("audio routing")
	}
	if err := setRoute(ctx, a.cfg.routeHandler, r); err != nil {
		return err
	}
	a.route = r
	return nil
}

//go:build ios

package platform

import (
	"context"
	"fmt"
	"sync"
)

// ios is the Platform for iOS. Only the Go side exists so far.
//
// What is missing is the Objective-C glue (cgo against PushKit, CallKit,
// AVFoundation and UserNotifications), which needs Xcode and the iOS SDK to
// build and is not written yet:
//   - permission requests need AVAudioSession requestRecordPermission and
//     UNUserNotificationCenter requestAuthorization;
//   - the VoIP push token needs a PKPushRegistry;
//   - the native incoming-call screen needs CXProvider
//     reportNewIncomingCall. iOS 13+ terminates an app that receives a VoIP
//     push and does not report it to CallKit, so until this glue exists the
//     app must not register for VoIP pushes on iOS;
//   - keeping audio alive in the background needs an AVAudioSession activated
//     for CallKit (provider:didActivateAudioSession:);
//   - switching earpiece/loudspeaker needs AVAudioSession
//     overrideOutputAudioPort;
//   - network changes need an NWPathMonitor, so this platform does not
//     implement NetworkWatcher (polling addresses, as the desktop does,
//     would keep the radio awake).
//
// Each of those returns an error wrapping ErrUnsupported rather than
// pretending to succeed. What works: Name, the app's own incoming-call screen
// while the app is in the foreground (WithIncomingUI), call-action
// bookkeeping, and audio routing through a WithRouteHandler handler.
type ios struct {
	cfg   config
	calls *callBook

	mu    sync.Mutex
	route Route
}

func newPlatform(cfg config) Platform {
	return &ios{cfg: cfg, calls: newCallBook(cfg.logger)}
}

func unsupportedIOS(what string) error {
	return fmt.Errorf("platform: ios %s needs the PushKit/CallKit glue, which is not built yet: %w", what, ErrUnsupported)
}

// Name returns "ios".
func (p *ios) Name() string { return "ios" }

// RequestPermissions is unsupported: it needs AVAudioSession and
// UNUserNotificationCenter through cgo. It reports false so the app does not
// assume the microphone will open.
func (p *ios) RequestPermissions(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return false, unsupportedIOS("permission request")
}

// CheckPermissions is unsupported for the same reason as RequestPermissions.
func (p *ios) CheckPermissions(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return false, unsupportedIOS("permission check")
}

// PushToken returns "" for TokenFCM (the iOS app is woken by APNs VoIP
// pushes, not FCM). TokenVoIP is unsupported: it needs PKPushRegistry.
func (p *ios) PushToken(ctx context.Context, kind TokenKind) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if kind != TokenVoIP {
		return "", nil
	}
	return "", unsupportedIOS("VoIP push token")
}

// ShowIncomingCall shows the app's own incoming-call screen, which is only
// visible while the app is in the foreground, and posts a notification when a
// notifier is set. The CallKit screen is not built; without an incoming UI
// the call returns an error wrapping ErrUnsupported and shows nothing.
func (p *ios) ShowIncomingCall(ctx context.Context, call IncomingCall) error {
	if err := checkCall(ctx, call); err != nil {
		return err
	}
	if p.cfg.incomingUI == nil {
		return unsupportedIOS("CallKit incoming-call screen")
	}
	isNew := p.calls.show(call)
	p.cfg.incomingUI(call, p.calls.responder(call.CallID))
	if isNew && p.cfg.notifier != nil {
		title, body := notificationText(call)
		if err := p.cfg.notifier(title, body); err != nil {
			p.cfg.logger.Warn("platform: incoming-call notification failed", "call_id", call.CallID, "err", err)
		}
	}
	return nil
}

// DismissIncomingCall forgets the call, so a later answer is ignored.
func (p *ios) DismissIncomingCall(ctx context.Context, callID string) error {
	p.calls.dismiss(callID)
	return nil
}

// SetCallActionHandler sets the receiver of answers; the latest one wins.
func (p *ios) SetCallActionHandler(h func(CallAction)) { p.calls.setHandler(h) }

// StartForegroundService is unsupported: it needs an AVAudioSession activated
// through CallKit. Without it iOS suspends the app, and the call's audio,
// once the app leaves the foreground.
func (p *ios) StartForegroundService(ctx context.Context, _ string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return unsupportedIOS("background audio session")
}

// StopForegroundService is unsupported, like StartForegroundService.
func (p *ios) StopForegroundService(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return unsupportedIOS("background audio session")
}

// SetAudioRoute calls the WithRouteHandler handler. Without one it is
// unsupported: switching the route natively needs AVAudioSession.
func (p *ios) SetAudioRoute(ctx context.Context, r Route) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfg.routeHandler == nil {
		if err := setRoute(ctx, nil, r); err != nil {
			return err
		}
		return unsupportedIOS("audio routing")
	}
	if err := setRoute(ctx, p.cfg.routeHandler, r); err != nil {
		return err
	}
	p.route = r
	return nil
}

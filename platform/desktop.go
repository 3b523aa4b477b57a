//go:build !android && !ios

package platform

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/onecxi/phone/wire"
)

// desktop is the Platform for Linux, macOS and Windows. The incoming-call
// screen is the app's own window (WithIncomingUI), optionally announced by
// an OS notification (WithNotifier); call audio routing is the app choosing
// an output device (WithRouteHandler).
type desktop struct {
	cfg   config
	calls *callBook

	mu    sync.Mutex
	route Route
}

func newPlatform(cfg config) Platform {
	return &desktop{cfg: cfg, calls: newCallBook(cfg.logger)}
}

// Name returns runtime.GOOS: "linux", "darwin" or "windows".
func (d *desktop) Name() string { return runtime.GOOS }

// RequestPermissions reports granted. Linux and Windows have no microphone
// permission prompt for desktop programs. macOS asks the user the first time
// the microphone is opened, not here; if the user refuses, opening the audio
// device fails and the app reports that as audioSessionSetupFailed.
// Notifications need no permission on any desktop.
func (d *desktop) RequestPermissions(ctx context.Context) (bool, error) {
	return d.CheckPermissions(ctx)
}

// CheckPermissions reports granted; see RequestPermissions.
func (d *desktop) CheckPermissions(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return true, nil
}

// PushToken returns "" for every kind: the desktop app is told about
// incoming calls over its live event connection instead of push.
func (d *desktop) PushToken(ctx context.Context, _ TokenKind) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return "", nil
}

// ShowIncomingCall puts the app's incoming-call screen up and, for a call not
// already showing, posts a notification when a notifier is set. Without an
// incoming UI it returns an error wrapping ErrUnsupported and shows nothing.
// Showing a call ID that is already showing updates that screen.
func (d *desktop) ShowIncomingCall(ctx context.Context, call IncomingCall) error {
	if err := checkCall(ctx, call); err != nil {
		return err
	}
	return showInApp(d.cfg, d.calls, call, fmt.Errorf("platform: no incoming-call UI set (WithIncomingUI): %w", ErrUnsupported))
}

// DismissIncomingCall forgets the call, so a later answer from its screen is
// ignored. The app's screen closes itself when its call ends.
func (d *desktop) DismissIncomingCall(ctx context.Context, callID string) error {
	if !d.calls.dismiss(callID) {
		d.cfg.logger.Debug("platform: dismissing a call not showing", "call_id", wire.Quote(callID))
	}
	return nil
}

// SetCallActionHandler sets the receiver of answers; the latest one wins.
func (d *desktop) SetCallActionHandler(h func(CallAction)) { d.calls.setHandler(h) }

// StartForegroundService does nothing: desktops do not suspend the app.
func (d *desktop) StartForegroundService(context.Context, string) error { return nil }

// StopForegroundService does nothing: desktops do not suspend the app.
func (d *desktop) StopForegroundService(context.Context) error { return nil }

// SetAudioRoute calls the route handler when one is set, else only records
// the route (a desktop has no earpiece; the app plays on the chosen output).
func (d *desktop) SetAudioRoute(ctx context.Context, r Route) error {
	d.mu.Lock()
	defer d.mu.Unlock() // held across the handler so routes apply in order
	if err := setRoute(ctx, d.cfg.routeHandler, r); err != nil {
		return err
	}
	d.route = r
	return nil
}

// currentRoute is the last route set successfully.
func (d *desktop) currentRoute() Route {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.route
}

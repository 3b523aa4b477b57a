package callcore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/wire"
)

// nativePlat stands in for the Android platform with its Java side: a
// Headless named "android" that also receives pushes (PushSource) and
// keeps what came while the app was not running (KillState).
type nativePlat struct {
	*platform.Headless

	mu         sync.Mutex
	handlers   platform.PushHandlers
	onAction   func(platform.CallAction)
	pending    map[string]any
	pendingErr error
	action     *platform.CallAction
	actionErr  error
	number     string
	numberErr  error
}

var (
	_ platform.PushSource = (*nativePlat)(nil)
	_ platform.KillState  = (*nativePlat)(nil)
)

func newNativePlat() *nativePlat {
	return &nativePlat{Headless: platform.NewHeadless(platform.WithName("android"))}
}

// appWrapper is what an app puts around its platform (app.dismissNotifier):
// it hides the extensions from a type assertion, not from platform.As.
type appWrapper struct{ platform.Platform }

func (w appWrapper) Unwrap() platform.Platform { return w.Platform }

func (p *nativePlat) SetCallActionHandler(h func(platform.CallAction)) {
	p.mu.Lock()
	p.onAction = h
	p.mu.Unlock()
	p.Headless.SetCallActionHandler(h)
}

func (p *nativePlat) SetPushHandlers(h platform.PushHandlers) {
	p.mu.Lock()
	p.handlers = h
	p.mu.Unlock()
}

func (p *nativePlat) pushHandlers() platform.PushHandlers {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.handlers
}

// push delivers an FCM data message as the platform's goroutine does.
func (p *nativePlat) push(t *testing.T, data map[string]any) {
	t.Helper()
	h := p.pushHandlers().Incoming
	require.NotNil(t, h, "no push handler set")
	h(data)
}

// newToken plays FCM issuing a new token.
func (p *nativePlat) newToken(t *testing.T, token string) {
	t.Helper()
	p.SetToken(platform.TokenFCM, token)
	h := p.pushHandlers().TokenChanged
	require.NotNil(t, h, "no token handler set")
	h(platform.TokenFCM, token)
}

// hangup plays the user tapping Hang up on the ongoing-call notification.
func (p *nativePlat) hangup(t *testing.T) {
	t.Helper()
	p.act(t, platform.CallAction{Action: platform.ActionHangup})
}

// act plays the user acting on the OS's call screen (CallKit's).
func (p *nativePlat) act(t *testing.T, a platform.CallAction) {
	t.Helper()
	p.mu.Lock()
	h := p.onAction
	p.mu.Unlock()
	require.NotNil(t, h, "no call action handler set")
	h(a)
}

// keep stores what the Java side would have kept while the app was down.
func (p *nativePlat) keep(data map[string]any, a *platform.CallAction) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending, p.action = data, a
}

func (p *nativePlat) TakePendingIncomingCall(context.Context) (map[string]any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.pending
	p.pending = nil
	if p.pendingErr != nil {
		return nil, p.pendingErr
	}
	return d, nil
}

func (p *nativePlat) TakePendingCallAction(context.Context) (platform.CallAction, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.action
	p.action = nil
	if a == nil {
		return platform.CallAction{}, false, p.actionErr
	}
	return *a, true, p.actionErr
}

func (p *nativePlat) StoreRegisteredNumber(_ context.Context, n string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.numberErr != nil {
		return p.numberErr
	}
	p.number = n
	return nil
}

func (p *nativePlat) RegisteredNumber(context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.number, p.numberErr
}

// newNativeEnv is newEnv on a nativePlat, wrapped as the app wraps it.
func newNativeEnv(t *testing.T, opts ...Option) (*testEnv, *nativePlat) {
	t.Helper()
	np := newNativePlat()
	e := newEnv(t, append([]Option{WithPlatform(appWrapper{np})}, opts...)...)
	e.plat = np.Headless
	return e, np
}

// An FCM push the OS hands the process takes HandleIncomingCallWithUI's
// path: shown once, and an "end" after it dismisses it. Dispose
// disconnects the handlers.
func TestNativePushShowsTheCall(t *testing.T) {
	e, np := newNativeEnv(t)
	np.push(t, freshPush("c_1"))
	np.push(t, freshPush("c_1")) // FCM redelivers
	require.Len(t, e.plat.ShownCalls(), 1)
	assert.Equal(t, "c_1", e.plat.ShownCalls()[0].CallID)

	end := freshPush("c_1")
	end["event"] = "end"
	np.push(t, end)
	assert.Equal(t, []string{"c_1"}, e.plat.Dismissed())

	bad := freshPush("c_2")
	delete(bad, "callFrom")
	np.push(t, bad) // logged, not shown
	assert.Len(t, e.plat.ShownCalls(), 1)

	e.sdk.Dispose()
	assert.Nil(t, np.pushHandlers().Incoming, "Dispose disconnects the pushes")
	assert.Nil(t, np.pushHandlers().TokenChanged)
}

// A new token registers the device again, with the number last
// registered, also after a registration that failed for want of a token;
// never before the app registered, nor after it unregistered.
func TestNativeTokenChangeReRegisters(t *testing.T) {
	e, np := newNativeEnv(t)
	ctx := ctxT(t)
	quiet := func(n int) {
		t.Helper()
		time.Sleep(50 * time.Millisecond)
		assert.Len(t, e.fs.registrations(), n)
	}

	np.newToken(t, "tok-0")
	quiet(0) // the app has not asked to register yet

	np.SetToken(platform.TokenFCM, "")
	err := e.sdk.RegisterDevice(ctx, "1002")
	require.ErrorIs(t, err, ErrIncomingCallFailed, "no token yet")
	quiet(0)

	np.newToken(t, "tok-1")
	waitFor(t, func() bool { return len(e.fs.registrations()) == 1 }, "the registration with the first token")
	reg := e.fs.registrations()[0]
	assert.Equal(t, wire.PlatformAndroid, reg.Platform)
	assert.Equal(t, "1002", reg.RegisteredNumber)
	assert.Equal(t, "tok-1", reg.FCMToken)

	np.newToken(t, "tok-2")
	waitFor(t, func() bool { return len(e.fs.registrations()) == 2 }, "the registration with the new token")
	assert.Equal(t, "tok-2", e.fs.registrations()[1].FCMToken)
	assert.Equal(t, reg.DeviceID, e.fs.registrations()[1].DeviceID, "the same install")

	require.NoError(t, e.sdk.UnregisterDevice(ctx))
	np.newToken(t, "tok-3")
	quiet(2)
}

// Hang up on the ongoing-call notification ends the call in progress;
// without one it does nothing (no error reaches the app).
func TestNativeHangupEndsTheCall(t *testing.T) {
	e, np := newNativeEnv(t)
	require.NoError(t, e.sdk.StartAppToAppInboundCall(ctxT(t), "1002", "1001"))
	fc := e.fs.lastCall(t)
	waitFor(t, func() bool { return e.sdk.GetCallStatus().State == CallStateActive }, "the call")
	np.hangup(t)
	waitFor(t, func() bool { return !e.sdk.IsCallActive() }, "the hang-up")
	waitFor(t, fc.closed, "the server side to close")
	assert.NotEmpty(t, fc.messages(wire.TypeEnd), "the server was told")
	flush(e.sdk)
	assert.True(t, e.rec.has("ended:app_to_app:1002"))

	np.hangup(t) // no call any more
	time.Sleep(50 * time.Millisecond)
	flush(e.sdk)
	for _, l := range e.rec.lines() {
		assert.NotContains(t, l, "error", "the hang-up without a call reported nothing")
	}
}

// The OS call screen's mute, hold and keypad (CallKit's) act on the call in
// progress as MuteCall, HoldCall and SendDTMF do.
func TestNativeInCallControls(t *testing.T) {
	e, np := newNativeEnv(t)
	require.NoError(t, e.sdk.StartAppToAppInboundCall(ctxT(t), "1002", "1001"))
	fc := e.fs.lastCall(t)
	waitFor(t, func() bool { return e.sdk.GetCallStatus().State == CallStateActive }, "the call")

	np.act(t, platform.CallAction{Action: platform.ActionMute, On: true})
	waitFor(t, func() bool { return e.sdk.IsMuted() }, "the mute")
	np.act(t, platform.CallAction{Action: platform.ActionHold, On: true})
	assert.True(t, e.sdk.IsOnHold(), "done when the platform's delivery returns, so the next one comes after")
	np.act(t, platform.CallAction{Action: platform.ActionHold, On: false})
	assert.False(t, e.sdk.IsOnHold())
	np.act(t, platform.CallAction{Action: platform.ActionDTMF, Digits: "4#"})
	waitFor(t, func() bool { return len(fc.messages(wire.TypeDTMF)) == 2 }, "both keys")
	dtmf := fc.messages(wire.TypeDTMF)
	assert.Equal(t, []string{"4", "#"}, []string{dtmf[0].Digit, dtmf[1].Digit}, "in order")
	assert.True(t, *fc.messages(wire.TypeMute)[0].On)
}

// freshPushAt is freshPush with another ring start.
func freshPushAt(callID string, at time.Time) map[string]any {
	p := freshPush(callID)
	p["timestamp"] = strconv.FormatInt(at.UnixMilli(), 10)
	return p
}

// What Java kept while the app was not running is found by the guide's
// kill-state checks, once, and the accepted call can be answered.
func TestNativeKillStateAccept(t *testing.T) {
	e, np := newNativeEnv(t)
	ctx := ctxT(t)
	np.keep(freshPush("c_7"), &platform.CallAction{Action: platform.ActionAccept, CallID: "c_7"})

	accepted, err := e.sdk.CheckCallAcceptAction(ctx)
	require.NoError(t, err)
	require.NotNil(t, accepted)
	assert.Equal(t, "c_7", accepted.CallID)
	pending, err := e.sdk.CheckPendingIncomingCall(ctx)
	require.NoError(t, err)
	require.NotNil(t, pending)
	assert.Equal(t, "c_7", pending.CallID)
	assert.Equal(t, "Alice", pending.CallerName)

	// The app answers it, as app.recoverCalls does.
	require.NoError(t, e.sdk.AcceptIncomingCall(ctx, accepted.Key()))
	fc := e.fs.lastCall(t)
	start := fc.messages(wire.TypeStart)
	require.Len(t, start, 1)
	assert.Equal(t, "c_7", start[0].CallID)
	accepted, err = e.sdk.CheckCallAcceptAction(ctx)
	require.NoError(t, err)
	assert.Nil(t, accepted, "acted on")
}

// The app shows a kept call that was not answered: it is not marked seen,
// so HandleIncomingCallWithUI rings it.
func TestNativeKillStatePendingIsShown(t *testing.T) {
	e, np := newNativeEnv(t)
	ctx := ctxT(t)
	np.keep(freshPush("c_8"), nil)
	accepted, err := e.sdk.CheckCallAcceptAction(ctx)
	require.NoError(t, err)
	assert.Nil(t, accepted)
	pending, err := e.sdk.CheckPendingIncomingCall(ctx)
	require.NoError(t, err)
	require.NotNil(t, pending)
	require.NoError(t, e.sdk.HandleIncomingCallWithUI(ctx, pending.Map()))
	require.Len(t, e.plat.ShownCalls(), 1)
	assert.Equal(t, "c_8", e.plat.ShownCalls()[0].CallID)
}

func TestNativeKillStateCases(t *testing.T) {
	stale := freshPushAt("c_old", time.Now().Add(-2*wire.DefaultRingTimeout))
	end := freshPush("c_9")
	end["event"] = "end"
	bad := freshPush("c_bad")
	delete(bad, "callTo")
	tests := []struct {
		name        string
		data        map[string]any
		action      *platform.CallAction
		pendingErr  error
		actionErr   error
		initialized bool
		wantPending string // "" for none
		wantAccept  string
		wantDecline []string
	}{
		{name: "nothing kept", initialized: true},
		{name: "stale", data: stale, initialized: true},
		{name: "end", data: end, initialized: true},
		{name: "malformed", data: bad, initialized: true},
		{name: "accept for another call", data: freshPush("c_1"),
			action: &platform.CallAction{Action: platform.ActionAccept, CallID: "c_2"}, initialized: true, wantPending: "c_1"},
		{name: "accept without the call", action: &platform.CallAction{Action: platform.ActionAccept, CallID: "c_2"}, initialized: true},
		{name: "decline", data: freshPush("c_3"),
			action: &platform.CallAction{Action: platform.ActionDecline, CallID: "c_3"}, initialized: true, wantDecline: []string{"c_3"}},
		{name: "decline before initialize", data: freshPush("c_4"),
			action: &platform.CallAction{Action: platform.ActionDecline, CallID: "c_4"}},
		{name: "no native side", data: freshPush("c_5"), pendingErr: fmt.Errorf("x: %w", platform.ErrUnsupported), initialized: true},
		{name: "a failed take still takes the action", data: freshPush("c_6"), pendingErr: fmt.Errorf("x: %w", platform.ErrNativeFailed),
			action: &platform.CallAction{Action: platform.ActionDecline, CallID: "c_6"}, initialized: true, wantDecline: []string{"c_6"}},
		{name: "accept", data: freshPush("c_11"),
			action: &platform.CallAction{Action: platform.ActionAccept, CallID: "c_11"}, initialized: true, wantPending: "c_11", wantAccept: "c_11"},
		{name: "action failure keeps the call", data: freshPush("c_10"), actionErr: errors.New("boom"), initialized: true, wantPending: "c_10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			np := newNativePlat()
			np.keep(tt.data, tt.action)
			np.pendingErr, np.actionErr = tt.pendingErr, tt.actionErr
			var s *SDK
			var fs *fakeServer
			if tt.initialized {
				e := newEnv(t, WithPlatform(appWrapper{np}))
				s, fs = e.sdk, e.fs
			} else {
				s, _ = newSDK(t, WithPlatform(appWrapper{np}))
			}
			ctx := ctxT(t)
			accepted, err := s.CheckCallAcceptAction(ctx)
			require.NoError(t, err)
			pending, err := s.CheckPendingIncomingCall(ctx)
			require.NoError(t, err)
			if tt.wantAccept == "" {
				assert.Nil(t, accepted)
			} else if assert.NotNil(t, accepted) {
				assert.Equal(t, tt.wantAccept, accepted.CallID)
			}
			if tt.wantPending == "" {
				assert.Nil(t, pending)
			} else if assert.NotNil(t, pending) {
				assert.Equal(t, tt.wantPending, pending.CallID)
			}
			if fs != nil {
				assert.Equal(t, tt.wantDecline, fs.declined())
			}
		})
	}
}

// StoreRegisteredNumber keeps the number on the native side too; a
// failure there is ErrUnknown, a platform without one is fine, and
// RegisteredNumber falls back to the native copy.
func TestNativeRegisteredNumber(t *testing.T) {
	ctx := ctxT(t)
	np := newNativePlat()
	s, _ := newSDK(t, WithPlatform(appWrapper{np}))
	require.NoError(t, s.StoreRegisteredNumber(ctx, "1002"))
	n, err := np.RegisteredNumber(ctx)
	require.NoError(t, err)
	assert.Equal(t, "1002", n)

	np2 := newNativePlat()
	np2.number = "+14155550100"
	s2, _ := newSDK(t, WithPlatform(np2))
	assert.Equal(t, "+14155550100", s2.RegisteredNumber(), "the native copy, when the Store has none")

	np3 := newNativePlat()
	np3.numberErr = fmt.Errorf("platform: android storeRegisteredNumber: %w", platform.ErrNativeFailed)
	s3, _ := newSDK(t, WithPlatform(np3))
	err = s3.StoreRegisteredNumber(ctx, "1002")
	assert.ErrorIs(t, err, ErrUnknown)
	assert.ErrorIs(t, err, platform.ErrNativeFailed)
	assert.Equal(t, "1002", s3.RegisteredNumber(), "the Store still has it")

	np4 := newNativePlat()
	np4.numberErr = fmt.Errorf("no bridge: %w", platform.ErrUnsupported)
	s4, _ := newSDK(t, WithPlatform(np4))
	assert.NoError(t, s4.StoreRegisteredNumber(ctx, "1002"))

	np5 := newNativePlat()
	np5.numberErr = fmt.Errorf("denied: %w", platform.ErrPermission)
	s5, _ := newSDK(t, WithPlatform(np5))
	assert.ErrorIs(t, s5.StoreRegisteredNumber(ctx, "1002"), ErrPermissionDenied)
}

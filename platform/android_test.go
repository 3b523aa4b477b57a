//go:build android

package platform

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/internal/testlog"
)

// These run as GOOS=android (make android-gocheck runs them under qemu),
// with a fake Java side.

// fakeJava is a javaBridge: each call is recorded as "name(args)" and
// answered by answer (nil: "" and no error). Requests (permissions, FCM
// token) are sent on requests with their code, for the test to answer
// through the inbox.
type fakeJava struct {
	mu       sync.Mutex
	calls    []string
	answer   func(name string) (string, error)
	granted  bool
	requests chan fakeRequest
}

type fakeRequest struct {
	name string
	code int32
}

func newFakeJava() *fakeJava { return &fakeJava{requests: make(chan fakeRequest, 16)} }

func (f *fakeJava) record(name string, args ...any) (string, error) {
	f.mu.Lock()
	f.calls = append(f.calls, fmt.Sprintf("%s%q", name, args))
	answer := f.answer
	f.mu.Unlock()
	if answer == nil {
		return "", nil
	}
	return answer(name)
}

func (f *fakeJava) setAnswer(a func(name string) (string, error)) {
	f.mu.Lock()
	f.answer = a
	f.mu.Unlock()
}

func (f *fakeJava) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeJava) checkPermissions() (bool, error) {
	_, err := f.record("checkPermissions")
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.granted, err
}

func (f *fakeJava) request(name string, code int32) error {
	if _, err := f.record(name); err != nil {
		return err
	}
	f.requests <- fakeRequest{name, code}
	return nil
}

func (f *fakeJava) requestPermissions(code int32) error { return f.request("requestPermissions", code) }
func (f *fakeJava) requestFcmToken(code int32) error    { return f.request("requestFcmToken", code) }
func (f *fakeJava) startCallService(callID, remote string) (string, error) {
	return f.record("startCallService", callID, remote)
}
func (f *fakeJava) stopCallService() (string, error) { return f.record("stopCallService") }
func (f *fakeJava) showIncomingCall(callID, name, number, typ string) (string, error) {
	return f.record("showIncomingCall", callID, name, number, typ)
}
func (f *fakeJava) dismissIncomingCall(callID string) error {
	res, err := f.record("dismissIncomingCall", callID)
	return bridgeResult("dismissIncomingCall", res, err)
}
func (f *fakeJava) setAudioRoute(route string) (string, error) {
	return f.record("setAudioRoute", route)
}
func (f *fakeJava) takePendingIncomingCall() (string, error) {
	return f.record("takePendingIncomingCall")
}
func (f *fakeJava) takePendingCallAction() (string, error) { return f.record("takePendingCallAction") }
func (f *fakeJava) storeRegisteredNumber(n string) (string, error) {
	return f.record("storeRegisteredNumber", n)
}
func (f *fakeJava) registeredNumber() (string, error) { return f.record("registeredNumber") }

// newTestAndroid returns an android platform over fake Java with its own
// inbox (not the process's), and that inbox.
func newTestAndroid(t *testing.T, f *fakeJava, opts ...Option) (*android, *nativeInbox) {
	t.Helper()
	in := newNativeInbox()
	cfg := newConfig(opts)
	if f == nil {
		return newAndroid(cfg, nil, errNoJVM, in), in
	}
	return newAndroid(cfg, f, nil, in), in
}

// takeRequest returns the next request the fake Java was sent.
func takeRequest(t *testing.T, f *fakeJava) fakeRequest {
	t.Helper()
	select {
	case r := <-f.requests:
		return r
	case <-time.After(5 * time.Second):
		require.FailNow(t, "no request reached Java")
	}
	return fakeRequest{}
}

// New on Android without WithAndroidNative: everything native says what is
// missing, wrapping ErrUnsupported; the app's own screen still works.
func TestAndroidWithoutNative(t *testing.T) {
	ctx := context.Background()
	p := New()
	a, ok := p.(*android)
	require.True(t, ok, "New returned %T", p)
	assert.Equal(t, "android", a.Name())

	checks := []struct {
		name string
		err  error
	}{
		{"CheckPermissions", func() error { _, err := a.CheckPermissions(ctx); return err }()},
		{"RequestPermissions", func() error { _, err := a.RequestPermissions(ctx); return err }()},
		{"PushToken", func() error { _, err := a.PushToken(ctx, TokenFCM); return err }()},
		{"ShowIncomingCall", a.ShowIncomingCall(ctx, IncomingCall{CallID: "c1"})},
		{"StartForegroundService", a.StartForegroundService(ctx, "t")},
		{"StopForegroundService", a.StopForegroundService(ctx)},
		{"SetAudioRoute", a.SetAudioRoute(ctx, RouteSpeaker)},
		{"TakePendingIncomingCall", func() error { _, err := a.TakePendingIncomingCall(ctx); return err }()},
		{"TakePendingCallAction", func() error { _, _, err := a.TakePendingCallAction(ctx); return err }()},
		{"StoreRegisteredNumber", a.StoreRegisteredNumber(ctx, "1001")},
		{"RegisteredNumber", func() error { _, err := a.RegisteredNumber(ctx); return err }()},
	}
	for _, c := range checks {
		require.Error(t, c.err, c.name)
		assert.ErrorIs(t, c.err, ErrUnsupported, c.name)
		assert.Contains(t, c.err.Error(), "WithAndroidNative", c.name)
	}
	tok, err := a.PushToken(ctx, TokenVoIP)
	assert.NoError(t, err)
	assert.Empty(t, tok)
	assert.NoError(t, a.DismissIncomingCall(ctx, "c1"))

	// With the runner but no cgo (this test's build), it says that instead.
	if b, why := newJNIBridge(func(func(vm, env, ctx uintptr) error) error { return nil }); b == nil {
		assert.ErrorIs(t, why, ErrUnsupported)
		assert.Contains(t, why.Error(), "cgo")
	}

	// The in-app path works without the bridge, notifier included.
	ui := newFakeUI()
	a2, _ := newTestAndroid(t, nil, WithIncomingUI(ui.show), WithNotifier(ui.notify))
	require.NoError(t, a2.ShowIncomingCall(ctx, IncomingCall{CallID: "c1", CallerName: "Ann"}))
	assert.Len(t, ui.shown, 1)
	assert.Equal(t, []string{"Incoming call: Ann"}, ui.notified)
	var routed []Route
	a3, _ := newTestAndroid(t, nil, WithRouteHandler(func(r Route) error { routed = append(routed, r); return nil }))
	require.NoError(t, a3.SetAudioRoute(ctx, RouteSpeaker))
	assert.Equal(t, []Route{RouteSpeaker}, routed)
}

// Each bridge call: what Java is given, and how each kind of answer comes
// back (typed, quoted short).
func TestAndroidCallsAndResults(t *testing.T) {
	ctx := context.Background()
	kinds := []struct {
		res  string
		err  error
		want error
	}{
		{"", nil, nil},
		{"permission: POST_NOTIFICATIONS denied", nil, ErrPermission},
		{"not_allowed: ForegroundServiceStartNotAllowedException: " + strings.Repeat("x", 300), nil, ErrNotAllowed},
		{"unsupported: API 24", nil, ErrUnsupported},
		{"invalid: bad route", nil, ErrInvalid},
		{"failed: java.lang.RuntimeException", nil, ErrNativeFailed},
		{"gibberish \xff", nil, ErrNativeFailed},
		{"", javaFailure("x", "java.lang.NoSuchMethodError: startCallService"), ErrNativeFailed},
	}
	ops := []struct {
		name   string
		method string // the bridge method the answer is for
		call   func(a *android) error
		want   string // how Java was called
	}{
		{"StartForegroundService", "startCallService",
			func(a *android) error { return a.StartForegroundService(ctx, "OneCxi call") }, `startCallService["ongoing" "OneCxi call"]`},
		{"StopForegroundService", "stopCallService",
			func(a *android) error { return a.StopForegroundService(ctx) }, `stopCallService[]`},
		{"SetAudioRoute speaker", "setAudioRoute",
			func(a *android) error { return a.SetAudioRoute(ctx, RouteSpeaker) }, `setAudioRoute["speaker"]`},
		{"SetAudioRoute earpiece", "setAudioRoute",
			func(a *android) error { return a.SetAudioRoute(ctx, RouteEarpiece) }, `setAudioRoute["earpiece"]`},
		{"StoreRegisteredNumber", "storeRegisteredNumber",
			func(a *android) error { return a.StoreRegisteredNumber(ctx, "+14155550100") }, `storeRegisteredNumber["+14155550100"]`},
		{"ShowIncomingCall", "showIncomingCall",
			func(a *android) error {
				return a.ShowIncomingCall(ctx, IncomingCall{CallID: "c1", CallerName: "Zoë 📞", Handle: "1001", CallType: "APPTOAPP"})
			}, `showIncomingCall["c1" "Zoë 📞" "1001" "APPTOAPP"]`},
		{"DismissIncomingCall", "dismissIncomingCall",
			func(a *android) error { return a.DismissIncomingCall(ctx, "c1") }, `dismissIncomingCall["c1"]`},
	}
	for _, op := range ops {
		for _, k := range kinds {
			t.Run(fmt.Sprintf("%s/%.20s", op.name, k.res+fmt.Sprint(k.err)), func(t *testing.T) {
				f := newFakeJava()
				f.setAnswer(func(name string) (string, error) {
					if name == op.method {
						return k.res, k.err
					}
					return "", nil
				})
				a, _ := newTestAndroid(t, f)
				err := op.call(a)
				assert.Equal(t, []string{op.want}, f.recorded())
				if k.want == nil {
					assert.NoError(t, err)
					return
				}
				require.Error(t, err)
				assert.ErrorIs(t, err, k.want)
				assert.Less(t, len(err.Error()), 160, "quoted short: %q", err.Error())
			})
		}
	}
}

func TestAndroidAudioRoute(t *testing.T) {
	ctx := context.Background()
	f := newFakeJava()
	handled := 0
	a, _ := newTestAndroid(t, f, WithRouteHandler(func(Route) error { handled++; return nil }))
	require.NoError(t, a.SetAudioRoute(ctx, RouteSpeaker))
	assert.Equal(t, RouteSpeaker, a.currentRoute())
	assert.Zero(t, handled, "with the bridge the OS route counts, not the handler")

	f.setAnswer(func(string) (string, error) { return "failed: no audio", nil })
	err := a.SetAudioRoute(ctx, RouteEarpiece)
	assert.ErrorIs(t, err, ErrNativeFailed)
	assert.Contains(t, err.Error(), "switching audio to earpiece")
	assert.Equal(t, RouteSpeaker, a.currentRoute(), "a failed switch keeps the route")

	assert.ErrorIs(t, a.SetAudioRoute(ctx, Route(7)), ErrInvalid)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, a.SetAudioRoute(cctx, RouteSpeaker), context.Canceled)
	assert.Len(t, f.recorded(), 2, "invalid and cancelled switches never reach Java")
}

func TestAndroidCheckPermissions(t *testing.T) {
	ctx := context.Background()
	f := newFakeJava()
	a, _ := newTestAndroid(t, f)
	ok, err := a.CheckPermissions(ctx)
	require.NoError(t, err)
	assert.False(t, ok)
	f.granted = true
	ok, err = a.CheckPermissions(ctx)
	require.NoError(t, err)
	assert.True(t, ok)
	f.setAnswer(func(string) (string, error) {
		return "", javaFailure("checkPermissions", "java.lang.SecurityException")
	})
	_, err = a.CheckPermissions(ctx)
	assert.ErrorIs(t, err, ErrNativeFailed)
}

// RequestPermissions waits for Java's answer with its request code; an
// answer for another code does not end the wait; ctx ends it, and the late
// answer is dropped.
func TestAndroidRequestPermissions(t *testing.T) {
	ctx := context.Background()
	for _, granted := range []bool{true, false} {
		f := newFakeJava()
		a, in := newTestAndroid(t, f)
		type result struct {
			ok  bool
			err error
		}
		done := make(chan result, 1)
		go func() {
			ok, err := a.RequestPermissions(ctx)
			done <- result{ok, err}
		}()
		req := takeRequest(t, f)
		assert.Equal(t, "requestPermissions", req.name)
		in.permissionsResult(req.code+1, !granted) // someone else's
		select {
		case r := <-done:
			t.Fatalf("returned on another request's answer: %+v", r)
		case <-time.After(20 * time.Millisecond):
		}
		in.permissionsResult(req.code, granted)
		r := <-done
		require.NoError(t, r.err)
		assert.Equal(t, granted, r.ok)
	}

	f := newFakeJava()
	var logs testlog.Buffer
	a, in := newTestAndroid(t, f, WithLogger(logs.Logger()))
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := a.RequestPermissions(cctx)
		done <- err
	}()
	req := takeRequest(t, f)
	cancel()
	err := <-done
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "permission request")
	in.permissionsResult(req.code, true) // late
	assert.Contains(t, logs.String(), "nobody waits")

	// Java failing to ask is returned at once.
	f.setAnswer(func(string) (string, error) { return "", javaFailure("requestPermissions", "no activity") })
	_, err = a.RequestPermissions(ctx)
	assert.ErrorIs(t, err, ErrNativeFailed)
	assert.Empty(t, in.waiting, "a failed request leaves no code waiting")
}

func TestAndroidPushToken(t *testing.T) {
	ctx := context.Background()
	good := "dXNlcg:APA91bH" + strings.Repeat("k", 150)
	tests := []struct {
		name    string
		token   javaText
		errText javaText
		want    error // nil: the token
	}{
		{"token", javaText{s: good}, javaText{}, nil},
		{"java error", javaText{}, javaText{s: "failed: java.io.IOException: SERVICE_NOT_AVAILABLE"}, ErrNativeFailed},
		{"unsupported", javaText{}, javaText{s: "unsupported: no Google Play services"}, ErrUnsupported},
		{"error wins over token", javaText{s: good}, javaText{s: "failed: x"}, ErrNativeFailed},
		{"no token no error", javaText{}, javaText{}, ErrNativeFailed},
		{"hostile token", javaText{s: "tok\x00en"}, javaText{}, ErrInvalid},
		{"token with U+FFFD", fromJava([]uint16{'a', 0xD800}, 2), javaText{}, ErrInvalid},
		{"cut token", javaText{s: good, cut: true}, javaText{}, ErrInvalid},
		{"long error", javaText{}, javaText{s: "failed: " + strings.Repeat("e", 10000), cut: true}, ErrNativeFailed},
	}
	for _, tt := range tests {
		f := newFakeJava()
		a, in := newTestAndroid(t, f)
		done := make(chan struct{})
		var tok string
		var err error
		go func() {
			defer close(done)
			tok, err = a.PushToken(ctx, TokenFCM)
		}()
		req := takeRequest(t, f)
		assert.Equal(t, "requestFcmToken", req.name)
		in.fcmToken(req.code, tt.token, tt.errText)
		<-done
		if tt.want == nil {
			assert.NoError(t, err, tt.name)
			assert.Equal(t, good, tok, tt.name)
			continue
		}
		assert.ErrorIs(t, err, tt.want, tt.name)
		assert.Empty(t, tok, tt.name)
		assert.Less(t, len(err.Error()), 160, tt.name)
	}

	// VoIP is iOS's: no question to Java.
	f := newFakeJava()
	a, _ := newTestAndroid(t, f)
	tok, err := a.PushToken(ctx, TokenVoIP)
	assert.NoError(t, err)
	assert.Empty(t, tok)
	assert.Empty(t, f.recorded())

	// ctx ends the wait.
	cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	_, err = a.PushToken(cctx, TokenFCM)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// The incoming call: Java's notification and the app's screen; a failed
// notification is enough with the screen, an error without it.
func TestAndroidShowIncomingCall(t *testing.T) {
	ctx := context.Background()
	call := IncomingCall{CallID: "c1", CallerName: "Ann", Handle: "1001", CallType: "APPTOAPP"}

	f := newFakeJava()
	ui := newFakeUI()
	a, _ := newTestAndroid(t, f, WithIncomingUI(ui.show), WithNotifier(ui.notify))
	require.NoError(t, a.ShowIncomingCall(ctx, call))
	assert.Equal(t, []IncomingCall{call}, ui.shown)
	assert.Empty(t, ui.notified, "Java's notification replaces WithNotifier's")
	assert.True(t, a.calls.isShowing("c1"))

	f.setAnswer(func(string) (string, error) { return "not_allowed: full-screen intents are off", nil })
	require.NoError(t, a.ShowIncomingCall(ctx, IncomingCall{CallID: "c2"}), "the app's screen shows it")
	assert.Len(t, ui.shown, 2)

	f2 := newFakeJava()
	f2.setAnswer(func(string) (string, error) { return "permission: POST_NOTIFICATIONS", nil })
	b, _ := newTestAndroid(t, f2)
	err := b.ShowIncomingCall(ctx, call)
	assert.ErrorIs(t, err, ErrPermission)
	assert.False(t, b.calls.isShowing("c1"), "a call not shown is not showing")

	f2.setAnswer(nil)
	require.NoError(t, b.ShowIncomingCall(ctx, call), "Java's notification alone")
	assert.ErrorIs(t, b.ShowIncomingCall(ctx, IncomingCall{}), errNoCallID)
	assert.Len(t, f2.recorded(), 2, "a call without an ID never reaches Java")
}

// Java's events reach the SDK's handlers in order: pushes, new tokens,
// the notifications' accept, decline and hang-up.
func TestAndroidEvents(t *testing.T) {
	ctx := context.Background()
	f := newFakeJava()
	a, in := newTestAndroid(t, f)

	// Nothing set yet: Java is told to keep the push and the action.
	assert.False(t, in.incomingPush(javaText{s: `{"callFrom":"1001"}`}))
	assert.False(t, in.callAction(javaText{s: "c1"}, javaText{s: "accept"}))

	type ev struct {
		kind string
		v    any
	}
	got := make(chan ev, 16)
	a.SetPushHandlers(PushHandlers{
		Incoming:     func(d map[string]any) { got <- ev{"push", d["callFrom"]} },
		TokenChanged: func(k TokenKind, tok string) { got <- ev{"token", k.String() + " " + tok} },
	})
	a.SetCallActionHandler(func(c CallAction) { got <- ev{"action", c} })
	require.NoError(t, a.ShowIncomingCall(ctx, IncomingCall{CallID: "c1"}))
	require.NoError(t, a.ShowIncomingCall(ctx, IncomingCall{CallID: "c2"}))

	assert.True(t, in.incomingPush(javaText{s: `{"callFrom":"1001"}`}))
	in.tokenRefreshed(javaText{s: "newtoken"})
	assert.True(t, in.callAction(javaText{s: "c1"}, javaText{s: "accept"}))
	assert.True(t, in.callAction(javaText{s: "c1"}, javaText{s: "decline"})) // c1 answered: dropped
	assert.True(t, in.callAction(javaText{s: "c2"}, javaText{s: "decline"}))
	assert.True(t, in.callAction(javaText{s: "c9"}, javaText{s: "accept"})) // never shown: dropped
	assert.True(t, in.callAction(javaText{s: ""}, javaText{s: "hangup"}))

	want := []ev{
		{"push", "1001"},
		{"token", "fcm newtoken"},
		{"action", CallAction{Action: ActionAccept, CallID: "c1"}},
		{"action", CallAction{Action: ActionDecline, CallID: "c2"}},
		{"action", CallAction{Action: ActionHangup, CallID: ""}},
	}
	for i, w := range want {
		select {
		case g := <-got:
			assert.Equal(t, w, g, "event %d", i)
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d (%v) missing", i, w)
		}
	}
	select {
	case g := <-got:
		t.Fatalf("an extra event: %v", g)
	case <-time.After(50 * time.Millisecond):
	}

	// Handlers removed (the SDK disposed): Java keeps what comes.
	a.SetPushHandlers(PushHandlers{})
	a.SetCallActionHandler(nil)
	assert.False(t, in.incomingPush(javaText{s: `{}`}))
	assert.False(t, in.callAction(javaText{s: "c1"}, javaText{s: "hangup"}))
}

// The responder the app's screen gets refuses a hang-up: only accept and
// decline answer a call.
func TestAndroidScreenCannotHangUp(t *testing.T) {
	ctx := context.Background()
	ui := newFakeUI()
	a, _ := newTestAndroid(t, newFakeJava(), WithIncomingUI(ui.show))
	var log actionLog
	a.SetCallActionHandler(log.handle)
	require.NoError(t, a.ShowIncomingCall(ctx, IncomingCall{CallID: "c1"}))
	ui.tap(t, "c1", ActionHangup)
	assert.Empty(t, log.actions())
	ui.tap(t, "c1", ActionDecline)
	assert.Equal(t, []CallAction{{Action: ActionDecline, CallID: "c1"}}, log.actions())
}

// Kill-state recovery: what Java stored, checked like everything from Java.
func TestAndroidKillState(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		stored  string
		javaErr error
		wantNil bool
		wantErr error
	}{
		{"none", "", nil, true, nil},
		{"payload", `{"callFrom":"1001","callTo":"1002","callType":"APPTOAPP","registeredNumber":"1002","callId":"c1"}`, nil, false, nil},
		{"bad json", `{"callFrom":`, nil, true, ErrInvalid},
		{"not an object", `["x"]`, nil, true, ErrInvalid},
		{"exception", "", javaFailure("takePendingIncomingCall", "java.lang.ClassCastException"), true, ErrNativeFailed},
	}
	for _, tt := range tests {
		f := newFakeJava()
		f.setAnswer(func(string) (string, error) { return tt.stored, tt.javaErr })
		a, _ := newTestAndroid(t, f)
		data, err := a.TakePendingIncomingCall(ctx)
		if tt.wantErr != nil {
			assert.ErrorIs(t, err, tt.wantErr, tt.name)
		} else {
			assert.NoError(t, err, tt.name)
		}
		assert.Equal(t, tt.wantNil, data == nil, tt.name)
		if !tt.wantNil {
			assert.Equal(t, "c1", data["callId"])
		}
	}

	actions := []struct {
		stored string
		want   CallAction
		ok     bool
		err    error
	}{
		{"", CallAction{}, false, nil},
		{"accept c1", CallAction{Action: ActionAccept, CallID: "c1"}, true, nil},
		{"decline c1", CallAction{Action: ActionDecline, CallID: "c1"}, true, nil},
		{"hangup c1", CallAction{}, false, ErrInvalid},
		{"nonsense", CallAction{}, false, ErrInvalid},
	}
	for _, tt := range actions {
		f := newFakeJava()
		f.setAnswer(func(string) (string, error) { return tt.stored, nil })
		a, _ := newTestAndroid(t, f)
		got, ok, err := a.TakePendingCallAction(ctx)
		assert.Equal(t, tt.want, got, tt.stored)
		assert.Equal(t, tt.ok, ok, tt.stored)
		if tt.err != nil {
			assert.ErrorIs(t, err, tt.err, tt.stored)
		} else {
			assert.NoError(t, err, tt.stored)
		}
	}

	numbers := []struct {
		stored string
		err    error
	}{
		{"", nil},
		{"+14155550100", nil},
		{"1002", nil},
		{"not a number", ErrInvalid},
		{strings.Repeat("9", 500), ErrInvalid},
	}
	for _, tt := range numbers {
		f := newFakeJava()
		f.setAnswer(func(string) (string, error) { return tt.stored, nil })
		a, _ := newTestAndroid(t, f)
		n, err := a.RegisteredNumber(ctx)
		if tt.err != nil {
			assert.ErrorIs(t, err, tt.err, "%.20q", tt.stored)
			assert.Empty(t, n)
			assert.Less(t, len(err.Error()), 160)
			continue
		}
		assert.NoError(t, err)
		assert.Equal(t, tt.stored, n)
	}
}

// A platform made with the bridge becomes the process inbox's receiver.
func TestAndroidInstallsItself(t *testing.T) {
	in := newNativeInbox()
	a := newAndroid(newConfig(nil), newFakeJava(), nil, in)
	in.mu.Lock()
	r := in.receiver
	in.mu.Unlock()
	assert.Same(t, a, r.(*android))

	in2 := newNativeInbox()
	newAndroid(newConfig(nil), nil, errNoJVM, in2)
	assert.Nil(t, in2.receiver, "without a bridge it receives nothing")
}

// A cancelled ctx stops every call before Java.
func TestAndroidCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := newFakeJava()
	a, _ := newTestAndroid(t, f)
	for name, err := range map[string]error{
		"check":   func() error { _, err := a.CheckPermissions(ctx); return err }(),
		"request": func() error { _, err := a.RequestPermissions(ctx); return err }(),
		"token":   func() error { _, err := a.PushToken(ctx, TokenFCM); return err }(),
		"show":    a.ShowIncomingCall(ctx, IncomingCall{CallID: "c"}),
		"start":   a.StartForegroundService(ctx, "t"),
		"stop":    a.StopForegroundService(ctx),
		"take":    func() error { _, err := a.TakePendingIncomingCall(ctx); return err }(),
		"action":  func() error { _, _, err := a.TakePendingCallAction(ctx); return err }(),
		"store":   a.StoreRegisteredNumber(ctx, "1"),
		"number":  func() error { _, err := a.RegisteredNumber(ctx); return err }(),
	} {
		assert.True(t, errors.Is(err, context.Canceled), "%s: %v", name, err)
	}
	assert.Empty(t, f.recorded())
}

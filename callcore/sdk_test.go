package callcore

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/wire"
)

// testEnv is an SDK wired to a fake server and a headless platform.
type testEnv struct {
	sdk  *SDK
	fs   *fakeServer
	plat *platform.Headless
	rec  *recorder
}

// newSDK returns an SDK on a headless platform with a silent audio device,
// disposed when the test ends.
func newSDK(t *testing.T, opts ...Option) (*SDK, *platform.Headless) {
	t.Helper()
	plat := platform.NewHeadless()
	base := []Option{
		WithPlatform(plat),
		WithAudioDevice(func() (audio.Device, error) { return audio.NewNullDevice(), nil }),
		WithLogger(discardLogger()),
	}
	s := New(append(base, opts...)...)
	t.Cleanup(s.Dispose)
	return s, plat
}

// newEnv returns an initialized SDK talking to a fresh fake server.
func newEnv(t *testing.T, opts ...Option) *testEnv {
	t.Helper()
	fs := newFakeServer(t)
	s, plat := newSDK(t, opts...)
	rec := &recorder{}
	s.SetCallProgressCallback(rec)
	require.NoError(t, s.Initialize(ctxT(t), testAccount, testAPIKey, fs.URL()))
	return &testEnv{sdk: s, fs: fs, plat: plat, rec: rec}
}

func TestMethodsNeedInitialize(t *testing.T) {
	s, _ := newSDK(t)
	ctx := ctxT(t)
	calls := map[string]func() error{
		"StartInBoundCall":          func() error { return s.StartInBoundCall(ctx, "90050", "9876543210") },
		"StartOutBoundCall":         func() error { return s.StartOutBoundCall(ctx, "1234567890", "9876543210") },
		"StartAppToAppInboundCall":  func() error { return s.StartAppToAppInboundCall(ctx, "1002", "1001") },
		"StartAppToAppOutboundCall": func() error { return s.StartAppToAppOutboundCall(ctx, "1001", "1002", "1001") },
		"EndCall":                   func() error { return s.EndCall(ctx) },
		"MuteCall":                  func() error { return s.MuteCall(ctx, true) },
		"HoldCall":                  func() error { return s.HoldCall(ctx, true) },
		"SetSpeaker":                func() error { return s.SetSpeaker(ctx, true) },
		"SendDTMF":                  func() error { return s.SendDTMF("1") },
		"RefreshCallStatus":         func() error { return s.RefreshCallStatus(ctx) },
		"AcceptIncomingCall":        func() error { return s.AcceptIncomingCall(ctx, "c_1") },
		"DeclineIncomingCall":       func() error { return s.DeclineIncomingCall(ctx, "c_1") },
		"ListenForIncomingCalls":    func() error { return s.ListenForIncomingCalls(ctx, "1001") },
		// Guard order: notInitialized comes before invalidInput.
		"StartInBoundCall empty": func() error { return s.StartInBoundCall(ctx, "", "") },
		"SendDTMF invalid":       func() error { return s.SendDTMF("x") },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrNotInitialized)
			assert.Equal(t, ErrNotInitialized, KindOf(err))
		})
	}
	assert.False(t, s.IsInitialized())
	assert.False(t, s.IsCallActive())
	assert.Equal(t, CallStatus{}, s.GetCallStatus())
}

func TestLocalMethodsWorkBeforeInitialize(t *testing.T) {
	// A push can wake an app that has not initialized yet (guide section 9).
	s, plat := newSDK(t)
	ctx := ctxT(t)
	name, err := s.GetPlatform(ctx)
	require.NoError(t, err)
	assert.Equal(t, "headless", name)
	ok, err := s.CheckForPermissions(ctx)
	require.NoError(t, err)
	assert.True(t, ok)
	require.NoError(t, s.StoreRegisteredNumber(ctx, "1002"))
	require.NoError(t, s.HandleIncomingCallWithUI(ctx, freshPush("c_9")))
	assert.Len(t, plat.ShownCalls(), 1)
	pending, err := s.CheckPendingIncomingCall(ctx)
	require.NoError(t, err)
	require.NotNil(t, pending)
	assert.Equal(t, "c_9", pending.CallID)
}

func TestMethodsAfterDispose(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	e.sdk.Dispose()
	e.sdk.Dispose() // twice is fine
	assert.False(t, e.sdk.IsInitialized())
	errs := map[string]error{
		"Initialize":        e.sdk.Initialize(ctx, testAccount, testAPIKey, e.fs.URL()),
		"Start":             e.sdk.StartInBoundCall(ctx, "90050", "1001"),
		"HandleIncoming":    e.sdk.HandleIncomingCallWithUI(ctx, freshPush("c_1")),
		"StoreRegistered":   e.sdk.StoreRegisteredNumber(ctx, "1001"),
		"SendDTMF":          e.sdk.SendDTMF("1"),
		"RefreshCallStatus": e.sdk.RefreshCallStatus(ctx),
	}
	_, errs["RequestPermissions"] = e.sdk.RequestPermissions(ctx)
	_, errs["CheckForPermissions"] = e.sdk.CheckForPermissions(ctx)
	_, errs["GetPlatform"] = e.sdk.GetPlatform(ctx)
	_, errs["GetPlatformToken"] = e.sdk.GetPlatformToken(ctx)
	_, errs["GetVoipToken"] = e.sdk.GetVoipToken(ctx)
	_, errs["GetFcmToken"] = e.sdk.GetFcmToken(ctx)
	_, errs["CheckPendingIncomingCall"] = e.sdk.CheckPendingIncomingCall(ctx)
	_, errs["CheckCallAcceptAction"] = e.sdk.CheckCallAcceptAction(ctx)
	for name, err := range errs {
		assert.ErrorIs(t, err, ErrNotInitialized, name)
	}
}

func TestInitialize(t *testing.T) {
	fs := newFakeServer(t)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeHTTPError(w, http.StatusInternalServerError, wire.CodeInternal, "database down")
	}))
	t.Cleanup(failing.Close)
	notOneCxi := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>hello</html>"))
	}))
	t.Cleanup(notOneCxi.Close)
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsSrv.Close)
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadAddr := l.Addr().String()
	require.NoError(t, l.Close())
	wsURL := "ws" + strings.TrimPrefix(fs.URL(), "http")

	tests := []struct {
		name                 string
		account, key, server string
		kind                 ErrorKind
		code                 wire.Code
	}{
		{"ok", testAccount, testAPIKey, fs.URL(), 0, ""},
		{"ok with ws scheme", testAccount, testAPIKey, wsURL, 0, ""},
		{"ok with trailing slash and spaces", " " + testAccount, testAPIKey + " ", fs.URL() + "/ ", 0, ""},
		{"wrong key", testAccount, "wrong", fs.URL(), ErrInitializationFailed, wire.CodeUnauthorized},
		{"unknown account", "other", testAPIKey, fs.URL(), ErrInitializationFailed, wire.CodeUnauthorized},
		{"server error", testAccount, testAPIKey, failing.URL, ErrInitializationFailed, wire.CodeInternal},
		{"not a OneCxi server", testAccount, testAPIKey, notOneCxi.URL, ErrInitializationFailed, ""},
		{"unreachable", testAccount, testAPIKey, "http://" + deadAddr, ErrWebSocketConnectionFailed, ""},
		{"untrusted TLS", testAccount, testAPIKey, tlsSrv.URL, ErrWebSocketConnectionFailed, ""},
		{"empty account", "", testAPIKey, fs.URL(), ErrInvalidInput, ""},
		{"whitespace key", testAccount, " \t ", fs.URL(), ErrInvalidInput, ""},
		{"empty server", testAccount, testAPIKey, "", ErrInvalidInput, ""},
		{"no scheme", testAccount, testAPIKey, "example.com", ErrInvalidInput, ""},
		{"ftp scheme", testAccount, testAPIKey, "ftp://example.com", ErrInvalidInput, ""},
		{"no host", testAccount, testAPIKey, "https://", ErrInvalidInput, ""},
		{"query", testAccount, testAPIKey, fs.URL() + "?x=1", ErrInvalidInput, ""},
		{"newline in account", "a\nb", testAPIKey, fs.URL(), ErrInvalidInput, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newSDK(t)
			err := s.Initialize(ctxT(t), tt.account, tt.key, tt.server)
			if tt.kind == 0 {
				require.NoError(t, err)
				assert.True(t, s.IsInitialized())
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.kind, KindOf(err), "%v", err)
			assert.Equal(t, tt.code, ServerCode(err))
			assert.False(t, s.IsInitialized())
			assert.NotContains(t, err.Error(), testAPIKey, "the key never appears in errors")
		})
	}
}

func TestInitializeFailureKeepsPreviousCredentials(t *testing.T) {
	e := newEnv(t)
	err := e.sdk.Initialize(ctxT(t), testAccount, "wrong", e.fs.URL())
	assert.ErrorIs(t, err, ErrInitializationFailed)
	assert.True(t, e.sdk.IsInitialized())
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"), "old credentials still work")
	require.NoError(t, e.sdk.EndCall(ctxT(t)))
}

func TestInitializeOverTLSWithClientConfig(t *testing.T) {
	fs := newFakeServer(t)
	tlsSrv := httptest.NewTLSServer(fs.srv.Config.Handler)
	t.Cleanup(tlsSrv.Close)
	s, _ := newSDK(t, WithHTTPClient(tlsSrv.Client()))
	require.NoError(t, s.Initialize(ctxT(t), testAccount, testAPIKey, tlsSrv.URL))
	// The WebSocket uses the same trust: a wss:// call works.
	require.NoError(t, s.StartInBoundCall(ctxT(t), "90050", "1001"))
	require.NoError(t, s.EndCall(ctxT(t)))

	s2, _ := newSDK(t, WithTLSConfig(tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig))
	require.NoError(t, s2.Initialize(ctxT(t), testAccount, testAPIKey, "wss"+strings.TrimPrefix(tlsSrv.URL, "https")))
}

func TestInitializeStoresNamesNeverTheKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sdk.json")
	fs := newFakeServer(t)
	s, _ := newSDK(t, WithStore(NewFileStore(path)))
	require.NoError(t, s.Initialize(ctxT(t), testAccount, testAPIKey, fs.URL()))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), testAccount)
	assert.Contains(t, string(b), fs.URL())
	assert.NotContains(t, string(b), testAPIKey)
}

func TestStartInputValidation(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	long := strings.Repeat("1", wire.MaxNumberLen+1)
	tests := []struct {
		name   string
		start  func() error
		detail string
	}{
		{"inbound empty did", func() error { return e.sdk.StartInBoundCall(ctx, "", "1001") }, "did"},
		{"inbound whitespace did", func() error { return e.sdk.StartInBoundCall(ctx, "   ", "1001") }, "did"},
		{"inbound empty registered", func() error { return e.sdk.StartInBoundCall(ctx, "90050", "\t") }, "registeredNumber"},
		{"inbound letters", func() error { return e.sdk.StartInBoundCall(ctx, "support", "1001") }, "did"},
		{"outbound empty", func() error { return e.sdk.StartOutBoundCall(ctx, "", "1001") }, "userMobile"},
		{"outbound too long", func() error { return e.sdk.StartOutBoundCall(ctx, long, "1001") }, "userMobile"},
		{"outbound bad registered", func() error { return e.sdk.StartOutBoundCall(ctx, "1234", "12-34") }, "registeredNumber"},
		{"app empty", func() error { return e.sdk.StartAppToAppInboundCall(ctx, " ", "1001") }, "inputNumber"},
		{"app self", func() error { return e.sdk.StartAppToAppInboundCall(ctx, "1001", " 1001 ") }, "your own"},
		{"answer empty from", func() error { return e.sdk.StartAppToAppOutboundCall(ctx, "1001", "1002", "") }, "callFromNumber"},
		{"answer self", func() error { return e.sdk.StartAppToAppOutboundCall(ctx, "1002", "1002", "1002") }, "your own"},
		{"answer plus only", func() error { return e.sdk.StartAppToAppOutboundCall(ctx, "+", "1002", "1001") }, "inputNumber"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.start()
			require.Error(t, err)
			assert.Equal(t, ErrInvalidInput, KindOf(err))
			assert.Contains(t, err.Error(), tt.detail)
		})
	}
	assert.Zero(t, e.fs.callCount(), "nothing was dialled")
	assert.False(t, e.sdk.IsCallActive())
}

func TestNoCallInProgressGuards(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	for name, call := range map[string]func() error{
		"EndCall":    func() error { return e.sdk.EndCall(ctx) },
		"MuteCall":   func() error { return e.sdk.MuteCall(ctx, true) },
		"Unmute":     func() error { return e.sdk.MuteCall(ctx, false) },
		"HoldCall":   func() error { return e.sdk.HoldCall(ctx, true) },
		"SetSpeaker": func() error { return e.sdk.SetSpeaker(ctx, true) },
		"SendDTMF":   func() error { return e.sdk.SendDTMF("5") },
	} {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, call(), ErrNoCallInProgress)
		})
	}
	// Refresh without a call just reports the idle status.
	require.NoError(t, e.sdk.RefreshCallStatus(ctx))
	flush(e.sdk)
	assert.Equal(t, []string{"status:idle"}, e.rec.lines())
}

func TestInvalidDTMFDigits(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"))
	for _, d := range []string{"", "12", "A", "a", " ", "**", "٣", "1 2", "+", " 5", "5\n"} {
		err := e.sdk.SendDTMF(d)
		assert.ErrorIs(t, err, ErrInvalidInput, "digit %q", d)
		if err != nil {
			assert.Contains(t, err.Error(), "0-9, * or #")
		}
	}
	for _, d := range []string{"0", "5", "9", "*", "#"} {
		assert.NoError(t, e.sdk.SendDTMF(d), "digit %q", d)
	}
}

func TestPermissionDenied(t *testing.T) {
	e := newEnv(t)
	e.plat.SetPermissions(false)
	ok, err := e.sdk.CheckForPermissions(ctxT(t))
	require.NoError(t, err)
	assert.False(t, ok)
	ok, err = e.sdk.RequestPermissions(ctxT(t))
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, 1, e.plat.PermissionRequests())

	err = e.sdk.StartInBoundCall(ctxT(t), "90050", "1001")
	assert.ErrorIs(t, err, ErrPermissionDenied)
	assert.False(t, e.sdk.IsCallActive())
	assert.Zero(t, e.fs.callCount())
	flush(e.sdk)
	assert.Empty(t, e.rec.lines(), "a refused start fires nothing")

	// Invalid input is checked before permissions.
	assert.ErrorIs(t, e.sdk.StartInBoundCall(ctxT(t), "", "1001"), ErrInvalidInput)

	e.plat.SetPermissions(true)
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"))
	// callInProgress is checked before permissions.
	e.plat.SetPermissions(false)
	assert.ErrorIs(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"), ErrCallInProgress)
}

func TestCallInProgressIsAtomic(t *testing.T) {
	e := newEnv(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.sdk.StartInBoundCall(ctxT(t), "90050", "1001")
		}()
	}
	wg.Wait()
	var won, busy int
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, ErrCallInProgress):
			busy++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	assert.Equal(t, 1, won)
	assert.Equal(t, n-1, busy)
	assert.Equal(t, 1, e.fs.callCount())
	assert.ErrorIs(t, e.sdk.Initialize(ctxT(t), testAccount, testAPIKey, e.fs.URL()), ErrCallInProgress,
		"no re-initialize during a call")
}

func TestTokensAndPlatform(t *testing.T) {
	s, plat := newSDK(t)
	ctx := ctxT(t)
	plat.SetToken(platform.TokenVoIP, "voip-token")
	plat.SetToken(platform.TokenFCM, "fcm-token")
	v, err := s.GetVoipToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, "voip-token", v)
	f, err := s.GetFcmToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, "fcm-token", f)
	p, err := s.GetPlatformToken(ctx)
	require.NoError(t, err)
	assert.Empty(t, p, "desktop and headless ring through the events connection")

	for name, want := range map[string]string{"ios": "voip-token", "android": "fcm-token", "linux": ""} {
		s2, _ := newSDK(t, WithPlatform(namedPlatform{plat, name}))
		got, err := s2.GetPlatformToken(ctx)
		require.NoError(t, err)
		assert.Equal(t, want, got, name)
		n, err := s2.GetPlatform(ctx)
		require.NoError(t, err)
		assert.Equal(t, name, n)
	}

	s3, _ := newSDK(t, WithPlatform(unsupportedTokens{plat}))
	got, err := s3.GetFcmToken(ctx)
	require.NoError(t, err, "unsupported is the guide's null, not an error")
	assert.Empty(t, got)
}

// namedPlatform renames a Headless, to test per-OS token choice.
type namedPlatform struct {
	*platform.Headless
	name string
}

func (p namedPlatform) Name() string { return p.name }

type unsupportedTokens struct{ *platform.Headless }

func (unsupportedTokens) PushToken(context.Context, platform.TokenKind) (string, error) {
	return "", platform.ErrUnsupported
}

func TestStoreRegisteredNumber(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sdk.json")
	s, _ := newSDK(t, WithStore(NewFileStore(path)))
	ctx := ctxT(t)
	assert.Empty(t, s.RegisteredNumber())
	for _, bad := range []string{"", "  ", "abc", "12 34"} {
		assert.ErrorIs(t, s.StoreRegisteredNumber(ctx, bad), ErrInvalidInput, bad)
	}
	require.NoError(t, s.StoreRegisteredNumber(ctx, " +9876543210 "))
	assert.Equal(t, "+9876543210", s.RegisteredNumber())

	later, _ := newSDK(t, WithStore(NewFileStore(path)))
	assert.Equal(t, "+9876543210", later.RegisteredNumber(), "kill-state recovery")
}

func TestDefaultIsASingleton(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	a := Default()
	assert.Same(t, a, Default())
	a.Dispose()
	b := Default()
	assert.NotSame(t, a, b, "a disposed singleton is replaced")
	assert.Same(t, b, Default())
	b.Dispose()
	_, err := a.GetPlatform(context.Background())
	assert.ErrorIs(t, err, ErrNotInitialized)
}

func TestCallbackReplacement(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	require.NoError(t, e.sdk.StartInBoundCall(ctx, "90050", "1001"))
	flush(e.sdk)
	second := &recorder{}
	e.sdk.SetCallProgressCallback(second)
	require.NoError(t, e.sdk.EndCall(ctx))
	flush(e.sdk)
	assert.False(t, e.rec.has("ended:inbound:90050"), "the old callback gets nothing after replacement")
	assert.True(t, second.has("ended:inbound:90050"))

	e.sdk.SetCallProgressCallback(nil)
	require.NoError(t, e.sdk.StartInBoundCall(ctx, "90050", "1001"))
	require.NoError(t, e.sdk.EndCall(ctx))
	flush(e.sdk)
	assert.Len(t, second.lines(), 3, "nil unregisters: ws:false, status:idle, ended only")
}

func TestDisposeEndsTheCallAndReleases(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"))
	fc := e.fs.lastCall(t)

	// A callback blocked in the app (a UI that hangs): Dispose must not wait
	// for it, and the call's end queues behind it.
	blocked, release := make(chan struct{}), make(chan struct{})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseOnce)
	e.sdk.disp.emit(func(CallProgressCallback) { close(blocked); <-release })
	<-blocked

	done := make(chan struct{})
	go func() { e.sdk.Dispose(); close(done) }()
	select {
	case <-done:
	case <-time.After(disposeTimeout - time.Second):
		t.Fatal("Dispose waited for a blocked callback")
	}
	assert.False(t, e.rec.has("ended:inbound:90050"), "queued behind the blocked callback, not delivered by Dispose")

	releaseOnce()
	require.NoError(t, e.sdk.FlushCallbacks(ctxT(t)))
	assert.True(t, e.rec.has("ended:inbound:90050"), "the call's end is delivered after Dispose, by FlushCallbacks")
	waitFor(t, fc.closed, "the server side to close")
	assert.NotEmpty(t, fc.messages(wire.TypeEnd), "the server was told")
	assert.False(t, e.sdk.IsCallActive())
}

func TestCallbacksMayCallBackIntoTheSDK(t *testing.T) {
	e := newEnv(t)
	done := make(chan time.Duration, 1)
	e.sdk.SetCallProgressCallback(CallbackFuncs{
		Started: func(CallType, string, string) {
			_ = e.sdk.EndCall(context.Background()) // from inside a callback
		},
		Ended: func(CallType, string) {
			start := time.Now()
			e.sdk.Dispose() // must not wait for itself
			done <- time.Since(start)
		},
	})
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"))
	select {
	case d := <-done:
		assert.Less(t, d, time.Second)
	case <-time.After(disposeTimeout):
		t.Fatal("the callbacks did not run")
	}
	assert.False(t, e.sdk.IsInitialized())
}

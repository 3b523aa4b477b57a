package callcore

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/wire"
)

// SDK is the OneCxi calling SDK (the guide's OneCxiSdk). Use Default for
// the process-wide instance, or New for an independent one (tests, apps with
// their own platform or audio). All methods are safe for concurrent use.
type SDK struct {
	cfg         config
	log         *slog.Logger
	plat        platform.Platform
	store       Store
	deviceIDMu  sync.Mutex // one install ID, even when first asked for twice at once
	defaultHTTP *http.Client
	disp        *dispatcher

	// bg counts background goroutines other than a call's reader (incoming
	// call actions, DTMF acknowledgements); Dispose waits for them. Add only
	// via goBackground, which refuses once disposed.
	bg sync.WaitGroup

	// mu guards everything below. It is never held while calling the
	// platform, the network, the audio device or the app's callback.
	mu        sync.Mutex
	disposed  bool
	creds     *credentials // nil until Initialize succeeds
	call      *call        // the current call, from Start's reservation to teardown
	status    CallStatus
	lastStats CallStats
	quality   CallQuality // the current or last call's latest sample
	regNumber string
	// pushNumber is the number RegisterDevice was last asked to register
	// (until UnregisterDevice): a new push token registers it again.
	pushNumber string
	seen       map[string]seenCall // incoming calls handled recently, by Key
	listener   *listener
}

var (
	defaultMu  sync.Mutex
	defaultSDK *SDK
)

// Default returns the process-wide SDK (the guide's singleton OneCxiSdk()),
// built on first use with the OS's platform (platform.New()), the system
// audio device and a file store in the user's config directory
// (os.UserConfigDir()/onecxi/sdk.json). After Dispose the next Default call
// builds a fresh instance.
func Default() *SDK {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	if defaultSDK == nil || defaultSDK.isDisposed() {
		opts := []Option{WithPlatform(platform.New())}
		if dir, err := os.UserConfigDir(); err == nil {
			opts = append(opts, WithStore(NewFileStore(filepath.Join(dir, "onecxi", "sdk.json"))))
		}
		defaultSDK = New(opts...)
	}
	return defaultSDK
}

// New returns an independent SDK. Unset options default to platform.New(),
// the system audio device, an in-memory store, a discarding logger and
// wire.DefaultRingTimeout. It registers itself as the platform's call action
// handler: accept and decline from the incoming-call UI arrive at
// AcceptIncomingCall and DeclineIncomingCall, a hang-up from an OS call
// notification at EndCall. On a platform that receives pushes itself
// (platform.PushSource: Android's FCM) it takes those too: an incoming
// push goes to HandleIncomingCallWithUI, a new push token re-registers the
// device (RegisterDevice).
func New(opts ...Option) *SDK {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.platform == nil {
		cfg.platform = platform.New(platform.WithLogger(cfg.logger))
	}
	if cfg.audio == nil {
		cfg.audio = defaultAudioDevice
	}
	if cfg.store == nil {
		cfg.store = NewMemoryStore()
	}
	if cfg.ringTimeout <= 0 {
		cfg.ringTimeout = wire.DefaultRingTimeout
	}
	if cfg.qualityInterval <= 0 {
		cfg.qualityInterval = QualityInterval
	}
	s := &SDK{
		cfg:         cfg,
		log:         cfg.logger,
		plat:        cfg.platform,
		store:       cfg.store,
		defaultHTTP: newDefaultHTTPClient(cfg.tlsConfig),
		disp:        newDispatcher(cfg.logger),
		seen:        make(map[string]seenCall),
	}
	s.plat.SetCallActionHandler(s.onCallAction)
	s.setPushHandlers(platform.PushHandlers{Incoming: s.onIncomingPush, TokenChanged: s.onTokenChanged})
	return s
}

// Initialize checks the credentials with the server and makes the SDK ready
// for calls. serverName is https://host[:port] (as in the guide), http://,
// wss:// or ws://. It may be called again to switch accounts or servers while
// no call is active.
//
// Errors: ErrInvalidInput for an empty or whitespace-only argument or a
// server name of another form; ErrWebSocketConnectionFailed when the server
// cannot be reached (refused, unreachable, TLS failure); ErrInitializationFailed
// when it rejects the credentials (401) or fails otherwise; ErrCallInProgress
// during a call. A failed re-initialization keeps the previous credentials.
func (s *SDK) Initialize(ctx context.Context, accountName, apiKey, serverName string) error {
	if s.isDisposed() {
		return errNotInitialized()
	}
	accountName, apiKey, serverName = strings.TrimSpace(accountName), strings.TrimSpace(apiKey), strings.TrimSpace(serverName)
	for _, f := range []struct{ name, v string }{
		{"accountName", accountName}, {"apiKey", apiKey}, {"serverName", serverName},
	} {
		if f.v == "" {
			return newError(ErrInvalidInput, nil, "%s is empty", f.name)
		}
		if strings.ContainsAny(f.v, "\r\n\x00") {
			return newError(ErrInvalidInput, nil, "%s contains control characters", f.name)
		}
	}
	httpBase, wsBase, err := parseServerName(serverName)
	if err != nil {
		return newError(ErrInvalidInput, nil, "%v", err)
	}
	if s.IsCallActive() {
		return newError(ErrCallInProgress, nil, "cannot re-initialize during a call")
	}
	cr := credentials{account: accountName, apiKey: apiKey, server: serverName, httpBase: httpBase, wsBase: wsBase}
	info, err := s.checkCredentials(ctx, cr)
	if err != nil {
		s.log.Info("callcore: initialize failed", "account", wire.Quote(accountName), "server", wire.Quote(serverName),
			"api_key", wire.Redact(apiKey), "err", err)
		return err
	}
	s.mu.Lock()
	switch {
	case s.disposed:
		s.mu.Unlock()
		return errNotInitialized()
	case s.call != nil:
		s.mu.Unlock()
		return newError(ErrCallInProgress, nil, "cannot re-initialize during a call")
	}
	s.creds = &cr
	s.mu.Unlock()
	s.saveQuietly(storeKeyAccountName, accountName)
	s.saveQuietly(storeKeyServerName, serverName)
	s.log.Info("callcore: initialized", "account", accountName, "server", serverName,
		"server_id", info.Server, "api_key", wire.Redact(apiKey))
	return nil
}

// IsInitialized reports whether Initialize has succeeded (and Dispose has
// not been called).
func (s *SDK) IsInitialized() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creds != nil && !s.disposed
}

// RequestPermissions asks for microphone and notification permission and
// reports whether both are granted. It works before Initialize: apps ask at
// start-up.
func (s *SDK) RequestPermissions(ctx context.Context) (bool, error) {
	if s.isDisposed() {
		return false, errNotInitialized()
	}
	ok, err := s.plat.RequestPermissions(ctx)
	if err != nil {
		return false, platformError(ErrPermissionDenied, err, "requesting permissions")
	}
	return ok, nil
}

// CheckForPermissions reports whether microphone and notification
// permissions are already granted.
func (s *SDK) CheckForPermissions(ctx context.Context) (bool, error) {
	if s.isDisposed() {
		return false, errNotInitialized()
	}
	ok, err := s.plat.CheckPermissions(ctx)
	if err != nil {
		return false, platformError(ErrPermissionDenied, err, "checking permissions")
	}
	return ok, nil
}

// SetCallProgressCallback registers cb, replacing the previous one; nil
// unregisters. Events not yet delivered go to the callback registered when
// they are delivered. Register early: events with no callback are dropped.
func (s *SDK) SetCallProgressCallback(cb CallProgressCallback) { s.disp.set(cb) }

// FlushCallbacks waits until every callback queued so far has returned (an
// extension: callbacks are asynchronous, so after MuteCall returns its
// onCallStatusChanged may still be on its way, and after Dispose the call's
// onCallEnded may be). Tests and CLIs use it, and apps that need the last
// events delivered call it after Dispose. ctx bounds the wait: FlushCallbacks
// returns ctx's error if ctx ends first.
//
// It must not be called from inside a callback: the callback it would be
// called from is one of those it waits for, so there it returns only when ctx
// ends, with ctx's error.
func (s *SDK) FlushCallbacks(ctx context.Context) error {
	select {
	case <-s.disp.drained():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// GetCallStatus returns a snapshot of the call state.
func (s *SDK) GetCallStatus() CallStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// IsCallActive reports whether a call is connecting, ringing or active.
func (s *SDK) IsCallActive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.call != nil
}

// IsMuted reports whether the microphone is muted.
func (s *SDK) IsMuted() bool { return s.GetCallStatus().IsMuted }

// IsOnHold reports whether this side holds the call.
func (s *SDK) IsOnHold() bool { return s.GetCallStatus().IsOnHold }

// IsSpeakerOn reports whether audio goes to the loudspeaker.
func (s *SDK) IsSpeakerOn() bool { return s.GetCallStatus().IsSpeakerOn }

// disposeTimeout bounds how long Dispose waits for the call to end.
const disposeTimeout = 5 * time.Second

// Dispose ends any call, stops the incoming-call listener, waits for the
// SDK's own background work and releases the SDK. Afterwards every method
// returns ErrNotInitialized (Default builds a new instance). Safe to call
// more than once.
//
// Dispose never waits for callback delivery, so it is safe to call from
// inside a callback. The callbacks queued by the time it returns, the call's
// onCallEnded among them, are still delivered, in order, on the dispatcher
// goroutine, but Dispose may return before they are; nothing is queued after
// them. A caller that needs them delivered before going on calls
// FlushCallbacks after Dispose (from outside a callback).
func (s *SDK) Dispose() {
	s.mu.Lock()
	if s.disposed {
		s.mu.Unlock()
		return
	}
	s.disposed = true
	c, l := s.call, s.listener
	s.listener = nil
	s.mu.Unlock()

	s.plat.SetCallActionHandler(nil)
	s.setPushHandlers(platform.PushHandlers{})
	ctx, cancel := context.WithTimeout(context.Background(), disposeTimeout)
	defer cancel()
	if c != nil {
		if err := s.endCall(ctx, c, wire.ReasonHangup); err != nil {
			s.log.Warn("callcore: ending the call on dispose", "err", err)
		}
	}
	if l != nil {
		l.stop()
	}
	s.bg.Wait()
	s.disp.close() // what is queued is still delivered, maybe after Dispose returns
	s.defaultHTTP.CloseIdleConnections()
	s.mu.Lock()
	s.creds = nil
	s.mu.Unlock()
}

func (s *SDK) isDisposed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.disposed
}

// initialized returns the credentials or ErrNotInitialized.
func (s *SDK) initialized() (credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.disposed || s.creds == nil {
		return credentials{}, errNotInitialized()
	}
	return *s.creds, nil
}

func errNotInitialized() *Error {
	return newError(ErrNotInitialized, nil, "call Initialize first")
}

// goBackground runs f on a goroutine Dispose waits for, unless the SDK is
// disposed (then f does not run and it reports false).
func (s *SDK) goBackground(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.disposed {
		return false
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		f()
	}()
	return true
}

// emitStatusLocked records st as the status and queues onCallStatusChanged.
// Callers hold s.mu, which fixes the order of events.
func (s *SDK) emitStatusLocked(st CallStatus) {
	s.status = st
	s.disp.emit(func(cb CallProgressCallback) { cb.OnCallStatusChanged(st) })
}

func (s *SDK) emitErrorLocked(err error, t CallType) {
	s.disp.emit(func(cb CallProgressCallback) { cb.OnCallError(err, t) })
}

// emitError queues onCallError from outside the lock.
func (s *SDK) emitError(err error, t CallType) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emitErrorLocked(err, t)
}

// platformError wraps a platform failure: a permission refusal is
// ErrPermissionDenied, anything else kind.
func platformError(kind ErrorKind, err error, what string) *Error {
	if errors.Is(err, platform.ErrPermission) {
		return newError(ErrPermissionDenied, err, "%s", what)
	}
	return newError(kind, err, "%s", what)
}

func (s *SDK) saveQuietly(key, value string) {
	if err := s.store.Save(key, value); err != nil {
		s.log.Warn("callcore: saving to the store", "key", key, "err", err)
	}
}

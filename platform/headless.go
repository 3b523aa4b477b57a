package platform

import (
	"context"
	"log/slog"
	"slices"
	"sync"
)

// Headless is a complete Platform with no UI, for command-line tools,
// server-side tools and tests. It builds on every OS.
//
// Permissions are granted unless set otherwise, push tokens are whatever was
// set with SetToken, and everything the caller does is recorded: the calls
// shown (ShownCalls), the dismissals (Dismissed), the audio route (Route) and
// the foreground service (ForegroundService). Respond plays a user tapping
// accept or decline; WithAutoAnswer answers every call automatically.
// SimulateNetworkChange plays the OS reporting a network change to
// WatchNetwork (NetworkWatcher).
//
// The zero value is not usable; call NewHeadless. A Headless is safe for
// concurrent use.
type Headless struct {
	logger     *slog.Logger
	name       string
	autoAnswer func(IncomingCall) Action
	calls      *callBook

	mu        sync.Mutex
	granted   bool
	requests  int
	tokens    map[TokenKind]string
	shown     []IncomingCall
	dismissed []string
	route     Route
	fgActive  bool
	fgTitle   string
	watchers  map[*int]func() // running WatchNetwork calls (headless_network.go)
}

var _ Platform = (*Headless)(nil)

// HeadlessOption configures NewHeadless.
type HeadlessOption func(*Headless)

// WithAutoAnswer makes the Headless answer every shown call with answer's
// result, as a user would: on its own goroutine, not inside
// ShowIncomingCall, so the answer can race with a dismissal exactly as a
// real tap can.
func WithAutoAnswer(answer func(IncomingCall) Action) HeadlessOption {
	return func(h *Headless) { h.autoAnswer = answer }
}

// WithPermissions sets whether permissions are granted (default true).
func WithPermissions(granted bool) HeadlessOption {
	return func(h *Headless) { h.granted = granted }
}

// WithName makes Name report name ("android", "ios"), so a test can stand
// in for a phone: the SDK chooses push tokens by platform name.
func WithName(name string) HeadlessOption {
	return func(h *Headless) { h.name = name }
}

// WithToken sets the push token of kind, like SetToken.
func WithToken(kind TokenKind, token string) HeadlessOption {
	return func(h *Headless) { h.tokens[kind] = token }
}

// WithHeadlessLogger sets the logger; the default discards everything.
func WithHeadlessLogger(l *slog.Logger) HeadlessOption {
	return func(h *Headless) { h.logger = l }
}

// NewHeadless returns a Headless with permissions granted, no push tokens and
// the earpiece route.
func NewHeadless(opts ...HeadlessOption) *Headless {
	h := &Headless{granted: true, tokens: make(map[TokenKind]string)}
	for _, o := range opts {
		if o != nil {
			o(h)
		}
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	h.calls = newCallBook(h.logger)
	return h
}

// Name returns "headless".
func (h *Headless) Name() string {
	if h.name != "" {
		return h.name
	}
	return "headless"
}

// SetPermissions sets what RequestPermissions and CheckPermissions report.
func (h *Headless) SetPermissions(granted bool) {
	h.mu.Lock()
	h.granted = granted
	h.mu.Unlock()
}

// PermissionRequests is how many times RequestPermissions was called.
func (h *Headless) PermissionRequests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests
}

// RequestPermissions counts the request and reports the permissions set.
func (h *Headless) RequestPermissions(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests++
	return h.granted, nil
}

// CheckPermissions reports the permissions set.
func (h *Headless) CheckPermissions(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.granted, nil
}

// SetToken sets the push token PushToken returns for kind; "" clears it.
func (h *Headless) SetToken(kind TokenKind, token string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if token == "" {
		delete(h.tokens, kind)
		return
	}
	h.tokens[kind] = token
}

// PushToken returns the token set for kind, or "".
func (h *Headless) PushToken(ctx context.Context, kind TokenKind) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.tokens[kind], nil
}

// ShowIncomingCall records the call as shown and, with WithAutoAnswer,
// answers it from another goroutine.
func (h *Headless) ShowIncomingCall(ctx context.Context, call IncomingCall) error {
	if err := checkCall(ctx, call); err != nil {
		return err
	}
	h.mu.Lock()
	h.shown = append(h.shown, call)
	h.mu.Unlock()
	h.calls.show(call)
	if h.autoAnswer != nil {
		go func() { h.calls.respond(call.CallID, h.autoAnswer(call)) }()
	}
	return nil
}

// DismissIncomingCall records the dismissal; a later Respond for the call
// delivers nothing.
func (h *Headless) DismissIncomingCall(ctx context.Context, callID string) error {
	h.mu.Lock()
	h.dismissed = append(h.dismissed, callID)
	h.mu.Unlock()
	h.calls.dismiss(callID)
	return nil
}

// SetCallActionHandler sets the receiver of answers; the latest one wins.
func (h *Headless) SetCallActionHandler(fn func(CallAction)) { h.calls.setHandler(fn) }

// Respond delivers a to the call action handler as if the user had tapped
// it on the incoming-call screen of callID, and reports whether it was
// delivered. It is not delivered when the call is not showing (never shown,
// dismissed, or already answered), when a is not a valid Action, or when no
// handler is set. The handler runs on the caller's goroutine.
func (h *Headless) Respond(callID string, a Action) bool {
	return h.calls.respond(callID, a)
}

// Showing reports whether callID is shown and not yet answered or dismissed.
func (h *Headless) Showing(callID string) bool { return h.calls.isShowing(callID) }

// ShownCalls returns every call ShowIncomingCall accepted, oldest first.
func (h *Headless) ShownCalls() []IncomingCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.shown)
}

// Dismissed returns the call ID of every DismissIncomingCall, oldest first,
// including IDs that were not showing.
func (h *Headless) Dismissed() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.dismissed)
}

// StartForegroundService records the service as running with title.
func (h *Headless) StartForegroundService(ctx context.Context, title string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fgActive, h.fgTitle = true, title
	return nil
}

// StopForegroundService records the service as stopped.
func (h *Headless) StopForegroundService(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fgActive, h.fgTitle = false, ""
	return nil
}

// ForegroundService reports whether the foreground service is running and
// the title it was started with.
func (h *Headless) ForegroundService() (active bool, title string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fgActive, h.fgTitle
}

// SetAudioRoute records r; an unknown route is an error.
func (h *Headless) SetAudioRoute(ctx context.Context, r Route) error {
	if err := setRoute(ctx, nil, r); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.route = r
	return nil
}

// Route returns the last route set (RouteEarpiece before any).
func (h *Headless) Route() Route {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.route
}

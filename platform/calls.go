package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/onecxi/phone/wire"
)

// errNoCallID is returned by ShowIncomingCall for a call without a CallID:
// the ID is how the answer and the dismissal find the call.
var errNoCallID = errors.New("platform: incoming call has no CallID")

// callBook is the bookkeeping every implementation shares: which incoming
// calls are on screen and who receives the user's answers. An answer is
// delivered at most once per shown call (the first one wins) and never for a
// call that was dismissed or never shown. The handler runs without the lock
// held, so it may call back into the platform.
type callBook struct {
	mu      sync.Mutex
	handler func(CallAction)
	showing map[string]IncomingCall
	logger  *slog.Logger
}

func newCallBook(logger *slog.Logger) *callBook {
	return &callBook{showing: make(map[string]IncomingCall), logger: logger}
}

func (b *callBook) setHandler(h func(CallAction)) {
	b.mu.Lock()
	b.handler = h
	b.mu.Unlock()
}

// show records call as on screen and reports whether it is new (false when
// a call with that ID was already showing and has just been updated).
func (b *callBook) show(call IncomingCall) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, had := b.showing[call.CallID]
	b.showing[call.CallID] = call
	return !had
}

// dismiss removes callID and reports whether it was showing.
func (b *callBook) dismiss(callID string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, had := b.showing[callID]
	delete(b.showing, callID)
	return had
}

func (b *callBook) isShowing(callID string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.showing[callID]
	return ok
}

// respond delivers the user's answer a for callID to the handler, taking the
// call off screen, and reports whether it was delivered. Answers for calls
// not showing, invalid actions, and answers while no handler is set are
// dropped (and logged); in the last case the call stays showing.
func (b *callBook) respond(callID string, a Action) bool {
	if !a.valid() {
		b.logger.Warn("platform: dropping invalid call action", "call_id", wire.Quote(callID), "action", a)
		return false
	}
	b.mu.Lock()
	_, ok := b.showing[callID]
	h := b.handler
	if ok && h != nil {
		delete(b.showing, callID)
	}
	b.mu.Unlock()
	switch {
	case !ok:
		b.logger.Debug("platform: ignoring action for a call not showing", "call_id", wire.Quote(callID), "action", a)
		return false
	case h == nil:
		b.logger.Warn("platform: no call action handler set; action dropped", "call_id", wire.Quote(callID), "action", a)
		return false
	}
	h(CallAction{Action: a, CallID: callID})
	return true
}

// inCall delivers an in-call action (ActionHangup, ActionMute, ActionHold,
// ActionDTMF: about the call in progress, not a showing incoming call) to
// the handler and reports whether there was one to deliver it to.
func (b *callBook) inCall(a CallAction) bool {
	b.mu.Lock()
	h := b.handler
	b.mu.Unlock()
	if h == nil {
		b.logger.Warn("platform: no call action handler set; in-call action dropped", "call_id", wire.Quote(a.CallID), "action", a.Action)
		return false
	}
	h(a)
	return true
}

// hasHandler reports whether a call action handler is set.
func (b *callBook) hasHandler() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.handler != nil
}

// responder is the respond function handed to an incoming-call UI.
func (b *callBook) responder(callID string) func(Action) {
	return func(a Action) { b.respond(callID, a) }
}

// checkCall validates what ShowIncomingCall was given.
func checkCall(ctx context.Context, call IncomingCall) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if call.CallID == "" {
		return errNoCallID
	}
	return nil
}

// notificationText is the title and body of an incoming-call notification.
func notificationText(call IncomingCall) (title, body string) {
	title = "Incoming call"
	switch {
	case call.CallerName != "" && call.Handle != "" && call.CallerName != call.Handle: // not "1002 (1002)"
		body = fmt.Sprintf("%s (%s)", call.CallerName, call.Handle)
	case call.CallerName != "":
		body = call.CallerName
	case call.Handle != "":
		body = call.Handle
	default:
		body = "Unknown caller"
	}
	return title, body
}

// setRoute validates r and hands it to h (when set). It is shared by the
// desktop and mobile twins; the caller records r when it returns nil.
func setRoute(ctx context.Context, h func(Route) error, r Route) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !r.valid() {
		return fmt.Errorf("platform: unknown audio route %v: %w", r, ErrInvalid)
	}
	if h == nil {
		return nil
	}
	if err := h(r); err != nil {
		return fmt.Errorf("platform: switching audio to %v: %w", r, err)
	}
	return nil
}

// showInApp shows call on the app's own incoming-call screen (WithIncomingUI)
// and, for a call not already showing, posts a WithNotifier notification;
// without an incoming UI it shows nothing and returns noUI.
func showInApp(cfg config, calls *callBook, call IncomingCall, noUI error) error {
	if cfg.incomingUI == nil {
		return noUI
	}
	isNew := calls.show(call)
	cfg.incomingUI(call, calls.responder(call.CallID))
	if isNew && cfg.notifier != nil {
		title, body := notificationText(call)
		if err := cfg.notifier(title, body); err != nil {
			cfg.logger.Warn("platform: incoming-call notification failed", "call_id", wire.Quote(call.CallID), "err", err)
		}
	}
	return nil
}

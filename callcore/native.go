package callcore

import (
	"context"
	"errors"
	"time"

	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/wire"
)

// What the platform's native side delivers or keeps on its own: pushes and
// new push tokens the OS hands the process (platform.PushSource: Android's
// FCM), and what arrived while the app was not running
// (platform.KillState). The SDK finds both with platform.As, so an app's
// wrapper around its platform stays transparent and callers never ask
// which OS they are on.

// nativeTimeout bounds a question to the platform's native side that has no
// caller's context (RegisteredNumber).
const nativeTimeout = 2 * time.Second

// setPushHandlers connects the platform's pushes to the SDK (New), or
// disconnects them (Dispose: h is zero).
func (s *SDK) setPushHandlers(h platform.PushHandlers) {
	if ps, ok := platform.As[platform.PushSource](s.plat); ok {
		ps.SetPushHandlers(h)
	}
}

// onIncomingPush handles a push the OS handed the process (an FCM data
// message) exactly as HandleIncomingCallWithUI does. The platform calls it
// on its own goroutine, one push at a time and in order, so an "end" never
// overtakes the call it ends; failures are logged, as for the events
// connection's pushes.
func (s *SDK) onIncomingPush(data map[string]any) {
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	if err := s.HandleIncomingCallWithUI(ctx, data); err != nil {
		s.log.Warn("callcore: incoming push not handled", "err", err)
	}
}

// onTokenChanged registers the device again with its new push token, for
// the number RegisterDevice was last asked to register (a registration
// that failed for want of a token included). Before the app has asked for
// one there is nothing to do: RegisterDevice fetches the token itself.
func (s *SDK) onTokenChanged(kind platform.TokenKind, _ string) {
	s.mu.Lock()
	number := s.pushNumber
	ready := s.creds != nil && !s.disposed
	s.mu.Unlock()
	if number == "" || !ready {
		s.log.Info("callcore: the platform issued a new push token; it is registered when the app registers the device", "kind", kind)
		return
	}
	s.goBackground(func() {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		defer cancel()
		if err := s.RegisterDevice(ctx, number); err != nil {
			s.log.Warn("callcore: registering the device with its new push token", "kind", kind, "err", err)
			return
		}
		s.log.Info("callcore: registered the device with its new push token", "kind", kind)
	})
}

// adoptKillState moves what the platform's native side kept while the app
// was not running into the SDK's Store: the incoming call (as the pending
// call) and the user's answer to it (an accept as the accept action; a
// decline is carried out, or without Initialize just recorded). Then
// CheckPendingIncomingCall, CheckCallAcceptAction and AcceptIncomingCall
// see it as if it had arrived while the app ran. Taking clears the native
// side, so this happens once. A platform without a native side has nothing
// to give (ErrUnsupported); other failures are logged, and what the Store
// holds is still answered.
func (s *SDK) adoptKillState(ctx context.Context) {
	ks, ok := platform.As[platform.KillState](s.plat)
	if !ok {
		return
	}
	data, err := ks.TakePendingIncomingCall(ctx)
	switch {
	case errors.Is(err, platform.ErrUnsupported):
		return
	case err != nil:
		s.log.Warn("callcore: taking the incoming call kept on the device", "err", err)
	case data != nil:
		s.adoptPendingCall(data)
	}
	a, found, err := ks.TakePendingCallAction(ctx)
	switch {
	case err != nil:
		s.log.Warn("callcore: taking the call answer kept on the device", "err", err)
	case found:
		s.adoptCallAction(ctx, a)
	}
}

// adoptPendingCall stores a kept push as the pending call: unless it is
// malformed, stale, or a call this process already saw end; an "end" push
// ends the pending call instead. It is not marked seen, so the app can show
// it with HandleIncomingCallWithUI.
func (s *SDK) adoptPendingCall(data map[string]any) {
	d, err := ParseIncomingCall(data)
	if err != nil {
		s.log.Warn("callcore: dropping the incoming call kept on the device", "err", err)
		return
	}
	key, now := d.Key(), time.Now()
	if d.IsEnd() {
		s.markHandled(key)
		s.clearPending(key)
		return
	}
	if d.Stale(now, s.cfg.ringTimeout) {
		s.log.Info("callcore: the incoming call kept on the device has stopped ringing", "call_id", wire.Quote(key))
		return
	}
	s.mu.Lock()
	v, seen := s.seen[key]
	s.mu.Unlock()
	if seen && v.ended {
		return
	}
	s.saveJSON(storeKeyPendingCall, pendingRecord{Call: d, ReceivedAt: now})
	s.log.Info("callcore: an incoming call arrived while the app was not running", "call_id", wire.Quote(key))
}

// adoptCallAction records a kept answer: accept becomes the accept action
// for the pending call it names; decline declines it (telling the server
// when initialized).
func (s *SDK) adoptCallAction(ctx context.Context, a platform.CallAction) {
	switch a.Action {
	case platform.ActionAccept:
		d, ok := s.lookupPending(a.CallID)
		if !ok {
			s.log.Info("callcore: the call accepted while the app was not running is no longer ringing", "call_id", wire.Quote(a.CallID))
			return
		}
		s.saveJSON(storeKeyAcceptAction, acceptRecord{Call: d, AcceptedAt: time.Now()})
	case platform.ActionDecline:
		if _, err := s.initialized(); err == nil {
			if err := s.DeclineIncomingCall(ctx, a.CallID); err != nil {
				s.log.Warn("callcore: declining the call declined while the app was not running", "call_id", wire.Quote(a.CallID), "err", err)
			}
			return
		}
		s.markHandled(a.CallID)
		s.clearPending(a.CallID)
		s.log.Info("callcore: a call was declined while the app was not running; the server is not told before Initialize",
			"call_id", wire.Quote(a.CallID))
	}
}

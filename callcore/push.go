package callcore

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/wire"
)

// seenCall remembers an incoming call the SDK has handled, so a push that
// arrives twice (FCM retries; push and events connection both) shows once.
type seenCall struct {
	at    time.Time
	ended bool
	data  IncomingCallData
}

// pendingRecord is the stored pending incoming call.
type pendingRecord struct {
	Push       wire.PushPayload `json:"push"`
	ReceivedAt time.Time        `json:"receivedAt"`
}

// acceptRecord is the stored accept action.
type acceptRecord struct {
	Push       wire.PushPayload `json:"push"`
	AcceptedAt time.Time        `json:"acceptedAt"`
	Handled    bool             `json:"handled"`
}

// HandleIncomingCallWithUI handles an incoming-call push payload (guide
// section 9): pass FCM's message.data, the VoIP push's payload, or (done for
// you by ListenForIncomingCalls) the events connection's push object.
//
//   - event "end": the call's UI is dismissed and, if it is the current
//     call and the server confirms that call is over, the call is ended
//     (onCallEnded fires). The confirmation is needed because the server
//     also sends "end" to the device that has just answered.
//   - a payload already handled (same callId) or older than the ring timeout
//     is ignored without error.
//   - otherwise the call is stored as pending (CheckPendingIncomingCall) and
//     the platform's incoming-call UI is shown; the user's accept or decline
//     comes back to AcceptIncomingCall or DeclineIncomingCall.
//
// It works before Initialize, because a push can wake an app that has not
// initialized yet; answering needs Initialize. Errors are ErrIncomingCallFailed
// naming the missing or malformed field, or the platform's failure.
func (s *SDK) HandleIncomingCallWithUI(ctx context.Context, payload map[string]any) error {
	if s.isDisposed() {
		return errNotInitialized()
	}
	d, err := ParseIncomingCall(payload)
	if err != nil {
		return err
	}
	return s.handleIncoming(ctx, d)
}

func (s *SDK) handleIncoming(ctx context.Context, d IncomingCallData) error {
	key := d.Key()
	now := time.Now()
	if d.IsEnd() {
		s.mu.Lock()
		s.seen[key] = seenCall{at: now, ended: true, data: d}
		c := s.call
		match := c != nil && d.CallID != "" && (c.serverID == d.CallID || c.p.callID == d.CallID)
		s.mu.Unlock()
		s.clearPending(key)
		if err := s.plat.DismissIncomingCall(ctx, key); err != nil {
			s.log.Debug("callcore: dismissing the incoming call UI", "call_id", key, "err", err)
		}
		if match {
			return s.endCallOnPush(ctx, c, key)
		}
		return nil
	}
	if d.Stale(now, s.cfg.ringTimeout) {
		s.log.Info("callcore: ignoring a stale incoming call", "call_id", key, "age", now.Sub(d.Timestamp))
		return nil
	}
	s.mu.Lock()
	for k, v := range s.seen {
		if now.Sub(v.at) > 2*s.cfg.ringTimeout {
			delete(s.seen, k)
		}
	}
	if _, dup := s.seen[key]; dup {
		s.mu.Unlock()
		s.log.Debug("callcore: ignoring a duplicate incoming call", "call_id", key)
		return nil
	}
	s.seen[key] = seenCall{at: now, data: d}
	s.mu.Unlock()

	s.savePending(d, now)
	err := s.plat.ShowIncomingCall(ctx, platform.IncomingCall{
		CallID:     key,
		UUID:       d.UUID(),
		Handle:     d.CallFrom,
		CallerName: d.CallerName,
		CallType:   d.CallType.PushString(),
	})
	if err != nil {
		s.mu.Lock()
		delete(s.seen, key) // let a redelivery try again
		s.mu.Unlock()
		return platformError(ErrIncomingCallFailed, err, "showing the incoming call UI")
	}
	s.log.Info("callcore: incoming call", "call_id", key, "from", d.CallFrom, "type", d.CallType)
	return nil
}

// endCallOnPush handles a push "end" for the current call. The call socket
// is authoritative: the server ends a call there. A push "end" also arrives
// when this very device answers (the server stops every device of the number
// ringing and cannot tell this device's events connection apart), and a
// delayed FCM push can arrive long after; so the call is ended only when the
// server confirms it is over (status "ended" or call_ended). A call still
// connecting is left to its start reply.
func (s *SDK) endCallOnPush(ctx context.Context, c *call, key string) error {
	s.mu.Lock()
	placed := c.placed
	s.mu.Unlock()
	if !placed {
		return nil
	}
	r, err := c.request(ctx, wire.Message{Type: wire.TypeStatus})
	over := (err == nil && r.State == "ended") || ServerCode(err) == wire.CodeCallEnded
	if !over {
		s.log.Debug("callcore: push end for the current call; the server says it goes on", "call_id", key,
			"state", r.State, "err", err)
		return nil
	}
	s.log.Info("callcore: push ended the current call", "call_id", key)
	if err := s.endCall(ctx, c, wire.ReasonHangup); err != nil {
		return newError(ErrIncomingCallFailed, err, "ending call %s", key)
	}
	return nil
}

// onCallAction receives accept/decline from the platform's incoming-call UI.
// It may be called on a UI thread, so the work runs in the background;
// failures are reported through onCallError.
func (s *SDK) onCallAction(a platform.CallAction) {
	s.goBackground(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wire.StartTimeout+handshakeTimeout)
		defer cancel()
		var err error
		switch a.Action {
		case platform.ActionAccept:
			err = s.AcceptIncomingCall(ctx, a.CallID)
		case platform.ActionDecline:
			err = s.DeclineIncomingCall(ctx, a.CallID)
		default:
			return
		}
		if err != nil {
			s.log.Warn("callcore: incoming call action failed", "action", a.Action, "call_id", a.CallID, "err", err)
			s.emitError(err, s.lookupType(a.CallID))
		}
	})
}

// AcceptIncomingCall answers the pending incoming call callID (an extension:
// the guide does this inside its native layer). The accept is recorded in
// the Store first (CheckCallAcceptAction), then the ringing call is joined
// as StartAppToAppOutboundCall(callFrom, callTo, callFrom) would, carrying
// the call ID; for an Inbound or Outbound push (a DID or phone call routed
// to this app) the call keeps that type. Errors are those of the Start
// methods, or ErrIncomingCallFailed for an unknown call.
func (s *SDK) AcceptIncomingCall(ctx context.Context, callID string) error {
	if _, err := s.initialized(); err != nil {
		return err
	}
	d, ok := s.lookupPending(callID)
	if !ok {
		return newError(ErrIncomingCallFailed, nil, "no pending incoming call %q", callID)
	}
	s.saveJSON(storeKeyAcceptAction, acceptRecord{Push: d.Push(), AcceptedAt: time.Now()})
	if err := s.plat.DismissIncomingCall(ctx, d.Key()); err != nil {
		s.log.Debug("callcore: dismissing the incoming call UI", "err", err)
	}
	// Whatever its type, a pushed call is one the server is ringing us in,
	// so it is joined (by call ID), never dialled anew: dialling a DID that
	// routes to this app would only ring it again.
	err := s.startCall(ctx, callParams{
		typ: d.CallType, kind: wire.KindAppToAppAnswer,
		to: d.CallFrom, registeredNumber: d.CallTo, callFrom: d.CallFrom, callID: d.CallID,
		toName: "callFrom",
	})
	// Acted on, whatever the outcome: a later CheckCallAcceptAction must not
	// answer it a second time.
	s.saveJSON(storeKeyAcceptAction, acceptRecord{Push: d.Push(), AcceptedAt: time.Now(), Handled: true})
	s.markHandled(d.Key())
	s.clearPending(d.Key())
	return err
}

// markHandled records that an incoming call was answered or declined: it is
// no longer pending, and a redelivered push for it does not ring again.
func (s *SDK) markHandled(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.seen[key]
	if !ok {
		v = seenCall{at: time.Now()}
	}
	v.ended = true
	s.seen[key] = v
}

// DeclineIncomingCall declines the pending incoming call callID (an
// extension): the UI is dismissed, the pending call cleared and the server
// told (POST /v1/calls/{callId}/decline), so the caller gets onCallDeclined.
// A call that already ended or was answered elsewhere declines successfully.
func (s *SDK) DeclineIncomingCall(ctx context.Context, callID string) error {
	cr, err := s.initialized()
	if err != nil {
		return err
	}
	if strings.TrimSpace(callID) == "" {
		return newError(ErrInvalidInput, nil, "callID is empty")
	}
	serverID := callID
	if d, ok := s.lookupPending(callID); ok {
		serverID = d.CallID // "" for a push without callId: nothing to tell the server
	}
	s.markHandled(callID)
	s.clearPending(callID)
	if err := s.plat.DismissIncomingCall(ctx, callID); err != nil {
		s.log.Debug("callcore: dismissing the incoming call UI", "err", err)
	}
	if serverID == "" {
		return nil
	}
	return s.postDecline(ctx, cr, serverID)
}

// CheckPendingIncomingCall returns the incoming call that arrived while the
// app was not running (or not yet answered), or nil when there is none or it
// has stopped ringing (guide: Android kill-state recovery).
func (s *SDK) CheckPendingIncomingCall(ctx context.Context) (*IncomingCallData, error) {
	if s.isDisposed() {
		return nil, errNotInitialized()
	}
	var rec pendingRecord
	ok, err := s.loadJSON(storeKeyPendingCall, &rec)
	if err != nil || !ok {
		return nil, err
	}
	d, err := IncomingCallFromPush(rec.Push)
	if err != nil || s.pendingStale(d, rec.ReceivedAt) {
		_ = s.store.Delete(storeKeyPendingCall)
		return nil, nil
	}
	return &d, nil
}

// CheckCallAcceptAction returns an incoming call the user accepted (for
// example on the lock screen) that has not been acted on yet, or nil.
func (s *SDK) CheckCallAcceptAction(ctx context.Context) (*IncomingCallData, error) {
	if s.isDisposed() {
		return nil, errNotInitialized()
	}
	var rec acceptRecord
	ok, err := s.loadJSON(storeKeyAcceptAction, &rec)
	if err != nil || !ok || rec.Handled {
		return nil, err
	}
	d, err := IncomingCallFromPush(rec.Push)
	if err != nil || s.pendingStale(d, rec.AcceptedAt) {
		_ = s.store.Delete(storeKeyAcceptAction)
		return nil, nil
	}
	return &d, nil
}

// StoreRegisteredNumber persists this user's registered number for
// kill-state recovery (guide: storeRegisteredNumber). ErrInvalidInput for an
// empty or malformed number.
func (s *SDK) StoreRegisteredNumber(ctx context.Context, number string) error {
	if s.isDisposed() {
		return errNotInitialized()
	}
	number = strings.TrimSpace(number)
	if number == "" {
		return newError(ErrInvalidInput, nil, "registered number is empty")
	}
	if !wire.ValidNumber(number) {
		return newError(ErrInvalidInput, nil, "registered number %q is not a number", number)
	}
	if err := s.store.Save(storeKeyRegisteredNumber, number); err != nil {
		return newError(ErrUnknown, err, "storing the registered number")
	}
	s.mu.Lock()
	s.regNumber = number
	s.mu.Unlock()
	return nil
}

// RegisteredNumber returns the number StoreRegisteredNumber stored (in this
// process or an earlier one), or "".
func (s *SDK) RegisteredNumber() string {
	s.mu.Lock()
	n := s.regNumber
	s.mu.Unlock()
	if n != "" {
		return n
	}
	n, _, err := s.store.Load(storeKeyRegisteredNumber)
	if err != nil {
		s.log.Warn("callcore: loading the registered number", "err", err)
	}
	return n
}

// pendingStale reports whether a stored call has stopped ringing: by its
// timestamp, or without one by when it was stored.
func (s *SDK) pendingStale(d IncomingCallData, stored time.Time) bool {
	now := time.Now()
	if !d.Timestamp.IsZero() {
		return d.Stale(now, s.cfg.ringTimeout)
	}
	return now.Sub(stored) > s.cfg.ringTimeout
}

// lookupPending finds a pending (shown, not ended) incoming call by key.
func (s *SDK) lookupPending(key string) (IncomingCallData, bool) {
	s.mu.Lock()
	v, ok := s.seen[key]
	s.mu.Unlock()
	if ok && !v.ended {
		return v.data, true
	}
	if ok && v.ended {
		return IncomingCallData{}, false
	}
	var rec pendingRecord
	if found, err := s.loadJSON(storeKeyPendingCall, &rec); err != nil || !found {
		return IncomingCallData{}, false
	}
	d, err := IncomingCallFromPush(rec.Push)
	if err != nil || d.Key() != key || s.pendingStale(d, rec.ReceivedAt) {
		return IncomingCallData{}, false
	}
	return d, true
}

// lookupType is the call type of a known incoming call, for error reports.
func (s *SDK) lookupType(key string) CallType {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.seen[key]; ok {
		return v.data.CallType
	}
	return CallTypeAppToApp
}

// pendingCallIDFrom returns the call ID of the newest pending incoming call
// from number, so an answer selects exactly that call.
func (s *SDK) pendingCallIDFrom(number string) string {
	s.mu.Lock()
	var best seenCall
	for _, v := range s.seen {
		if !v.ended && v.data.CallFrom == number && v.data.CallID != "" && v.at.After(best.at) {
			best = v
		}
	}
	s.mu.Unlock()
	if best.data.CallID != "" {
		return best.data.CallID
	}
	var rec pendingRecord
	if found, err := s.loadJSON(storeKeyPendingCall, &rec); err == nil && found && rec.Push.CallFrom == number {
		d, err := IncomingCallFromPush(rec.Push)
		if err == nil && !s.pendingStale(d, rec.ReceivedAt) {
			return d.CallID
		}
	}
	return ""
}

func (s *SDK) savePending(d IncomingCallData, now time.Time) {
	s.saveJSON(storeKeyPendingCall, pendingRecord{Push: d.Push(), ReceivedAt: now})
}

// clearPending removes the stored pending call if it is key.
func (s *SDK) clearPending(key string) {
	var rec pendingRecord
	found, err := s.loadJSON(storeKeyPendingCall, &rec)
	if err != nil || !found {
		return
	}
	if d, err := IncomingCallFromPush(rec.Push); err != nil || d.Key() == key {
		if err := s.store.Delete(storeKeyPendingCall); err != nil {
			s.log.Warn("callcore: clearing the pending call", "err", err)
		}
	}
}

func (s *SDK) saveJSON(key string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Warn("callcore: encoding for the store", "key", key, "err", err)
		return
	}
	s.saveQuietly(key, string(b))
}

// loadJSON decodes key into v; a corrupt value is deleted and reported as
// absent, so one bad write cannot wedge kill-state recovery.
func (s *SDK) loadJSON(key string, v any) (bool, error) {
	raw, ok, err := s.store.Load(key)
	if err != nil {
		return false, newError(ErrUnknown, err, "reading the store")
	}
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		s.log.Warn("callcore: dropping a corrupt store entry", "key", key, "err", err)
		_ = s.store.Delete(key)
		return false, nil
	}
	return true, nil
}

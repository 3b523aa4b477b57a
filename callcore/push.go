package callcore

import (
	"context"
	"encoding/json"
	"errors"
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

// pendingRecord is the stored pending incoming call. The call's JSON is the
// guide's payload (IncomingCallData.MarshalJSON), the form this record has
// always had.
type pendingRecord struct {
	Call       IncomingCallData `json:"push"`
	ReceivedAt time.Time        `json:"receivedAt"`
}

// acceptRecord is the stored accept action.
type acceptRecord struct {
	Call       IncomingCallData `json:"push"`
	AcceptedAt time.Time        `json:"acceptedAt"`
	Handled    bool             `json:"handled"`
}

// check rejects a record that decodes but holds no call ("push" missing);
// loadJSON treats it as corrupt. A "push" that is there was validated as it
// decoded.
func (r *pendingRecord) check() error { return r.Call.validate() }
func (r *acceptRecord) check() error  { return r.Call.validate() }

// HandleIncomingCallWithUI handles an incoming-call push payload (guide
// section 9): pass FCM's message.data or the VoIP push's payload. The
// payload is decoded once (ParseIncomingCall) and handled as the events
// connection's calls are (ListenForIncomingCalls does that for you):
//
//   - event "end": the call's UI is dismissed and, if it names the current
//     call (its callId, or without one its parties), that call is ended
//     here as the guide's "ending a call via push" says: onCallEnded fires
//     and the server is told. The server never sends "end" to the device
//     that answered a call, so such a push means the call is over.
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

// handleIncoming is where both entry points meet (HandleIncomingCallWithUI
// and the events connection), each with the call decoded once: an "end"
// stops it ringing (and may end it); a new call is checked for staleness and
// duplicates, stored as pending, and shown.
func (s *SDK) handleIncoming(ctx context.Context, d IncomingCallData) error {
	if d.IsEnd() {
		return s.endIncoming(ctx, d)
	}
	key := d.Key()
	now := time.Now()
	if d.Stale(now, s.cfg.ringTimeout) {
		s.log.Info("callcore: ignoring a stale incoming call", "call_id", key, "age", now.Sub(d.Timestamp))
		return nil
	}
	if !s.firstDelivery(d, now) {
		s.log.Debug("callcore: ignoring a duplicate incoming call", "call_id", key)
		return nil
	}
	s.saveJSON(storeKeyPendingCall, pendingRecord{Call: d, ReceivedAt: now})
	if err := s.plat.ShowIncomingCall(ctx, d.platformCall()); err != nil {
		s.mu.Lock()
		delete(s.seen, key) // let a redelivery try again
		s.mu.Unlock()
		return platformError(ErrIncomingCallFailed, err, "showing the incoming call UI")
	}
	s.log.Info("callcore: incoming call", "call_id", key, "from", d.CallFrom, "type", d.CallType)
	return nil
}

// firstDelivery records d as seen at now and reports whether this is the
// first time (false for a call already shown, answered, declined or ended).
// Calls seen more than two ring timeouts ago are forgotten.
func (s *SDK) firstDelivery(d IncomingCallData, now time.Time) bool {
	key := d.Key()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.seen {
		if now.Sub(v.at) > 2*s.cfg.ringTimeout {
			delete(s.seen, k)
		}
	}
	if _, dup := s.seen[key]; dup {
		return false
	}
	s.seen[key] = seenCall{at: now, data: d}
	return true
}

// endIncoming handles an "end" push: the call stops ringing here (seen as
// ended, no longer pending, its UI dismissed), and if it is the current call
// endCallOnPush decides whether to end it.
func (s *SDK) endIncoming(ctx context.Context, d IncomingCallData) error {
	key := d.Key()
	s.mu.Lock()
	s.seen[key] = seenCall{at: time.Now(), ended: true, data: d}
	c := s.call
	match := c != nil && endsCall(d, c)
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

// endsCall reports whether end push d is for call c (s.mu held): the same
// call ID, or, for a push without one (the guide's "ending a call via push"
// example names only the parties), the same parties: d's caller is the
// number c is with and d is addressed to c's registered number.
func endsCall(d IncomingCallData, c *call) bool {
	if d.CallID != "" {
		return c.serverID == d.CallID || c.p.callID == d.CallID
	}
	return d.CallFrom == c.p.to && (d.CallTo == c.p.registeredNumber || d.RegisteredNumber == c.p.registeredNumber)
}

// endCallOnPush ends the current call because a push said it is over, as
// the guide's section 9 says: locally, with onCallEnded, and the server is
// told (end). The server never sends "end" for a call to the device that
// answered it (that device names itself with its deviceId on the events
// connection and in its answer), so an "end" naming this device's call
// means the call is over. A call still connecting is left to its start
// reply, which then fails with the call's end.
func (s *SDK) endCallOnPush(ctx context.Context, c *call, key string) error {
	s.mu.Lock()
	placed := c.placed
	s.mu.Unlock()
	if !placed {
		return nil
	}
	s.log.Info("callcore: push ended the current call", "call_id", key)
	if err := s.endCall(ctx, c, wire.ReasonHangup); err != nil {
		return newError(ErrIncomingCallFailed, err, "ending call %s", wire.Quote(key))
	}
	return nil
}

// actionTimeout bounds the work one platform event starts: answering,
// declining or ending a call, or handling a push.
const actionTimeout = wire.StartTimeout + handshakeTimeout

// onCallAction receives accept/decline from the platform's incoming-call UI,
// hang-up from an OS call notification (Android's ongoing-call
// notification, CallKit's end button), which ends the call in progress
// whatever call ID it carries, and the OS call screen's mute, hold and
// keypad (CallKit), which act on the call in progress as MuteCall,
// HoldCall and SendDTMF do. It may be called on a UI thread, so the work runs in the
// background; failures are reported through onCallError.
func (s *SDK) onCallAction(a platform.CallAction) {
	switch a.Action {
	case platform.ActionMute, platform.ActionHold, platform.ActionDTMF:
		s.inCallControl(a)
		return
	}
	s.goBackground(func() {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		defer cancel()
		var err error
		switch a.Action {
		case platform.ActionAccept:
			err = s.AcceptIncomingCall(ctx, a.CallID)
		case platform.ActionDecline:
			err = s.DeclineIncomingCall(ctx, a.CallID)
		case platform.ActionHangup:
			err = s.EndCall(ctx)
			if errors.Is(err, ErrNoCallInProgress) {
				s.log.Debug("callcore: hang-up from the call notification, with no call", "call_id", wire.Quote(a.CallID))
				return
			}
		default:
			return
		}
		if err != nil {
			s.log.Warn("callcore: incoming call action failed", "action", a.Action, "call_id", a.CallID, "err", err)
			s.emitError(err, s.lookupType(a.CallID))
		}
	})
}

// inCallControl carries out the OS call screen's mute, hold or keypad on
// the call in progress. It runs on the caller's goroutine, so that controls
// apply in the order the user gave them (mute then unmute must not swap):
// the platform delivers these on its own goroutine, one at a time, never on
// an OS thread. Failures are reported through onCallError.
func (s *SDK) inCallControl(a platform.CallAction) {
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	var err error
	switch a.Action {
	case platform.ActionMute:
		err = s.MuteCall(ctx, a.On)
	case platform.ActionHold:
		err = s.HoldCall(ctx, a.On)
	case platform.ActionDTMF:
		for _, d := range a.Digits {
			if err = s.SendDTMF(string(d)); err != nil {
				break
			}
		}
	}
	if err != nil {
		s.log.Warn("callcore: in-call action from the OS call screen failed", "action", a.Action, "err", err)
		s.emitError(err, s.GetCallStatus().CallType)
	}
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
		return newError(ErrIncomingCallFailed, nil, "no pending incoming call %s", wire.Quote(callID))
	}
	s.saveJSON(storeKeyAcceptAction, acceptRecord{Call: d, AcceptedAt: time.Now()})
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
	s.saveJSON(storeKeyAcceptAction, acceptRecord{Call: d, AcceptedAt: time.Now(), Handled: true})
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
//
// On a platform whose native side keeps what arrives while the app is not
// running (platform.KillState: Android's FCM service and call notification)
// that is taken into the SDK's Store first; see adoptKillState.
func (s *SDK) CheckPendingIncomingCall(ctx context.Context) (*IncomingCallData, error) {
	if s.isDisposed() {
		return nil, errNotInitialized()
	}
	s.adoptKillState(ctx)
	var rec pendingRecord
	ok, err := s.loadJSON(storeKeyPendingCall, &rec)
	if err != nil || !ok {
		return nil, err
	}
	if s.pendingStale(rec.Call, rec.ReceivedAt) {
		_ = s.store.Delete(storeKeyPendingCall)
		return nil, nil
	}
	return &rec.Call, nil
}

// CheckCallAcceptAction returns an incoming call the user accepted (for
// example on the lock screen) that has not been acted on yet, or nil.
// An Accept tapped on Android's call notification while the app was not
// running is found here too (adoptKillState).
func (s *SDK) CheckCallAcceptAction(ctx context.Context) (*IncomingCallData, error) {
	if s.isDisposed() {
		return nil, errNotInitialized()
	}
	s.adoptKillState(ctx)
	var rec acceptRecord
	ok, err := s.loadJSON(storeKeyAcceptAction, &rec)
	if err != nil || !ok || rec.Handled {
		return nil, err
	}
	if s.pendingStale(rec.Call, rec.AcceptedAt) {
		_ = s.store.Delete(storeKeyAcceptAction)
		return nil, nil
	}
	return &rec.Call, nil
}

// StoreRegisteredNumber persists this user's registered number for
// kill-state recovery (guide: storeRegisteredNumber), in the Store and, on a
// platform with a native side (platform.KillState), where that side can read
// it. ErrInvalidInput for an empty or malformed number; ErrUnknown when
// either could not keep it.
func (s *SDK) StoreRegisteredNumber(ctx context.Context, number string) error {
	if s.isDisposed() {
		return errNotInitialized()
	}
	number = strings.TrimSpace(number)
	if number == "" {
		return newError(ErrInvalidInput, nil, "registered number is empty")
	}
	if !wire.ValidNumber(number) {
		return newError(ErrInvalidInput, nil, "registered number %s is not a number", wire.Quote(number))
	}
	if err := s.store.Save(storeKeyRegisteredNumber, number); err != nil {
		return newError(ErrUnknown, err, "storing the registered number")
	}
	s.mu.Lock()
	s.regNumber = number
	s.mu.Unlock()
	if ks, ok := platform.As[platform.KillState](s.plat); ok {
		if err := ks.StoreRegisteredNumber(ctx, number); err != nil && !errors.Is(err, platform.ErrUnsupported) {
			return platformError(ErrUnknown, err, "storing the registered number on the device")
		}
	}
	return nil
}

// RegisteredNumber returns the number StoreRegisteredNumber stored (in this
// process or an earlier one; on a platform with a native side, also one it
// kept), or "".
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
	if n != "" {
		return n
	}
	if ks, ok := platform.As[platform.KillState](s.plat); ok {
		ctx, cancel := context.WithTimeout(context.Background(), nativeTimeout)
		defer cancel()
		n, err = ks.RegisteredNumber(ctx)
		if err != nil && !errors.Is(err, platform.ErrUnsupported) {
			s.log.Warn("callcore: reading the registered number on the device", "err", err)
		}
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
	if d, ok := s.storedPending(); ok && d.Key() == key {
		return d, true
	}
	return IncomingCallData{}, false
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
	if d, ok := s.storedPending(); ok && d.CallFrom == number {
		return d.CallID
	}
	return ""
}

// storedPending is the pending call in the Store (from this process or an
// earlier one), if it is still ringing.
func (s *SDK) storedPending() (IncomingCallData, bool) {
	var rec pendingRecord
	found, err := s.loadJSON(storeKeyPendingCall, &rec)
	if err != nil || !found || s.pendingStale(rec.Call, rec.ReceivedAt) {
		return IncomingCallData{}, false
	}
	return rec.Call, true
}

// clearPending removes the stored pending call if it is key.
func (s *SDK) clearPending(key string) {
	var rec pendingRecord
	found, err := s.loadJSON(storeKeyPendingCall, &rec)
	if err != nil || !found {
		return
	}
	if rec.Call.Key() == key {
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

// loadJSON decodes key into v; a corrupt value (one that does not decode, or
// a record whose check fails) is deleted and reported as absent, so one bad
// write cannot wedge kill-state recovery.
func (s *SDK) loadJSON(key string, v any) (bool, error) {
	raw, ok, err := s.store.Load(key)
	if err != nil {
		return false, newError(ErrUnknown, err, "reading the store")
	}
	if !ok {
		return false, nil
	}
	err = json.Unmarshal([]byte(raw), v)
	if c, ok := v.(interface{ check() error }); ok && err == nil {
		err = c.check()
	}
	if err != nil {
		s.log.Warn("callcore: dropping a corrupt store entry", "key", key, "err", err)
		_ = s.store.Delete(key)
		return false, nil
	}
	return true, nil
}

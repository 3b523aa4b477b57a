package app

import (
	"time"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/screens"
)

// callLog turns the UI's call events into history records. It runs on the
// UI goroutine. A placed call's record is done when both its Start has
// returned and the call is over, in either order: the dialer's result and
// the SDK's events arrive through separate fyne.Do calls.
//
// The SDK tells why a call ended just before onCallEnded, which is usually
// after the idle status has ended the call here and its record is done: the
// record then goes to done a second time, with its EndReason, and the
// history replaces the first version.
type callLog struct {
	now  func() time.Time
	done func(screens.CallRecord)

	cur        *screens.CallRecord // the call on the in-call screen
	dialled    bool                // cur was placed by the dialer: Dialed will come
	started    bool                // Start returned nil, or an incoming call was accepted
	over       bool                // the call ended before Start returned
	answeredAt time.Time
	declined   bool
	failed     bool
	reason     callcore.EndReason            // the SDK's end reason for cur, if it came first
	last       *screens.CallRecord           // cur's record once done, until the next call begins
	ringing    map[string]screens.CallRecord // incoming calls on screen, by call ID
}

func newCallLog(now func() time.Time, done func(screens.CallRecord)) *callLog {
	return &callLog{now: now, done: done, ringing: map[string]screens.CallRecord{}}
}

// Dialing is the dialer placing a call (screens.DialTracker).
func (l *callLog) Dialing(number string, t callcore.CallType) {
	if l.cur != nil { // a call is tracked already; the SDK will refuse this one
		return
	}
	l.begin(screens.CallRecord{Direction: screens.DirectionOutgoing, Type: t, Number: number})
	l.dialled = true
}

// Dialed is the dialer's Start returning (screens.DialTracker). A number
// the SDK refused as invalid was never dialled: no record.
func (l *callLog) Dialed(err error) {
	if l.cur == nil || !l.dialled || l.started {
		return
	}
	switch {
	case err == nil:
		l.started = true
		if l.over {
			l.finish()
		}
	case callcore.KindOf(err) == callcore.ErrInvalidInput, callcore.KindOf(err) == callcore.ErrCallInProgress:
		l.cur = nil
	default:
		l.failed = true
		l.finish()
	}
}

// ringingCall is an incoming call put on screen.
func (l *callLog) ringingCall(c platform.IncomingCall) {
	t, err := callcore.ParsePushCallType(c.CallType)
	if err != nil {
		t = callcore.CallTypeAppToApp
	}
	l.ringing[c.CallID] = screens.CallRecord{Direction: screens.DirectionIncoming, Type: t,
		Number: c.Handle, Name: c.CallerName, Start: l.stamp()}
}

// accepted is the user accepting incoming call id.
func (l *callLog) accepted(id string) {
	r, ok := l.ringing[id]
	delete(l.ringing, id)
	if !ok || l.cur != nil {
		return
	}
	start := r.Start
	l.begin(r)
	l.cur.Start = start // when it began ringing
	l.started = true
}

// declinedIncoming is the user declining incoming call id.
func (l *callLog) declinedIncoming(id string) { l.closeRinging(id, screens.Declined) }

// gone is incoming call id leaving the screen unanswered (the caller gave up,
// it stopped ringing, another device took it): missed, unless answered or
// declined here already.
func (l *callLog) gone(id string) {
	if !l.claim(id) { // the SDK dismisses a call the dialer is answering, too
		l.closeRinging(id, screens.Missed)
	}
}

func (l *callLog) closeRinging(id string, o screens.Outcome) {
	r, ok := l.ringing[id]
	if !ok {
		return
	}
	delete(l.ringing, id)
	r.Outcome = o
	l.done(r)
}

// answered is onCallStarted. A call placed from the dialer to a colleague
// whose call rings here is that call, answered from the dialer (the guide's
// app-to-app outbound): it goes in the history as the incoming call.
func (l *callLog) answered() {
	if l.cur == nil || !l.answeredAt.IsZero() {
		return
	}
	l.answeredAt = l.now()
	for id := range l.ringing {
		if l.claim(id) {
			return
		}
	}
}

// claim makes ringing call id the call in progress when that is the dialer
// answering it (an app-to-app call to its caller), and reports whether it
// did.
func (l *callLog) claim(id string) bool {
	r, ok := l.ringing[id]
	if !ok || l.cur == nil || !l.dialled || l.cur.Direction != screens.DirectionOutgoing ||
		l.cur.Type != callcore.CallTypeAppToApp || l.cur.Number != r.Number {
		return false
	}
	delete(l.ringing, id)
	l.cur.Direction, l.cur.Name = screens.DirectionIncoming, r.Name
	return true
}

// calleeDeclined is onCallDeclined.
func (l *callLog) calleeDeclined() {
	if l.cur != nil {
		l.declined = true
	}
}

// callFailed is onCallError for the call on screen.
func (l *callLog) callFailed() {
	if l.cur != nil && l.answeredAt.IsZero() {
		l.failed = true
	}
}

// endReason is the SDK's reason for the end of the call on screen
// (onCallEndReason).
func (l *callLog) endReason(r callcore.EndReason) {
	switch {
	case l.cur != nil:
		l.reason = r
	case l.last != nil && l.last.EndReason == "":
		l.last.EndReason = r
		l.done(*l.last)
	}
}

// ended is the call leaving the in-call screen.
func (l *callLog) ended() {
	if l.cur == nil {
		return
	}
	if !l.started { // Start has not returned yet: Dialed finishes it
		l.over = true
		return
	}
	l.finish()
}

// stamp is the time a record starts, as it reads back from the saved
// history: UTC, without the monotonic clock reading.
func (l *callLog) stamp() time.Time { return l.now().UTC().Round(0) }

func (l *callLog) begin(r screens.CallRecord) {
	r.Start = l.stamp()
	l.cur = &r
	l.dialled, l.started, l.over, l.declined, l.failed = false, false, false, false, false
	l.answeredAt, l.reason, l.last = time.Time{}, "", nil
}

func (l *callLog) finish() {
	r := *l.cur
	l.cur = nil
	r.EndReason = l.reason
	switch {
	case !l.answeredAt.IsZero():
		r.Outcome = screens.Answered
		r.Duration = l.now().Sub(l.answeredAt).Truncate(time.Second)
	case l.declined:
		r.Outcome = screens.Declined
	case l.failed:
		r.Outcome = screens.Failed
	default:
		r.Outcome = screens.Missed
	}
	l.last = &r
	l.done(r)
}

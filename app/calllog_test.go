package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/screens"
)

func TestCallLogOutcomes(t *testing.T) {
	t0 := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	failed := &callcore.Error{Kind: callcore.ErrCallFailed}
	invalid := &callcore.Error{Kind: callcore.ErrInvalidInput}
	ring := platform.IncomingCall{CallID: "c1", Handle: "1002", CallerName: "Ada", CallType: "APPTOAPP"}

	// Each step advances the clock by a second first.
	type step func(l *callLog)
	dial := func(l *callLog) { l.Dialing("90000", callcore.CallTypeInbound) }
	dialed := func(err error) step { return func(l *callLog) { l.Dialed(err) } }
	answered := func(l *callLog) { l.answered() }
	ended := func(l *callLog) { l.ended() }
	out := func(o screens.Outcome, d time.Duration) screens.CallRecord {
		return screens.CallRecord{Direction: screens.DirectionOutgoing, Type: callcore.CallTypeInbound, Number: "90000",
			Start: t0.Add(time.Second), Duration: d, Outcome: o}
	}
	reason := func(r callcore.EndReason) step { return func(l *callLog) { l.endReason(r) } }
	because := func(r screens.CallRecord, why callcore.EndReason) screens.CallRecord { r.EndReason = why; return r }
	in := func(o screens.Outcome, d time.Duration) screens.CallRecord {
		return screens.CallRecord{Direction: screens.DirectionIncoming, Type: callcore.CallTypeAppToApp, Number: "1002", Name: "Ada",
			Start: t0.Add(time.Second), Duration: d, Outcome: o}
	}
	for _, tc := range []struct {
		name  string
		steps []step
		want  []screens.CallRecord
	}{
		{"answered, hung up", []step{dial, dialed(nil), answered, func(*callLog) {}, ended}, []screens.CallRecord{out(screens.Answered, 2*time.Second)}},
		{"ended before Start returned", []step{dial, answered, ended, dialed(nil)}, []screens.CallRecord{out(screens.Answered, 2*time.Second)}},
		{"nobody answered", []step{dial, dialed(nil), ended}, []screens.CallRecord{out(screens.Missed, 0)}},
		{"the callee declined", []step{dial, dialed(nil), func(l *callLog) { l.calleeDeclined() }, ended}, []screens.CallRecord{out(screens.Declined, 0)}},
		{"failed after placing", []step{dial, dialed(nil), func(l *callLog) { l.callFailed() }, ended}, []screens.CallRecord{out(screens.Failed, 0)}},
		{"Start failed", []step{dial, ended, dialed(failed)}, []screens.CallRecord{out(screens.Failed, 0)}},
		{"Start failed before any event", []step{dial, dialed(failed), ended}, []screens.CallRecord{out(screens.Failed, 0)}},
		{"an invalid number is not a call", []step{dial, dialed(invalid)}, nil},
		{"a connection lost after the answer is still answered", []step{dial, dialed(nil), answered, func(l *callLog) { l.callFailed() }, ended},
			[]screens.CallRecord{out(screens.Answered, 2*time.Second)}},

		// The SDK's end reason comes just before onCallEnded: usually after
		// the idle status ended the call here (the record is sent again,
		// with it), sometimes before Start has returned.
		{"end reason after the end", []step{dial, dialed(nil), answered, ended, reason(callcore.EndReasonNetworkLost)},
			[]screens.CallRecord{out(screens.Answered, time.Second), because(out(screens.Answered, time.Second), callcore.EndReasonNetworkLost)}},
		{"end reason before Start returned", []step{dial, answered, ended, reason(callcore.EndReasonRemoteHangup), dialed(nil)},
			[]screens.CallRecord{because(out(screens.Answered, 3*time.Second), callcore.EndReasonRemoteHangup)}},
		{"a second end reason is not news", []step{dial, dialed(nil), ended, reason(callcore.EndReasonNoAnswer), reason(callcore.EndReasonFailed)},
			[]screens.CallRecord{out(screens.Missed, 0), because(out(screens.Missed, 0), callcore.EndReasonNoAnswer)}},
		{"an end reason with no call is dropped", []step{reason(callcore.EndReasonHangup)}, nil},

		{"incoming answered", []step{func(l *callLog) { l.ringingCall(ring) }, func(l *callLog) { l.accepted("c1") }, answered,
			func(l *callLog) { l.gone("c1") }, ended}, []screens.CallRecord{in(screens.Answered, 2*time.Second)}},
		{"incoming declined", []step{func(l *callLog) { l.ringingCall(ring) }, func(l *callLog) { l.declinedIncoming("c1") },
			func(l *callLog) { l.gone("c1") }}, []screens.CallRecord{in(screens.Declined, 0)}},
		{"incoming missed", []step{func(l *callLog) { l.ringingCall(ring) }, func(l *callLog) { l.gone("c1") }},
			[]screens.CallRecord{in(screens.Missed, 0)}},
		{"incoming answered from the dialer", []step{func(l *callLog) { l.ringingCall(ring) },
			func(l *callLog) { l.Dialing("1002", callcore.CallTypeAppToApp) }, dialed(nil), answered, func(l *callLog) { l.gone("c1") }, ended},
			[]screens.CallRecord{{Direction: screens.DirectionIncoming, Type: callcore.CallTypeAppToApp, Number: "1002", Name: "Ada",
				Start: t0.Add(2 * time.Second), Duration: 2 * time.Second, Outcome: screens.Answered}}},
		{"incoming dismissed as the dialer answers it", []step{func(l *callLog) { l.ringingCall(ring) },
			func(l *callLog) { l.Dialing("1002", callcore.CallTypeAppToApp) }, func(l *callLog) { l.gone("c1") }, dialed(nil), answered, ended},
			[]screens.CallRecord{{Direction: screens.DirectionIncoming, Type: callcore.CallTypeAppToApp, Number: "1002", Name: "Ada",
				Start: t0.Add(2 * time.Second), Duration: time.Second, Outcome: screens.Answered}}},
		{"incoming accepted but never connected", []step{func(l *callLog) { l.ringingCall(ring) }, func(l *callLog) { l.accepted("c1") },
			func(l *callLog) { l.callFailed() }, ended}, []screens.CallRecord{in(screens.Failed, 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := t0
			var got []screens.CallRecord
			l := newCallLog(func() time.Time { return now }, func(r screens.CallRecord) { got = append(got, r) })
			for _, s := range tc.steps {
				now = now.Add(time.Second)
				s(l)
			}
			assert.Equal(t, tc.want, got)
			assert.Nil(t, l.cur, "nothing left open")
		})
	}
}

// A call made while another is tracked does not replace it.
func TestCallLogKeepsTheCallInProgress(t *testing.T) {
	var got []screens.CallRecord
	l := newCallLog(time.Now, func(r screens.CallRecord) { got = append(got, r) })
	l.Dialing("90000", callcore.CallTypeInbound)
	l.Dialed(nil)
	l.Dialing("90050", callcore.CallTypeInbound)
	l.Dialed(&callcore.Error{Kind: callcore.ErrCallInProgress})
	l.ended()
	require.Len(t, got, 1)
	assert.Equal(t, "90000", got[0].Number)
}

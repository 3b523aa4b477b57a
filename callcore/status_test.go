package callcore

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCallStatusZeroIsIdle(t *testing.T) {
	var s CallStatus
	assert.False(t, s.IsCallOngoing)
	assert.Equal(t, CallStateIdle, s.State)
	assert.Equal(t, CallTypeNone, s.CallType)
	assert.Equal(t, "CallStatus(isCallOngoing: false, isMuted: false, isOnHold: false, isSpeakerOn: false, "+
		"callType: null, currentDID: null, registeredNumber: null, state: idle)", s.String())
}

func TestCallStatusCopyWith(t *testing.T) {
	base := CallStatus{}.WithState(CallStateActive).WithCallType(CallTypeInbound).
		WithCurrentDID("90050").WithRegisteredNumber("9876543210")
	tests := []struct {
		name  string
		apply func(CallStatus) CallStatus
		check func(*testing.T, CallStatus)
	}{
		{"muted", func(s CallStatus) CallStatus { return s.WithMuted(true) },
			func(t *testing.T, s CallStatus) { assert.True(t, s.IsMuted) }},
		{"hold", func(s CallStatus) CallStatus { return s.WithOnHold(true) },
			func(t *testing.T, s CallStatus) { assert.True(t, s.IsOnHold) }},
		{"speaker", func(s CallStatus) CallStatus { return s.WithSpeakerOn(true) },
			func(t *testing.T, s CallStatus) { assert.True(t, s.IsSpeakerOn) }},
		{"ongoing", func(s CallStatus) CallStatus { return s.WithCallOngoing(false) },
			func(t *testing.T, s CallStatus) { assert.False(t, s.IsCallOngoing) }},
		{"type", func(s CallStatus) CallStatus { return s.WithCallType(CallTypeAppToApp) },
			func(t *testing.T, s CallStatus) { assert.Equal(t, CallTypeAppToApp, s.CallType) }},
		{"did", func(s CallStatus) CallStatus { return s.WithCurrentDID("1") },
			func(t *testing.T, s CallStatus) { assert.Equal(t, "1", s.CurrentDID) }},
		{"registered", func(s CallStatus) CallStatus { return s.WithRegisteredNumber("2") },
			func(t *testing.T, s CallStatus) { assert.Equal(t, "2", s.RegisteredNumber) }},
		{"state idle", func(s CallStatus) CallStatus { return s.WithState(CallStateIdle) },
			func(t *testing.T, s CallStatus) {
				assert.False(t, s.IsCallOngoing)
				assert.Equal(t, CallStateIdle, s.State)
			}},
		{"remote hold", func(s CallStatus) CallStatus { return s.WithRemoteOnHold(true) },
			func(t *testing.T, s CallStatus) { assert.True(t, s.IsRemoteOnHold) }},
		{"call id", func(s CallStatus) CallStatus { return s.WithCallID("c_1") },
			func(t *testing.T, s CallStatus) { assert.Equal(t, "c_1", s.CallID) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := base
			got := tt.apply(base)
			tt.check(t, got)
			assert.True(t, base.Equal(before), "the original is unchanged")
			assert.False(t, got.Equal(base), "the copy differs")
			assert.True(t, got.Equal(tt.apply(base)), "equal values are Equal")
		})
	}
}

func TestCallStatusString(t *testing.T) {
	s := CallStatus{}.WithState(CallStateRinging).WithCallType(CallTypeAppToApp).
		WithCurrentDID("1002").WithRegisteredNumber("1001").WithMuted(true).WithCallID("c_9").WithRemoteOnHold(true)
	assert.Equal(t, "CallStatus(isCallOngoing: true, isMuted: true, isOnHold: false, isSpeakerOn: false, "+
		"callType: app_to_app, currentDID: 1002, registeredNumber: 1001, state: ringing, isRemoteOnHold: true, callId: c_9)", s.String())
	for st, name := range map[CallState]string{CallStateIdle: "idle", CallStateConnecting: "connecting",
		CallStateRinging: "ringing", CallStateActive: "active", CallState(7): "CallState(7)"} {
		assert.Equal(t, name, st.String())
	}
}

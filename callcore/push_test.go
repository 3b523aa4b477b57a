package callcore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/wire"
)

// freshPush is an app-to-app push from 1001 to 1002, ringing now, FCM-style.
func freshPush(callID string) map[string]any {
	return map[string]any{
		"callFrom": "1001", "callTo": "1002", "callType": "APPTOAPP", "registeredNumber": "1002",
		"callerName": "Alice", "callId": callID, "environment": "DEVELOPMENT",
		"timestamp": strconv.FormatInt(time.Now().UnixMilli(), 10), "platform": "android", "event": "initial",
	}
}

func TestHandleIncomingCallShowsUI(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	require.NoError(t, e.sdk.HandleIncomingCallWithUI(ctx, freshPush("c_1")))
	shown := e.plat.ShownCalls()
	require.Len(t, shown, 1)
	d, err := ParseIncomingCall(freshPush("c_1"))
	require.NoError(t, err)
	assert.Equal(t, platform.IncomingCall{CallID: "c_1", UUID: d.UUID(), Handle: "1001", CallerName: "Alice",
		CallType: "APPTOAPP"}, shown[0])

	// The same push again (FCM retry, or push plus events connection).
	require.NoError(t, e.sdk.HandleIncomingCallWithUI(ctx, freshPush("c_1")))
	assert.Len(t, e.plat.ShownCalls(), 1, "duplicates are ignored")

	pending, err := e.sdk.CheckPendingIncomingCall(ctx)
	require.NoError(t, err)
	require.NotNil(t, pending)
	assert.Equal(t, "c_1", pending.CallID)
	assert.Equal(t, "Alice", pending.CallerName)
}

func TestHandleIncomingCallRejectsBadPayloads(t *testing.T) {
	e := newEnv(t)
	for _, field := range []string{"callFrom", "callTo", "callType", "registeredNumber"} {
		p := freshPush("c_1")
		delete(p, field)
		err := e.sdk.HandleIncomingCallWithUI(ctxT(t), p)
		assert.ErrorIs(t, err, ErrIncomingCallFailed, field)
		assert.Contains(t, err.Error(), field)
	}
	p := freshPush("c_1")
	p["timestamp"] = "soon"
	err := e.sdk.HandleIncomingCallWithUI(ctxT(t), p)
	assert.ErrorIs(t, err, ErrIncomingCallFailed)
	assert.Contains(t, err.Error(), "timestamp")
	assert.Empty(t, e.plat.ShownCalls())
}

func TestStaleIncomingCallIgnored(t *testing.T) {
	e := newEnv(t, WithRingTimeout(time.Second))
	p := freshPush("c_old")
	p["timestamp"] = time.Now().Add(-2 * time.Second).UnixMilli()
	require.NoError(t, e.sdk.HandleIncomingCallWithUI(ctxT(t), p))
	assert.Empty(t, e.plat.ShownCalls())
	pending, err := e.sdk.CheckPendingIncomingCall(ctxT(t))
	require.NoError(t, err)
	assert.Nil(t, pending)

	// A pending call goes stale while the app is not looking.
	require.NoError(t, e.sdk.HandleIncomingCallWithUI(ctxT(t), freshPush("c_new")))
	pending, err = e.sdk.CheckPendingIncomingCall(ctxT(t))
	require.NoError(t, err)
	require.NotNil(t, pending)
	// Once the ring timeout (1 s) has passed since its timestamp, it is gone.
	assert.Eventually(t, func() bool {
		pending, err := e.sdk.CheckPendingIncomingCall(ctxT(t))
		return err == nil && pending == nil
	}, 5*time.Second, 20*time.Millisecond)
}

func TestAcceptFromTheUIAnswersTheCall(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.sdk.HandleIncomingCallWithUI(ctxT(t), freshPush("c_42")))
	require.True(t, e.plat.Respond("c_42", platform.ActionAccept))
	fc := e.fs.lastCall(t)
	waitFor(t, func() bool { return e.sdk.GetCallStatus().State == CallStateActive }, "the answered call")
	start := fc.messages(wire.TypeStart)
	require.Len(t, start, 1)
	require.NoError(t, wire.CheckDeviceID(start[0].DeviceID), "the answer names this install")
	id := start[0].DeviceID
	assert.Equal(t, wire.Message{Type: wire.TypeStart, Kind: wire.KindAppToAppAnswer, To: "1001",
		RegisteredNumber: "1002", CallFrom: "1001", CallID: "c_42", DeviceID: id}, start[0])
	flush(e.sdk)
	assert.True(t, e.rec.has("started:app_to_app:1001:1002"))

	// The call is active before AcceptIncomingCall (on the platform
	// action's goroutine) returns, records the accept as acted on and
	// clears the pending call.
	waitFor(t, func() bool {
		accept, err := e.sdk.CheckCallAcceptAction(ctxT(t))
		if err != nil || accept != nil {
			return false
		}
		pending, err := e.sdk.CheckPendingIncomingCall(ctxT(t))
		return err == nil && pending == nil
	}, "the accept to be acted on and the call no longer pending")

	// An end push naming the live call ends it here (the guide's "ending a
	// call via push"): onCallEnded fires and the server is told.
	end := freshPush("c_42")
	end["event"] = "end"
	require.NoError(t, e.sdk.HandleIncomingCallWithUI(ctxT(t), end))
	assert.False(t, e.sdk.IsCallActive())
	flush(e.sdk)
	assert.True(t, e.rec.has("ended:app_to_app:1001"))
	assert.Contains(t, e.plat.Dismissed(), "c_42")
	waitFor(t, fc.closed, "the server side to close")
	assert.NotEmpty(t, fc.messages(wire.TypeEnd), "the server was told")
	assert.Empty(t, fc.messages(wire.TypeStatus), "nothing to ask: the push is believed")
}

func TestEndPushMatchesTheCurrentCall(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(map[string]any)
		ends   bool
	}{
		{"its call ID", func(map[string]any) {}, true},
		{"another call's ID", func(p map[string]any) { p["callId"] = "c_other" }, false},
		{"no call ID, its parties", func(p map[string]any) { delete(p, "callId") }, true},
		{"no call ID, another caller", func(p map[string]any) { delete(p, "callId"); p["callFrom"] = "1999" }, false},
		{"no call ID, another number of ours", func(p map[string]any) {
			delete(p, "callId")
			p["callTo"], p["registeredNumber"] = "1003", "1003"
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			require.NoError(t, e.sdk.HandleIncomingCallWithUI(ctxT(t), freshPush("c_42")))
			require.True(t, e.plat.Respond("c_42", platform.ActionAccept))
			waitFor(t, func() bool { return e.sdk.GetCallStatus().State == CallStateActive }, "the answered call")
			end := freshPush("c_42")
			end["event"] = "end"
			tt.mutate(end)
			require.NoError(t, e.sdk.HandleIncomingCallWithUI(ctxT(t), end))
			assert.Equal(t, !tt.ends, e.sdk.IsCallActive())
		})
	}
}

func TestAppToAppAnswerUsesPendingCallID(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.sdk.HandleIncomingCallWithUI(ctxT(t), freshPush("c_7")))
	require.NoError(t, e.sdk.StartAppToAppOutboundCall(ctxT(t), "1001", "1002", "1001"))
	assert.Equal(t, "c_7", e.fs.lastCall(t).messages(wire.TypeStart)[0].CallID)
}

func TestDeclineFromTheUI(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.sdk.HandleIncomingCallWithUI(ctxT(t), freshPush("c_5")))
	require.True(t, e.plat.Respond("c_5", platform.ActionDecline))
	waitFor(t, func() bool { return len(e.fs.declined()) == 1 }, "the decline")
	assert.Equal(t, []string{"c_5"}, e.fs.declined())
	waitFor(t, func() bool {
		p, _ := e.sdk.CheckPendingIncomingCall(ctxT(t))
		return p == nil
	}, "the pending call to clear")
	assert.Zero(t, e.fs.callCount(), "declining places no call")

	// A redelivered push for the declined call does not ring again.
	require.NoError(t, e.sdk.HandleIncomingCallWithUI(ctxT(t), freshPush("c_5")))
	assert.Len(t, e.plat.ShownCalls(), 1)

	// Declining a call the server no longer knows still succeeds.
	require.NoError(t, e.sdk.DeclineIncomingCall(ctxT(t), "c_gone"))
	assert.ErrorIs(t, e.sdk.DeclineIncomingCall(ctxT(t), " "), ErrInvalidInput)
}

func TestAcceptUnknownCall(t *testing.T) {
	e := newEnv(t)
	err := e.sdk.AcceptIncomingCall(ctxT(t), "nope")
	assert.ErrorIs(t, err, ErrIncomingCallFailed)
	assert.Contains(t, err.Error(), "nope")
}

func TestIncomingEndDismissesTheUI(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.sdk.HandleIncomingCallWithUI(ctxT(t), freshPush("c_3")))
	end := freshPush("c_3")
	end["event"] = "end"
	require.NoError(t, e.sdk.HandleIncomingCallWithUI(ctxT(t), end))
	assert.Equal(t, []string{"c_3"}, e.plat.Dismissed())
	assert.False(t, e.plat.Showing("c_3"))
	assert.False(t, e.plat.Respond("c_3", platform.ActionAccept), "nothing to answer any more")
	pending, err := e.sdk.CheckPendingIncomingCall(ctxT(t))
	require.NoError(t, err)
	assert.Nil(t, pending)
}

func TestAcceptActionSurvivesARestart(t *testing.T) {
	store := NewMemoryStore()
	e := newEnv(t, WithStore(store))
	d, err := ParseIncomingCall(freshPush("c_8"))
	require.NoError(t, err)
	// The process died between recording the accept and acting on it.
	e.sdk.saveJSON(storeKeyAcceptAction, acceptRecord{Call: d, AcceptedAt: time.Now()})

	later, _ := newSDK(t, WithStore(store))
	got, err := later.CheckCallAcceptAction(ctxT(t))
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, "c_8", got.CallID)
}

func TestAcceptedCallIsNoLongerPending(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.sdk.HandleIncomingCallWithUI(ctxT(t), freshPush("c_11")))
	require.NoError(t, e.sdk.AcceptIncomingCall(ctxT(t), "c_11"))
	require.NoError(t, e.sdk.EndCall(ctxT(t)))
	err := e.sdk.AcceptIncomingCall(ctxT(t), "c_11")
	assert.ErrorIs(t, err, ErrIncomingCallFailed, "a call is answered once")
	require.NoError(t, e.sdk.HandleIncomingCallWithUI(ctxT(t), freshPush("c_11")))
	assert.Len(t, e.plat.ShownCalls(), 1, "a redelivered push does not ring again")
}

// legacyPendingRecord is pendingRecord as it was stored before the Store
// held IncomingCallData: the wire's push object.
type legacyPendingRecord struct {
	Push       wire.PushPayload `json:"push"`
	ReceivedAt time.Time        `json:"receivedAt"`
}

// The kill-state records load whatever version of the SDK wrote them, and
// one that is corrupt is dropped rather than returned.
func TestStoredIncomingCallRecords(t *testing.T) {
	now := time.Now()
	at, err := json.Marshal(now)
	require.NoError(t, err)
	hourAgo, err := json.Marshal(now.Add(-time.Hour))
	require.NoError(t, err)
	push := func(extra string) string {
		return `{"callFrom":"1001","callTo":"1002","callType":"APPTOAPP","registeredNumber":"1002",` +
			`"callerName":"Alice","callId":"c_1","environment":"DEVELOPMENT","platform":"android","event":"initial"` + extra + `}`
	}
	fresh := push(fmt.Sprintf(`,"timestamp":%d`, now.UnixMilli()))
	tests := []struct {
		name   string
		key    string
		raw    string
		wantID string // "" for none
		kept   bool   // the record stays in the Store
	}{
		{"pending", storeKeyPendingCall, `{"push":` + fresh + `,"receivedAt":` + string(at) + `}`, "c_1", true},
		{"accepted", storeKeyAcceptAction, `{"push":` + fresh + `,"acceptedAt":` + string(at) + `,"handled":false}`, "c_1", true},
		{"accepted and handled", storeKeyAcceptAction, `{"push":` + fresh + `,"acceptedAt":` + string(at) + `,"handled":true}`, "", true},
		{"pending without a timestamp", storeKeyPendingCall, `{"push":` + push("") + `,"receivedAt":` + string(at) + `}`, "c_1", true},
		{"pending without a timestamp, stored an hour ago", storeKeyPendingCall,
			`{"push":` + push("") + `,"receivedAt":` + string(hourAgo) + `}`, "", false},
		{"pending without a push", storeKeyPendingCall, `{"receivedAt":` + string(at) + `}`, "", false},
		{"pending with a null push", storeKeyPendingCall, `{"push":null,"receivedAt":` + string(at) + `}`, "", false},
		{"accepted without a push", storeKeyAcceptAction, `{"acceptedAt":` + string(at) + `}`, "", false},
		{"pending with an invalid push", storeKeyPendingCall,
			`{"push":{"callFrom":"1001","callTo":"1002","callType":"Video","registeredNumber":"1002"},"receivedAt":` + string(at) + `}`, "", false},
		{"not JSON", storeKeyPendingCall, `{"push":`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := NewMemoryStore()
			require.NoError(t, store.Save(tt.key, tt.raw))
			s, _ := newSDK(t, WithStore(store))
			check := s.CheckPendingIncomingCall
			if tt.key == storeKeyAcceptAction {
				check = s.CheckCallAcceptAction
			}
			got, err := check(ctxT(t))
			require.NoError(t, err)
			if tt.wantID == "" {
				assert.Nil(t, got)
			} else {
				require.NotNil(t, got)
				assert.Equal(t, tt.wantID, got.CallID)
				assert.Equal(t, "Alice", got.CallerName)
				assert.Equal(t, CallTypeAppToApp, got.CallType)
			}
			_, ok, err := store.Load(tt.key)
			require.NoError(t, err)
			assert.Equal(t, tt.kept, ok, "kept in the Store")
		})
	}

	t.Run("written as before", func(t *testing.T) {
		store := NewMemoryStore()
		s, _ := newSDK(t, WithStore(store))
		push := freshPush("c_2") // one timestamp for both sides of the comparison
		require.NoError(t, s.HandleIncomingCallWithUI(ctxT(t), push))
		raw, ok, err := store.Load(storeKeyPendingCall)
		require.NoError(t, err)
		require.True(t, ok)
		var legacy legacyPendingRecord
		require.NoError(t, json.Unmarshal([]byte(raw), &legacy))
		d, err := ParseIncomingCall(push)
		require.NoError(t, err)
		assert.Equal(t, d.Push(), legacy.Push)
		again, err := json.Marshal(legacyPendingRecord{Push: legacy.Push, ReceivedAt: legacy.ReceivedAt})
		require.NoError(t, err)
		assert.JSONEq(t, raw, string(again), "the same JSON an older SDK wrote")
	})
}

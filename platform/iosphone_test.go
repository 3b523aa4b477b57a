package platform

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/internal/testlog"
)

// These test the iOS platform's logic on any host, with a fake
// Objective-C side; ios-check compiles the real one (make ios-check).

// fakeApple is an appleBridge: each call is recorded as "name(args)".
// Permission requests go to requests with their code, for the test to
// answer as the Objective-C side would (permissionAnswer).
type fakeApple struct {
	mu       sync.Mutex
	calls    []string
	mic      micPermission
	speaker  string // setSpeaker's answer
	requests chan fakeRequestIOS
}

type fakeRequestIOS struct {
	name string
	code int32
}

func newFakeApple() *fakeApple { return &fakeApple{requests: make(chan fakeRequestIOS, 16)} }

func (f *fakeApple) record(format string, args ...any) {
	f.mu.Lock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

func (f *fakeApple) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeApple) start() { f.record("setup()") }
func (f *fakeApple) recordPermission() micPermission {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mic
}
func (f *fakeApple) requestRecordPermission(code int32) { f.requests <- fakeRequestIOS{"mic", code} }
func (f *fakeApple) notificationPermission(code int32)  { f.requests <- fakeRequestIOS{"notes?", code} }
func (f *fakeApple) requestNotificationPermission(code int32) {
	f.requests <- fakeRequestIOS{"notes", code}
}
func (f *fakeApple) reportIncomingCall(uuid string, d callDisplay) {
	f.record("report(%s,%s,%s)", uuid, d.handle, d.name)
}
func (f *fakeApple) updateCall(uuid string, d callDisplay) {
	f.record("update(%s,%s,%s)", uuid, d.handle, d.name)
}
func (f *fakeApple) endCall(uuid string, r endReason)      { f.record("end(%s,%d)", uuid, r) }
func (f *fakeApple) startOutgoingCall(uuid, handle string) { f.record("start(%s,%s)", uuid, handle) }
func (f *fakeApple) outgoingConnected(uuid string)         { f.record("connected(%s)", uuid) }
func (f *fakeApple) setSpeaker(on bool) string {
	f.record("speaker(%t)", on)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.speaker
}

// sdkFake plays the SDK: it takes pushes and, unless ignore says not,
// shows each one's call with the key the SDK would use; it records the
// call actions it receives.
type sdkFake struct {
	p       *iosPhone
	actions actionLog
	pushes  chan map[string]any
	tokens  chan string
	ignore  func(data map[string]any) bool
	showKey func(data map[string]any) string
}

func newIOSForTest(t *testing.T) (*iosPhone, *fakeApple, *sdkFake) {
	t.Helper()
	var log testlog.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(log.String())
		}
	})
	b := newFakeApple()
	p := newIOSPhone(newConfig([]Option{WithLogger(log.Logger())}), b, nil, nil)
	s := &sdkFake{p: p, pushes: make(chan map[string]any, 16), tokens: make(chan string, 16)}
	p.SetCallActionHandler(s.actions.handle)
	p.SetPushHandlers(PushHandlers{Incoming: s.incoming, TokenChanged: func(k TokenKind, tok string) {
		assert.Equal(t, TokenVoIP, k)
		s.tokens <- tok
	}})
	return p, b, s
}

func (s *sdkFake) incoming(data map[string]any) {
	if s.ignore == nil || !s.ignore(data) {
		key, _ := data["callId"].(string)
		if s.showKey != nil {
			key = s.showKey(data)
		}
		from, _ := data["callFrom"].(string)
		name, _ := data["callerName"].(string)
		if data["event"] == nil {
			// Calling back into the platform from its handler, as the SDK does.
			_ = s.p.ShowIncomingCall(context.Background(), IncomingCall{CallID: key, Handle: from, CallerName: name})
		} else {
			_ = s.p.DismissIncomingCall(context.Background(), key)
		}
	}
	s.pushes <- data
}

func (s *sdkFake) nextPush(t *testing.T) map[string]any {
	t.Helper()
	select {
	case d := <-s.pushes:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("no push reached the SDK")
		return nil
	}
}

func (s *sdkFake) noPush(t *testing.T) {
	t.Helper()
	select {
	case d := <-s.pushes:
		t.Fatalf("a push reached the SDK: %v", d)
	case <-time.After(50 * time.Millisecond):
	}
}

// settle waits until the platform has delivered everything queued.
func settle(t *testing.T, p *iosPhone) {
	t.Helper()
	require.Eventually(t, func() bool {
		p.events.mu.Lock()
		defer p.events.mu.Unlock()
		return len(p.events.pending) == 0 && !p.events.draining
	}, 5*time.Second, time.Millisecond)
}

var uuidForm = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`)

func TestIOSPushIsReportedBeforeTheSDKHearsOfIt(t *testing.T) {
	p, b, s := newIOSForTest(t)
	r := p.incomingPush([]byte(`{"callFrom":"1001","callerName":"Asha","callId":"c1","callType":"APPTOAPP"}`))
	assert.Regexp(t, uuidForm, r.uuid)
	assert.Equal(t, "1001", r.handle)
	assert.Equal(t, "Asha", r.name)
	assert.False(t, r.end)
	s.noPush(t) // CallKit has not taken it yet

	p.incomingReported(r.uuid, "")
	assert.Equal(t, "c1", s.nextPush(t)["callId"])
	settle(t, p)
	assert.Equal(t, []string{"setup()", "update(" + r.uuid + ",1001,Asha)"}, b.recorded(),
		"the SDK's ShowIncomingCall updates the reported call; it does not report a second one")
}

func TestIOSPushRules(t *testing.T) {
	tests := []struct {
		name       string
		before     []string // pushes reported and taken first
		push       string
		sameUUID   bool // the same UUID as the first push before
		end        bool
		reason     endReason
		handle     string
		reachesSDK bool
	}{
		{"a new call", nil, `{"callFrom":"1001","callId":"c1"}`, false, false, 0, "1001", true},
		{"the same call again", []string{`{"callFrom":"1001","callId":"c1"}`}, `{"callFrom":"1001","callId":"c1"}`,
			true, false, 0, "1001", true},
		{"the end of a ringing call", []string{`{"callFrom":"1001","callId":"c1"}`}, `{"callId":"c1","event":"end"}`,
			true, true, endRemoteEnded, "Unknown", true},
		{"the end of a call never seen", nil, `{"callFrom":"1001","callId":"c9","event":"end"}`,
			false, true, endRemoteEnded, "1001", true},
		{"a call already over", []string{`{"callFrom":"1001","callId":"c1"}`, `{"callId":"c1","event":"end"}`},
			`{"callFrom":"1001","callId":"c1"}`, false, true, endFailed, "1001", false},
		{"unreadable", nil, `{"callFrom":`, false, true, endFailed, "Unknown", false},
		{"no caller", nil, `{"callId":"c1"}`, false, true, endFailed, "Unknown", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, s := newIOSForTest(t)
			var first string
			for i, before := range tt.before {
				r := p.incomingPush([]byte(before))
				if i == 0 {
					first = r.uuid
				}
				p.incomingReported(r.uuid, "")
				s.nextPush(t)
			}
			r := p.incomingPush([]byte(tt.push))
			assert.Regexp(t, uuidForm, r.uuid)
			assert.Equal(t, tt.sameUUID, r.uuid == first, "same UUID as the call before")
			assert.Equal(t, tt.end, r.end)
			assert.Equal(t, tt.reason, r.reason)
			assert.Equal(t, tt.handle, r.handle)
			errText := ""
			if tt.sameUUID {
				errText = "The call UUID is already in use" // CallKit refuses a repeat
			}
			p.incomingReported(r.uuid, errText)
			if tt.reachesSDK {
				s.nextPush(t)
			} else {
				s.noPush(t)
			}
			p.mu.Lock()
			live := p.table.byUUID[r.uuid].live()
			p.mu.Unlock()
			assert.Equal(t, !tt.end, live, "a call ended on report is over in Go too")
		})
	}
}

func TestIOSPushTheSDKDoesNotShowIsEnded(t *testing.T) {
	p, b, s := newIOSForTest(t)
	s.ignore = func(map[string]any) bool { return true } // stale, or for another number
	r := p.incomingPush([]byte(`{"callFrom":"1001","callId":"c1"}`))
	p.incomingReported(r.uuid, "")
	s.nextPush(t)
	settle(t, p)
	assert.Equal(t, []string{"setup()", fmt.Sprintf("end(%s,%d)", r.uuid, endFailed)}, b.recorded())
}

func TestIOSPushWithoutCallIDIsClaimedByTheSDKsKey(t *testing.T) {
	p, b, s := newIOSForTest(t)
	s.showKey = func(map[string]any) string { return "sdk-uuid" } // callcore's UUID of the push
	r := p.incomingPush([]byte(`{"callFrom":"1001"}`))
	p.incomingReported(r.uuid, "")
	s.nextPush(t)
	settle(t, p)
	require.NoError(t, p.DismissIncomingCall(context.Background(), "sdk-uuid"))
	assert.Equal(t, []string{"setup()", "update(" + r.uuid + ",1001,)", fmt.Sprintf("end(%s,%d)", r.uuid, endRemoteEnded)},
		b.recorded())
}

func TestIOSRefusedReportDoesNotReachTheSDK(t *testing.T) {
	p, _, s := newIOSForTest(t)
	r := p.incomingPush([]byte(`{"callFrom":"1001","callId":"c1"}`))
	p.incomingReported(r.uuid, "Do Not Disturb")
	s.noPush(t)
	assert.False(t, p.providerAction(kindAnswer, r.uuid, false, ""), "a refused call cannot be answered")
}

// ring reports and shows call c1 from 1001, as a push does.
func ring(t *testing.T, p *iosPhone, s *sdkFake) string {
	t.Helper()
	r := p.incomingPush([]byte(`{"callFrom":"1001","callId":"c1"}`))
	p.incomingReported(r.uuid, "")
	s.nextPush(t)
	return r.uuid
}

func TestIOSCallKitActionsMapToTheSDK(t *testing.T) {
	type step struct {
		kind   providerKind
		on     bool
		digits string
		ok     bool
	}
	tests := []struct {
		name  string
		steps []step
		want  []CallAction
	}{
		{"answer, mute, hold, keypad, hang up", []step{
			{kind: kindAnswer, ok: true},
			{kind: kindMute, on: true, ok: true},
			{kind: kindMute, on: false, ok: true},
			{kind: kindHold, on: true, ok: true},
			{kind: kindDTMF, digits: "12#*", ok: true},
			{kind: kindEnd, ok: true},
		}, []CallAction{
			{Action: ActionAccept, CallID: "c1"},
			{Action: ActionMute, CallID: "c1", On: true},
			{Action: ActionMute, CallID: "c1"},
			{Action: ActionHold, CallID: "c1", On: true},
			{Action: ActionDTMF, CallID: "c1", Digits: "12#*"},
			{Action: ActionHangup, CallID: "c1"},
		}},
		{"decline", []step{{kind: kindEnd, ok: true}}, []CallAction{{Action: ActionDecline, CallID: "c1"}}},
		{"controls of a ringing call fail", []step{
			{kind: kindMute, on: true}, {kind: kindHold, on: true}, {kind: kindDTMF, digits: "1"},
		}, nil},
		{"keys that are not DTMF fail", []step{
			{kind: kindAnswer, ok: true}, {kind: kindDTMF, digits: "1a"}, {kind: kindDTMF, digits: ""},
		}, []CallAction{{Action: ActionAccept, CallID: "c1"}}},
		{"answered twice", []step{{kind: kindAnswer, ok: true}, {kind: kindAnswer}},
			[]CallAction{{Action: ActionAccept, CallID: "c1"}}},
		{"after the end nothing", []step{{kind: kindEnd, ok: true}, {kind: kindAnswer}, {kind: kindEnd}},
			[]CallAction{{Action: ActionDecline, CallID: "c1"}}},
		{"a start action for an incoming call fails", []step{{kind: kindStart}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, s := newIOSForTest(t)
			uuid := ring(t, p, s)
			for i, st := range tt.steps {
				assert.Equal(t, st.ok, p.providerAction(st.kind, uuid, st.on, st.digits), "step %d (%v)", i, st.kind)
			}
			settle(t, p)
			assert.Equal(t, tt.want, s.actions.actions())
		})
	}
}

func TestIOSActionForUnknownCallFails(t *testing.T) {
	p, _, s := newIOSForTest(t)
	assert.False(t, p.providerAction(kindAnswer, newCallUUID(), false, ""))
	settle(t, p)
	assert.Empty(t, s.actions.actions())
}

func TestIOSResetEndsEveryCall(t *testing.T) {
	p, _, s := newIOSForTest(t)
	uuid := ring(t, p, s)
	require.True(t, p.providerAction(kindAnswer, uuid, false, ""))
	r := p.incomingPush([]byte(`{"callFrom":"1002","callId":"c2"}`))
	p.incomingReported(r.uuid, "")
	s.nextPush(t)
	require.True(t, p.providerAction(kindReset, "", false, ""))
	settle(t, p)
	assert.Equal(t, []CallAction{
		{Action: ActionAccept, CallID: "c1"},
		{Action: ActionHangup, CallID: "c1"},
		{Action: ActionDecline, CallID: "c2"},
	}, s.actions.actions())
}

func TestIOSEventsWaitForTheSDK(t *testing.T) {
	b := newFakeApple()
	p := newIOSPhone(newConfig(nil), b, nil, nil)
	var got actionLog
	p.SetCallActionHandler(got.handle)
	// A push that launched the app, and its answer, before the SDK exists.
	r := p.incomingPush([]byte(`{"callFrom":"1001","callId":"c1"}`))
	p.incomingReported(r.uuid, "")
	require.True(t, p.providerAction(kindAnswer, r.uuid, false, ""))

	pushes := make(chan string, 2)
	p.SetPushHandlers(PushHandlers{Incoming: func(data map[string]any) {
		require.NoError(t, p.ShowIncomingCall(context.Background(), IncomingCall{CallID: "c1", Handle: "1001"}))
		pushes <- data["callId"].(string)
	}})
	assert.Equal(t, "c1", <-pushes)
	settle(t, p)
	assert.Equal(t, []CallAction{{Action: ActionAccept, CallID: "c1"}}, got.actions(),
		"the answer comes after its push, which the SDK showed")
}

func TestIOSCallFromTheEventsConnectionIsReported(t *testing.T) {
	p, b, s := newIOSForTest(t)
	ctx := context.Background()
	require.NoError(t, p.ShowIncomingCall(ctx, IncomingCall{CallID: "c5", Handle: "1005", CallerName: "Ravi"}))
	calls := b.recorded()
	require.Len(t, calls, 2)
	var uuid string
	_, err := fmt.Sscanf(calls[1], "report(%36s", &uuid)
	require.NoError(t, err)
	assert.Equal(t, "report("+uuid+",1005,Ravi)", calls[1])

	p.incomingReported(uuid, "")
	s.noPush(t) // it did not come by push
	require.True(t, p.providerAction(kindAnswer, uuid, false, ""))
	settle(t, p)
	assert.Equal(t, []CallAction{{Action: ActionAccept, CallID: "c5"}}, s.actions.actions())
}

func TestIOSAudioStartsOnlyOnceCallKitActivatesTheSession(t *testing.T) {
	p, b, s := newIOSForTest(t)
	ctx := context.Background()
	uuid := ring(t, p, s)
	require.True(t, p.providerAction(kindAnswer, uuid, false, ""))

	started := make(chan error, 1)
	go func() { started <- p.StartForegroundService(ctx, "1001") }()
	select {
	case err := <-started:
		t.Fatalf("returned before the audio session was active: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	p.audioSession(true)
	require.NoError(t, <-started)
	assert.NotContains(t, fmt.Sprint(b.recorded()), "start(", "an answered call needs no start action")

	require.NoError(t, p.StopForegroundService(ctx))
	p.audioSession(false)
	assert.Contains(t, b.recorded(), fmt.Sprintf("end(%s,%d)", uuid, endRemoteEnded), "the far end's hang-up reaches CallKit")
}

func TestIOSOutgoingCallGoesThroughCallKit(t *testing.T) {
	p, b, _ := newIOSForTest(t)
	ctx := context.Background()
	started := make(chan error, 1)
	go func() { started <- p.StartForegroundService(ctx, "9876543210") }()
	var uuid string
	require.Eventually(t, func() bool {
		for _, c := range b.recorded() {
			if _, err := fmt.Sscanf(c, "start(%36s", &uuid); err == nil {
				return true
			}
		}
		return false
	}, 5*time.Second, time.Millisecond)
	assert.Contains(t, b.recorded(), "start("+uuid+",9876543210)")
	require.True(t, p.providerAction(kindStart, uuid, false, ""), "CallKit performs the start action")
	p.audioSession(true)
	require.NoError(t, <-started)
	assert.Contains(t, b.recorded(), "connected("+uuid+")")

	// CallKit's mute on the outgoing call reaches the SDK; so does its end.
	require.True(t, p.providerAction(kindMute, uuid, true, ""))
	require.True(t, p.providerAction(kindEnd, uuid, false, ""))
	require.NoError(t, p.StopForegroundService(ctx))
	settle(t, p)
	assert.NotContains(t, b.recorded(), fmt.Sprintf("end(%s,%d)", uuid, endRemoteEnded), "CallKit ended it itself")
}

func TestIOSStartForegroundServiceFailures(t *testing.T) {
	t.Run("CallKit refuses the call", func(t *testing.T) {
		p, b, _ := newIOSForTest(t)
		started := make(chan error, 1)
		go func() { started <- p.StartForegroundService(context.Background(), "1001") }()
		var uuid string
		require.Eventually(t, func() bool {
			calls := b.recorded()
			_, err := fmt.Sscanf(calls[len(calls)-1], "start(%36s", &uuid)
			return err == nil
		}, 5*time.Second, time.Millisecond)
		p.outgoingRefused(uuid, "call in progress")
		assert.ErrorIs(t, <-started, ErrNotAllowed)
	})
	t.Run("the context ends", func(t *testing.T) {
		p, _, _ := newIOSForTest(t)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		assert.ErrorIs(t, p.StartForegroundService(ctx, "1001"), context.DeadlineExceeded)
	})
}

func TestIOSPushToken(t *testing.T) {
	p, _, s := newIOSForTest(t)
	ctx := context.Background()
	fcm, err := p.PushToken(ctx, TokenFCM)
	require.NoError(t, err)
	assert.Empty(t, fcm)

	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	_, err = p.PushToken(short, TokenVoIP)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "waits for PushKit")

	p.voipToken([]byte{0xab, 0xcd, 0x01})
	tok, err := p.PushToken(ctx, TokenVoIP)
	require.NoError(t, err)
	assert.Equal(t, "abcd01", tok)
	assert.Equal(t, "abcd01", <-s.tokens)

	p.voipToken([]byte{0xab, 0xcd, 0x01}) // the same again: nothing new
	p.voipToken([]byte{0x02})
	assert.Equal(t, "02", <-s.tokens, "a changed token makes the SDK register again")

	p.voipToken(make([]byte, maxVoIPTokenBytes+1))
	tok, err = p.PushToken(ctx, TokenVoIP)
	require.NoError(t, err)
	assert.Equal(t, "02", tok, "a token too long is dropped")

	p.voipToken(nil)
	_, err = p.PushToken(ctx, TokenVoIP)
	assert.ErrorIs(t, err, ErrNativeFailed, "invalidated")
}

func TestIOSPermissions(t *testing.T) {
	ctx := context.Background()
	answer := func(p *iosPhone, b *fakeApple, name string, granted bool) {
		t.Helper()
		req := <-b.requests
		require.Equal(t, name, req.name)
		p.permissionAnswer(req.code, granted)
	}
	t.Run("check", func(t *testing.T) {
		p, b, _ := newIOSForTest(t)
		ok, err := p.CheckPermissions(ctx)
		require.NoError(t, err)
		assert.False(t, ok, "the microphone is undetermined: notifications are not asked")
		assert.Empty(t, b.requests)

		b.mu.Lock()
		b.mic = micGranted
		b.mu.Unlock()
		go answer(p, b, "notes?", true)
		ok, err = p.CheckPermissions(ctx)
		require.NoError(t, err)
		assert.True(t, ok)
	})
	t.Run("request", func(t *testing.T) {
		p, b, _ := newIOSForTest(t)
		go func() {
			answer(p, b, "mic", true)
			answer(p, b, "notes", false)
		}()
		ok, err := p.RequestPermissions(ctx)
		require.NoError(t, err)
		assert.False(t, ok, "notifications refused")
	})
	t.Run("no answer", func(t *testing.T) {
		p, _, _ := newIOSForTest(t)
		short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		_, err := p.RequestPermissions(short)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestIOSSetAudioRoute(t *testing.T) {
	p, b, _ := newIOSForTest(t)
	ctx := context.Background()
	require.NoError(t, p.SetAudioRoute(ctx, RouteSpeaker))
	require.NoError(t, p.SetAudioRoute(ctx, RouteEarpiece))
	assert.Equal(t, []string{"setup()", "speaker(true)", "speaker(false)"}, b.recorded())

	b.mu.Lock()
	b.speaker = "failed: no route"
	b.mu.Unlock()
	err := p.SetAudioRoute(ctx, RouteSpeaker)
	assert.ErrorIs(t, err, ErrNativeFailed)
	assert.Equal(t, RouteEarpiece, p.currentRoute(), "unchanged on failure")
	assert.ErrorIs(t, p.SetAudioRoute(ctx, Route(9)), ErrInvalid)
}

func TestIOSWithoutGlue(t *testing.T) {
	ctx := context.Background()
	why := fmt.Errorf("no glue in this build: %w", ErrUnsupported)
	p := newIOSPhone(newConfig(nil), nil, why, nil)
	_, err := p.CheckPermissions(ctx)
	assert.ErrorIs(t, err, ErrUnsupported)
	_, err = p.RequestPermissions(ctx)
	assert.ErrorIs(t, err, ErrUnsupported)
	_, err = p.PushToken(ctx, TokenVoIP)
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.ErrorIs(t, p.ShowIncomingCall(ctx, IncomingCall{CallID: "c1"}), ErrUnsupported)
	assert.ErrorIs(t, p.StartForegroundService(ctx, "x"), ErrUnsupported)
	assert.ErrorIs(t, p.StopForegroundService(ctx), ErrUnsupported)
	assert.ErrorIs(t, p.SetAudioRoute(ctx, RouteSpeaker), ErrUnsupported)
	assert.NoError(t, p.DismissIncomingCall(ctx, "c1"))

	ui := newFakeUI()
	var log actionLog
	p = newIOSPhone(newConfig([]Option{WithIncomingUI(ui.show)}), nil, why, nil)
	p.SetCallActionHandler(log.handle)
	require.NoError(t, p.ShowIncomingCall(ctx, IncomingCall{CallID: "c1"}))
	ui.tap(t, "c1", ActionAccept)
	assert.Equal(t, []CallAction{{Action: ActionAccept, CallID: "c1"}}, log.actions(), "the app's own screen still works")
}

func TestCallTableForgetsOldEndedCalls(t *testing.T) {
	tb := newCallTable()
	live := newCKCall(newCallUUID(), "live", true)
	tb.add(live)
	for i := range maxEndedCalls + 10 {
		c := newCKCall(newCallUUID(), fmt.Sprintf("c%d", i), true)
		c.end()
		tb.add(c)
	}
	assert.Len(t, tb.byUUID, maxEndedCalls+1)
	assert.Same(t, live, tb.byKey["live"], "a live call is never forgotten")
	assert.NotContains(t, tb.byKey, "c0", "the oldest ended calls go")
	assert.Contains(t, tb.byKey, fmt.Sprintf("c%d", maxEndedCalls+9))
}

// FuzzIOSIncomingPush: whatever a VoIP push holds, the platform answers
// with a call CallKit can show (a UUID, a handle), and ends at once every
// call it will not hand to the SDK: iOS kills an app that reports nothing.
func FuzzIOSIncomingPush(f *testing.F) {
	for _, s := range []string{
		`{"callFrom":"1001","callId":"c1"}`, `{"callId":"c1","event":"end"}`, `{`, ``, `{"callFrom":7}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		p := newIOSPhone(newConfig(nil), newFakeApple(), nil, nil)
		r := p.incomingPush(payload)
		if !uuidForm.MatchString(r.uuid) || r.handle == "" {
			t.Fatalf("nothing CallKit can show: %+v", r)
		}
		if r.push == nil && !r.end {
			t.Fatalf("a call reported, not for the SDK, and left ringing: %+v", r)
		}
		if r.end && r.reason == 0 {
			t.Fatal("ended without a reason")
		}
	})
}

// The glue's callbacks can come as soon as it starts (a push that launched
// the app, the VoIP token): the platform is their receiver before that.
func TestTheReceiverIsSetBeforeTheBridgeStarts(t *testing.T) {
	b := newFakeApple()
	newIOSPhone(newConfig(nil), b, nil, func(*iosPhone) { b.record("receiver") })
	assert.Equal(t, []string{"receiver", "setup()"}, b.recorded())
}

// CallKit deactivates the audio session some time after a call ends: the
// next call waits for its own activation, not the last call's.
func TestIOSNextCallWaitsForItsOwnAudioActivation(t *testing.T) {
	p, b, _ := newIOSForTest(t)
	ctx := context.Background()
	started := make(chan error, 1)
	go func() { started <- p.StartForegroundService(ctx, "1001") }()
	require.Eventually(t, func() bool { return len(b.recorded()) > 1 }, 5*time.Second, time.Millisecond)
	p.audioSession(true)
	require.NoError(t, <-started)
	require.NoError(t, p.StopForegroundService(ctx)) // the deactivation has not come yet

	go func() { started <- p.StartForegroundService(ctx, "1002") }()
	select {
	case err := <-started:
		t.Fatalf("the next call took the last call's audio session: %v", err)
	case <-time.After(100 * time.Millisecond): // a window in which it must not return
	}
	p.audioSession(true)
	require.NoError(t, <-started)
}

package platform

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHeadlessDefaults(t *testing.T) {
	ctx := context.Background()
	h := NewHeadless()
	assert.Equal(t, "headless", h.Name())

	granted, err := h.CheckPermissions(ctx)
	require.NoError(t, err)
	assert.True(t, granted)
	for _, kind := range []TokenKind{TokenVoIP, TokenFCM} {
		tok, err := h.PushToken(ctx, kind)
		require.NoError(t, err)
		assert.Empty(t, tok)
	}
	assert.Equal(t, RouteEarpiece, h.Route())
	assert.Empty(t, h.ShownCalls())
	assert.Empty(t, h.Dismissed())
	active, title := h.ForegroundService()
	assert.False(t, active)
	assert.Empty(t, title)
	assert.Zero(t, h.PermissionRequests())
}

func TestHeadlessPermissions(t *testing.T) {
	tests := []struct {
		name string
		opts []HeadlessOption
		set  *bool
		want bool
	}{
		{name: "default granted", want: true},
		{name: "option refused", opts: []HeadlessOption{WithPermissions(false)}, want: false},
		{name: "set refused", set: new(false), want: false},
		{name: "set granted after refused", opts: []HeadlessOption{WithPermissions(false)}, set: new(true), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := NewHeadless(tt.opts...)
			if tt.set != nil {
				h.SetPermissions(*tt.set)
			}
			got, err := h.RequestPermissions(ctx)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			got, err = h.CheckPermissions(ctx)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, 1, h.PermissionRequests())
		})
	}
}

func TestHeadlessTokens(t *testing.T) {
	tests := []struct {
		name           string
		opts           []HeadlessOption
		set            map[TokenKind]string
		wantVoIP, want string // want is the FCM token
	}{
		{name: "none"},
		{name: "option", opts: []HeadlessOption{WithToken(TokenFCM, "fcm-1")}, want: "fcm-1"},
		{name: "set both", set: map[TokenKind]string{TokenVoIP: "voip-1", TokenFCM: "fcm-2"}, wantVoIP: "voip-1", want: "fcm-2"},
		{name: "set clears", opts: []HeadlessOption{WithToken(TokenFCM, "fcm-1")}, set: map[TokenKind]string{TokenFCM: ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := NewHeadless(tt.opts...)
			for k, v := range tt.set {
				h.SetToken(k, v)
			}
			got, err := h.PushToken(ctx, TokenVoIP)
			require.NoError(t, err)
			assert.Equal(t, tt.wantVoIP, got)
			got, err = h.PushToken(ctx, TokenFCM)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestHeadlessRespond(t *testing.T) {
	type step struct {
		op     string // "show", "respond", "dismiss"
		callID string
		action Action
		want   bool // for respond: was it delivered?
	}
	tests := []struct {
		name        string
		noHandler   bool
		steps       []step
		want        []CallAction
		wantShowing []string
		wantShown   int
		wantDismiss []string
	}{
		{
			name:      "accept",
			steps:     []step{{op: "show", callID: "c1"}, {op: "respond", callID: "c1", action: ActionAccept, want: true}},
			want:      []CallAction{{Action: ActionAccept, CallID: "c1"}},
			wantShown: 1,
		},
		{
			name: "second answer is dropped",
			steps: []step{{op: "show", callID: "c1"},
				{op: "respond", callID: "c1", action: ActionDecline, want: true},
				{op: "respond", callID: "c1", action: ActionAccept, want: false}},
			want:      []CallAction{{Action: ActionDecline, CallID: "c1"}},
			wantShown: 1,
		},
		{
			name:      "unknown call",
			steps:     []step{{op: "respond", callID: "nope", action: ActionAccept, want: false}},
			wantShown: 0,
		},
		{
			name: "dismissed call",
			steps: []step{{op: "show", callID: "c1"}, {op: "dismiss", callID: "c1"},
				{op: "respond", callID: "c1", action: ActionAccept, want: false}},
			wantShown:   1,
			wantDismiss: []string{"c1"},
		},
		{
			name: "dismiss of unknown call recorded",
			steps: []step{{op: "show", callID: "c1"}, {op: "dismiss", callID: "zz"},
				{op: "respond", callID: "c1", action: ActionAccept, want: true}},
			want:        []CallAction{{Action: ActionAccept, CallID: "c1"}},
			wantShown:   1,
			wantDismiss: []string{"zz"},
		},
		{
			name:        "invalid action",
			steps:       []step{{op: "show", callID: "c1"}, {op: "respond", callID: "c1", action: Action(-1), want: false}},
			wantShowing: []string{"c1"},
			wantShown:   1,
		},
		{
			name:        "no handler",
			noHandler:   true,
			steps:       []step{{op: "show", callID: "c1"}, {op: "respond", callID: "c1", action: ActionAccept, want: false}},
			wantShowing: []string{"c1"},
			wantShown:   1,
		},
		{
			name: "two calls",
			steps: []step{{op: "show", callID: "c1"}, {op: "show", callID: "c2"},
				{op: "respond", callID: "c2", action: ActionAccept, want: true}},
			want:        []CallAction{{Action: ActionAccept, CallID: "c2"}},
			wantShowing: []string{"c1"},
			wantShown:   2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := NewHeadless()
			log := &actionLog{}
			if !tt.noHandler {
				h.SetCallActionHandler(log.handle)
			}
			for _, s := range tt.steps {
				switch s.op {
				case "show":
					require.NoError(t, h.ShowIncomingCall(ctx, IncomingCall{CallID: s.callID, Handle: "+1"}))
				case "respond":
					assert.Equal(t, s.want, h.Respond(s.callID, s.action), "Respond(%s, %v)", s.callID, s.action)
				case "dismiss":
					require.NoError(t, h.DismissIncomingCall(ctx, s.callID))
				default:
					t.Fatalf("bad step %q", s.op)
				}
			}
			assert.Equal(t, tt.want, log.actions())
			assert.Len(t, h.ShownCalls(), tt.wantShown)
			assert.Equal(t, tt.wantDismiss, h.Dismissed())
			for _, id := range tt.wantShowing {
				assert.True(t, h.Showing(id), "%s should still be showing", id)
			}
		})
	}
}

func TestHeadlessShowRejectsMissingCallID(t *testing.T) {
	h := NewHeadless()
	require.ErrorIs(t, h.ShowIncomingCall(context.Background(), IncomingCall{Handle: "+1"}), errNoCallID)
	assert.Empty(t, h.ShownCalls())
}

func TestHeadlessAutoAnswer(t *testing.T) {
	tests := []struct {
		name   string
		answer func(IncomingCall) Action
		call   IncomingCall
		want   Action
	}{
		{name: "accept all", answer: func(IncomingCall) Action { return ActionAccept },
			call: IncomingCall{CallID: "c1", Handle: "+1"}, want: ActionAccept},
		{name: "decline anonymous", answer: func(c IncomingCall) Action {
			if c.Handle == "" {
				return ActionDecline
			}
			return ActionAccept
		}, call: IncomingCall{CallID: "c2"}, want: ActionDecline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan CallAction, 1)
			h := NewHeadless(WithAutoAnswer(tt.answer))
			h.SetCallActionHandler(func(a CallAction) { got <- a })
			require.NoError(t, h.ShowIncomingCall(context.Background(), tt.call))
			select {
			case a := <-got:
				assert.Equal(t, CallAction{Action: tt.want, CallID: tt.call.CallID}, a)
			case <-time.After(5 * time.Second):
				t.Fatal("auto-answer never arrived")
			}
			assert.False(t, h.Showing(tt.call.CallID))
			assert.False(t, h.Respond(tt.call.CallID, ActionDecline), "already answered")
		})
	}
}

func TestHeadlessRouteAndForegroundService(t *testing.T) {
	ctx := context.Background()
	h := NewHeadless()

	require.NoError(t, h.SetAudioRoute(ctx, RouteSpeaker))
	assert.Equal(t, RouteSpeaker, h.Route())
	require.ErrorContains(t, h.SetAudioRoute(ctx, Route(3)), "unknown audio route")
	assert.Equal(t, RouteSpeaker, h.Route(), "a bad route changes nothing")
	require.NoError(t, h.SetAudioRoute(ctx, RouteEarpiece))
	assert.Equal(t, RouteEarpiece, h.Route())

	require.NoError(t, h.StartForegroundService(ctx, "Call with Ada"))
	active, title := h.ForegroundService()
	assert.True(t, active)
	assert.Equal(t, "Call with Ada", title)
	require.NoError(t, h.StopForegroundService(ctx))
	active, _ = h.ForegroundService()
	assert.False(t, active)
}

func TestHeadlessCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h := NewHeadless()
	_, err := h.RequestPermissions(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = h.CheckPermissions(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = h.PushToken(ctx, TokenVoIP)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, h.ShowIncomingCall(ctx, IncomingCall{CallID: "c1"}), context.Canceled)
	assert.ErrorIs(t, h.StartForegroundService(ctx, "x"), context.Canceled)
	assert.ErrorIs(t, h.SetAudioRoute(ctx, RouteSpeaker), context.Canceled)
	assert.Empty(t, h.ShownCalls())
}

func TestHeadlessRecordsAreCopies(t *testing.T) {
	ctx := context.Background()
	h := NewHeadless()
	require.NoError(t, h.ShowIncomingCall(ctx, IncomingCall{CallID: "c1"}))
	require.NoError(t, h.DismissIncomingCall(ctx, "c1"))
	shown, dismissed := h.ShownCalls(), h.Dismissed()
	shown[0].CallID, dismissed[0] = "changed", "changed"
	assert.Equal(t, "c1", h.ShownCalls()[0].CallID)
	assert.Equal(t, []string{"c1"}, h.Dismissed())
}

// TestHeadlessConcurrent races every operation; run with -race. Each call is
// answered at most once, whoever wins.
func TestHeadlessConcurrent(t *testing.T) {
	ctx := context.Background()
	h := NewHeadless(WithAutoAnswer(func(IncomingCall) Action { return ActionAccept }))
	var mu sync.Mutex
	answered := make(map[string]int)
	handler := func(a CallAction) {
		mu.Lock()
		answered[a.CallID]++
		mu.Unlock()
	}
	h.SetCallActionHandler(handler)

	const calls = 50
	var wg sync.WaitGroup
	for i := range calls {
		id := fmt.Sprintf("c%d", i)
		wg.Go(func() {
			assert.NoError(t, h.ShowIncomingCall(ctx, IncomingCall{CallID: id}))
			h.Respond(id, ActionDecline)
			assert.NoError(t, h.DismissIncomingCall(ctx, id))
			h.SetCallActionHandler(handler)
			h.SetToken(TokenFCM, id)
			_, _ = h.PushToken(ctx, TokenFCM)
			assert.NoError(t, h.SetAudioRoute(ctx, Route(i%2)))
			_ = h.Route()
			_ = h.ShownCalls()
		})
	}
	wg.Wait()
	assert.Len(t, h.ShownCalls(), calls)
	assert.Len(t, h.Dismissed(), calls)
	mu.Lock()
	defer mu.Unlock()
	for id, n := range answered {
		assert.Equal(t, 1, n, "call %s answered %d times", id, n)
	}
}

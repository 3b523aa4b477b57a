//go:build !android && !ios

package platform

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newDesktop(t *testing.T, opts ...Option) *desktop {
	t.Helper()
	p := New(opts...)
	d, ok := p.(*desktop)
	require.True(t, ok, "New returned %T, want *desktop", p)
	return d
}

func TestDesktopBasics(t *testing.T) {
	ctx := context.Background()
	d := newDesktop(t)
	assert.Equal(t, runtime.GOOS, d.Name())

	granted, err := d.RequestPermissions(ctx)
	require.NoError(t, err)
	assert.True(t, granted)
	granted, err = d.CheckPermissions(ctx)
	require.NoError(t, err)
	assert.True(t, granted)

	for _, kind := range []TokenKind{TokenVoIP, TokenFCM} {
		tok, err := d.PushToken(ctx, kind)
		require.NoError(t, err, kind)
		assert.Empty(t, tok, kind)
	}

	require.NoError(t, d.StartForegroundService(ctx, "In call"))
	require.NoError(t, d.StopForegroundService(ctx))
	require.NoError(t, d.DismissIncomingCall(ctx, "never-shown"))
}

func TestDesktopCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := newDesktop(t, WithIncomingUI(newFakeUI().show))

	_, err := d.RequestPermissions(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = d.PushToken(ctx, TokenFCM)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, d.ShowIncomingCall(ctx, IncomingCall{CallID: "c1"}), context.Canceled)
	assert.ErrorIs(t, d.SetAudioRoute(ctx, RouteSpeaker), context.Canceled)
}

func TestDesktopShowIncomingCall(t *testing.T) {
	tests := []struct {
		name       string
		withUI     bool
		call       IncomingCall
		wantErr    error // nil, ErrUnsupported or errNoCallID
		wantNotify string
	}{
		{
			name:       "name and number",
			withUI:     true,
			call:       IncomingCall{CallID: "c1", Handle: "+4420", CallerName: "Ada"},
			wantNotify: "Incoming call: Ada (+4420)",
		},
		{
			name:       "number only",
			withUI:     true,
			call:       IncomingCall{CallID: "c1", Handle: "+4420"},
			wantNotify: "Incoming call: +4420",
		},
		{
			name:       "a name that is the number",
			withUI:     true,
			call:       IncomingCall{CallID: "c1", Handle: "1002", CallerName: "1002"},
			wantNotify: "Incoming call: 1002",
		},
		{
			name:       "name only",
			withUI:     true,
			call:       IncomingCall{CallID: "c1", CallerName: "Ada"},
			wantNotify: "Incoming call: Ada",
		},
		{
			name:       "anonymous",
			withUI:     true,
			call:       IncomingCall{CallID: "c1"},
			wantNotify: "Incoming call: Unknown caller",
		},
		{
			name:    "no incoming UI",
			withUI:  false,
			call:    IncomingCall{CallID: "c1", Handle: "+4420"},
			wantErr: ErrUnsupported,
		},
		{
			name:    "missing call ID",
			withUI:  true,
			call:    IncomingCall{Handle: "+4420"},
			wantErr: errNoCallID,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ui := newFakeUI()
			opts := []Option{WithNotifier(ui.notify)}
			if tt.withUI {
				opts = append(opts, WithIncomingUI(ui.show))
			}
			d := newDesktop(t, opts...)

			err := d.ShowIncomingCall(context.Background(), tt.call)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Empty(t, ui.shown, "nothing may be shown on error")
				assert.Empty(t, ui.notified, "nothing may be notified on error")
				assert.False(t, d.calls.isShowing(tt.call.CallID))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []IncomingCall{tt.call}, ui.shown)
			assert.Equal(t, []string{tt.wantNotify}, ui.notified)
			assert.True(t, d.calls.isShowing(tt.call.CallID))
		})
	}
}

func TestDesktopReshowUpdatesWithoutSecondNotification(t *testing.T) {
	ui := newFakeUI()
	d := newDesktop(t, WithIncomingUI(ui.show), WithNotifier(ui.notify))
	ctx := context.Background()

	require.NoError(t, d.ShowIncomingCall(ctx, IncomingCall{CallID: "c1", Handle: "+1"}))
	require.NoError(t, d.ShowIncomingCall(ctx, IncomingCall{CallID: "c1", Handle: "+1", CallerName: "Bob"}))
	assert.Len(t, ui.shown, 2, "the screen is updated")
	assert.Len(t, ui.notified, 1, "but notified once")
}

func TestDesktopNotifierErrorIsNotFatal(t *testing.T) {
	ui := newFakeUI()
	d := newDesktop(t, WithIncomingUI(ui.show), WithNotifier(func(string, string) error {
		return errors.New("dbus unavailable")
	}))
	require.NoError(t, d.ShowIncomingCall(context.Background(), IncomingCall{CallID: "c1"}))
	assert.Len(t, ui.shown, 1)
}

func TestDesktopCallActions(t *testing.T) {
	type step struct {
		op     string // "show", "tap", "dismiss", "handler", "nohandler"
		callID string
		action Action
	}
	tests := []struct {
		name  string
		steps []step
		want  []CallAction // what the final handler ("b" in handler steps) got
	}{
		{
			name:  "accept reaches handler",
			steps: []step{{op: "handler"}, {op: "show", callID: "c1"}, {op: "tap", callID: "c1", action: ActionAccept}},
			want:  []CallAction{{Action: ActionAccept, CallID: "c1"}},
		},
		{
			name:  "decline reaches handler",
			steps: []step{{op: "handler"}, {op: "show", callID: "c1"}, {op: "tap", callID: "c1", action: ActionDecline}},
			want:  []CallAction{{Action: ActionDecline, CallID: "c1"}},
		},
		{
			name: "first answer wins",
			steps: []step{{op: "handler"}, {op: "show", callID: "c1"},
				{op: "tap", callID: "c1", action: ActionAccept}, {op: "tap", callID: "c1", action: ActionDecline}},
			want: []CallAction{{Action: ActionAccept, CallID: "c1"}},
		},
		{
			name: "answer after dismiss is ignored",
			steps: []step{{op: "handler"}, {op: "show", callID: "c1"},
				{op: "dismiss", callID: "c1"}, {op: "tap", callID: "c1", action: ActionAccept}},
			want: nil,
		},
		{
			name: "invalid action is ignored",
			steps: []step{{op: "handler"}, {op: "show", callID: "c1"},
				{op: "tap", callID: "c1", action: Action(7)}, {op: "tap", callID: "c1", action: ActionDecline}},
			want: []CallAction{{Action: ActionDecline, CallID: "c1"}},
		},
		{
			name: "answers go to the call they belong to",
			steps: []step{{op: "handler"}, {op: "show", callID: "c1"}, {op: "show", callID: "c2"},
				{op: "dismiss", callID: "c1"},
				{op: "tap", callID: "c1", action: ActionAccept}, {op: "tap", callID: "c2", action: ActionDecline}},
			want: []CallAction{{Action: ActionDecline, CallID: "c2"}},
		},
		{
			name: "latest handler wins",
			steps: []step{{op: "handler"}, {op: "show", callID: "c1"}, {op: "handler"},
				{op: "tap", callID: "c1", action: ActionAccept}},
			want: []CallAction{{Action: ActionAccept, CallID: "c1"}},
		},
		{
			name: "answer without handler is dropped, call stays up",
			steps: []step{{op: "nohandler"}, {op: "show", callID: "c1"},
				{op: "tap", callID: "c1", action: ActionAccept},
				{op: "handler"}, {op: "tap", callID: "c1", action: ActionDecline}},
			want: []CallAction{{Action: ActionDecline, CallID: "c1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ui := newFakeUI()
			d := newDesktop(t, WithIncomingUI(ui.show))
			ctx := context.Background()
			var logs []*actionLog
			for _, s := range tt.steps {
				switch s.op {
				case "show":
					require.NoError(t, d.ShowIncomingCall(ctx, IncomingCall{CallID: s.callID}))
				case "tap":
					ui.tap(t, s.callID, s.action)
				case "dismiss":
					require.NoError(t, d.DismissIncomingCall(ctx, s.callID))
				case "handler":
					l := &actionLog{}
					logs = append(logs, l)
					d.SetCallActionHandler(l.handle)
				case "nohandler":
					d.SetCallActionHandler(nil)
				default:
					t.Fatalf("bad step %q", s.op)
				}
			}
			require.NotEmpty(t, logs)
			last := logs[len(logs)-1]
			assert.Equal(t, tt.want, last.actions())
			for _, l := range logs[:len(logs)-1] {
				assert.Empty(t, l.actions(), "a replaced handler must receive nothing")
			}
		})
	}
}

func TestDesktopHandlerMayCallBack(t *testing.T) {
	ui := newFakeUI()
	d := newDesktop(t, WithIncomingUI(ui.show))
	ctx := context.Background()
	done := make(chan struct{})
	d.SetCallActionHandler(func(a CallAction) {
		// Re-entering the platform from the handler must not deadlock.
		assert.NoError(t, d.DismissIncomingCall(ctx, a.CallID))
		d.SetCallActionHandler(func(CallAction) {})
		close(done)
	})
	require.NoError(t, d.ShowIncomingCall(ctx, IncomingCall{CallID: "c1"}))
	ui.tap(t, "c1", ActionAccept)
	<-done
}

func TestDesktopSetAudioRoute(t *testing.T) {
	errBusy := errors.New("device busy")
	tests := []struct {
		name       string
		handler    func(Route) error
		route      Route
		wantErr    error
		wantErrMsg string
		wantRoute  Route // the recorded route afterwards (starts at earpiece)
		wantCalls  []Route
	}{
		{name: "no handler records speaker", route: RouteSpeaker, wantRoute: RouteSpeaker},
		{name: "no handler records earpiece", route: RouteEarpiece, wantRoute: RouteEarpiece},
		{name: "handler is called", handler: func(Route) error { return nil }, route: RouteSpeaker,
			wantRoute: RouteSpeaker, wantCalls: []Route{RouteSpeaker}},
		{name: "handler error leaves route", handler: func(Route) error { return errBusy }, route: RouteSpeaker,
			wantErr: errBusy, wantRoute: RouteEarpiece, wantCalls: []Route{RouteSpeaker}},
		{name: "unknown route", handler: func(Route) error { return nil }, route: Route(9),
			wantErrMsg: "unknown audio route", wantRoute: RouteEarpiece},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []Route
			var opts []Option
			if tt.handler != nil {
				opts = append(opts, WithRouteHandler(func(r Route) error {
					calls = append(calls, r)
					return tt.handler(r)
				}))
			}
			d := newDesktop(t, opts...)
			err := d.SetAudioRoute(context.Background(), tt.route)
			switch {
			case tt.wantErr != nil:
				require.ErrorIs(t, err, tt.wantErr)
			case tt.wantErrMsg != "":
				require.ErrorContains(t, err, tt.wantErrMsg)
			default:
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantRoute, d.currentRoute())
			assert.Equal(t, tt.wantCalls, calls)
		})
	}
}

// TestDesktopConcurrent races shows, taps, dismissals and handler swaps; run
// with -race. Every call must be answered at most once.
func TestDesktopConcurrent(t *testing.T) {
	ui := newFakeUI()
	d := newDesktop(t, WithIncomingUI(ui.show), WithNotifier(ui.notify), WithRouteHandler(func(Route) error { return nil }))
	ctx := context.Background()
	var mu sync.Mutex
	answered := make(map[string]int)
	handler := func(a CallAction) {
		mu.Lock()
		answered[a.CallID]++
		mu.Unlock()
	}
	d.SetCallActionHandler(handler)

	const calls = 50
	var wg sync.WaitGroup
	for i := range calls {
		id := fmt.Sprintf("c%d", i)
		require.NoError(t, d.ShowIncomingCall(ctx, IncomingCall{CallID: id}))
		for j := range 3 {
			wg.Go(func() {
				switch j {
				case 0:
					ui.tap(t, id, ActionAccept)
				case 1:
					ui.tap(t, id, ActionDecline)
				case 2:
					assert.NoError(t, d.DismissIncomingCall(ctx, id))
				}
				d.SetCallActionHandler(handler)
				assert.NoError(t, d.SetAudioRoute(ctx, Route(j%2)))
			})
		}
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for id, n := range answered {
		assert.Equal(t, 1, n, "call %s answered %d times", id, n)
	}
}

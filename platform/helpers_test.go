package platform

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// actionLog records what a call action handler received.
type actionLog struct {
	mu  sync.Mutex
	got []CallAction
}

func (l *actionLog) handle(a CallAction) {
	l.mu.Lock()
	l.got = append(l.got, a)
	l.mu.Unlock()
}

func (l *actionLog) actions() []CallAction {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]CallAction(nil), l.got...)
}

func TestStringers(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{RouteEarpiece.String(), "earpiece"},
		{RouteSpeaker.String(), "speaker"},
		{Route(5).String(), "Route(5)"},
		{ActionAccept.String(), "accept"},
		{ActionDecline.String(), "decline"},
		{ActionHangup.String(), "hangup"},
		{ActionMute.String(), "mute"},
		{ActionHold.String(), "hold"},
		{ActionDTMF.String(), "dtmf"},
		{kindAnswer.String(), "answer"},
		{kindReset.String(), "reset"},
		{providerKind(99).String(), "providerKind(99)"},
		{Action(9).String(), "Action(9)"},
		{TokenVoIP.String(), "voip"},
		{TokenFCM.String(), "fcm"},
		{TokenKind(5).String(), "TokenKind(5)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.got)
	}
}

// fakeUI is an incoming-call screen that keeps each call's respond function.
type fakeUI struct {
	mu       sync.Mutex
	shown    []IncomingCall
	respond  map[string]func(Action)
	notified []string
}

func newFakeUI() *fakeUI { return &fakeUI{respond: make(map[string]func(Action))} }

func (u *fakeUI) show(call IncomingCall, respond func(Action)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.shown = append(u.shown, call)
	u.respond[call.CallID] = respond
}

func (u *fakeUI) notify(title, body string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.notified = append(u.notified, title+": "+body)
	return nil
}

func (u *fakeUI) tap(t *testing.T, callID string, a Action) {
	t.Helper()
	u.mu.Lock()
	r, ok := u.respond[callID]
	u.mu.Unlock()
	require.True(t, ok, "no screen was shown for %q", callID)
	r(a)
}

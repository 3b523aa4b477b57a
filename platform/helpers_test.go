package platform

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
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
		{Action(5).String(), "Action(5)"},
		{TokenVoIP.String(), "voip"},
		{TokenFCM.String(), "fcm"},
		{TokenKind(5).String(), "TokenKind(5)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.got)
	}
}

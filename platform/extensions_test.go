package platform

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

// wrapped is an app's wrapper around a Platform, as app.dismissNotifier is.
type wrapped struct{ Platform }

func (w wrapped) Unwrap() Platform { return w.Platform }

// opaque wraps without saying so.
type opaque struct{ Platform }

// selfWrapped wraps itself: As must stop.
type selfWrapped struct{ Platform }

func (s *selfWrapped) Unwrap() Platform { return s }

// killState is a Platform with the KillState extension.
type killState struct {
	*Headless
}

func (killState) TakePendingIncomingCall(context.Context) (map[string]any, error) { return nil, nil }
func (killState) TakePendingCallAction(context.Context) (CallAction, bool, error) {
	return CallAction{}, false, nil
}
func (killState) StoreRegisteredNumber(context.Context, string) error { return nil }
func (killState) RegisteredNumber(context.Context) (string, error)    { return "", nil }

func TestAs(t *testing.T) {
	h := NewHeadless()
	ks := killState{h}
	tests := []struct {
		name    string
		p       Platform
		network bool
		kill    bool
	}{
		{"nil", nil, false, false},
		{"headless", h, true, false},
		{"kill state", ks, true, true}, // killState embeds *Headless: WatchNetwork is promoted
		{"wrapped headless", wrapped{h}, true, false},
		{"wrapped kill state", wrapped{ks}, true, true},
		{"wrapped twice", wrapped{wrapped{ks}}, true, true},
		{"opaque", opaque{ks}, false, false},
		{"wrapped opaque", wrapped{opaque{ks}}, false, false},
		{"self-wrapped", &selfWrapped{h}, false, false}, // walks itself until the bound
	}
	for _, tt := range tests {
		_, ok := As[NetworkWatcher](tt.p)
		assert.Equal(t, tt.network, ok, "%s: NetworkWatcher", tt.name)
		k, ok := As[KillState](tt.p)
		assert.Equal(t, tt.kill, ok, "%s: KillState", tt.name)
		if ok {
			assert.NotNil(t, k)
		}
		_, ok = As[PushSource](tt.p)
		assert.False(t, ok, "%s: PushSource", tt.name)
	}
	// A self-wrapping Platform that is not a T ends the walk, not the test.
	_, ok := As[KillState](&selfWrapped{h})
	assert.False(t, ok)
}

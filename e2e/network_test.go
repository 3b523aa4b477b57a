package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/server"
)

// newPhoneVia is newPhone signed in through p instead of directly.
func (e *env) newPhoneVia(t *testing.T, p *proxy, number string, freq float64, opts ...phoneOption) *phone {
	t.Helper()
	direct := e.url
	e.url = p.url()
	defer func() { e.url = direct }()
	return e.newPhone(t, number, freq, opts...)
}

// proxiedAppCall connects A, whose network runs through the returned proxy,
// to B, connected directly, in an answered app-to-app call.
func proxiedAppCall(t *testing.T, opts ...envOption) (p *proxy, a, b *phone) {
	t.Helper()
	e := startServer(t, opts...)
	p = startProxy(t, e.url[len("http://"):])
	a = e.newPhoneVia(t, p, "1001", toneA)
	b = e.newPhone(t, "1002", toneB, answering(platform.ActionAccept))
	require.NoError(t, b.sdk.ListenForIncomingCalls(ctx(t), "1002"))
	require.NoError(t, a.sdk.StartAppToAppInboundCall(ctx(t), "1002", "1001"))
	a.waitFor("started app_to_app 1002 1001")
	return p, a, b
}

func TestCallSurvivesANetworkStall(t *testing.T) {
	t.Parallel()
	p, a, b := proxiedAppCall(t)
	a.hears(toneB)
	b.hears(toneA)

	// Half a second with nothing getting through either way: the jitter
	// buffer conceals then plays silence; nothing hangs up.
	p.stall(500 * time.Millisecond)
	a.hears(toneB)
	b.hears(toneA)
	assert.True(t, a.sdk.IsCallActive())
	assert.True(t, b.sdk.IsCallActive())
	assert.NotContains(t, a.snapshot(), "ended app_to_app 1002")
	st := a.sdk.CallStats()
	assert.Positive(t, st.Jitter.Concealed, "the gap was concealed, not played as garbage")
	assert.Zero(t, st.FramesMalformed)
}

// A server that does not resume calls ends one at once when a party's
// connection fails, and says so to both: network_lost, not a hang-up.
func TestLostNetworkEndsTheCallOnBothSidesWithoutResumption(t *testing.T) {
	t.Parallel()
	p, a, b := proxiedAppCall(t, func(c *server.Config) { c.ResumeGrace = server.NoResume })
	b.hears(toneA)

	p.cut()
	a.waitFor("websocket false")
	a.waitFor("ended app_to_app 1002")
	b.waitFor("ended app_to_app 1001")
	a.waitFor("reason network_lost")
	b.waitFor("reason remote_network_lost")
	assert.NotContains(t, a.snapshot(), "reconnecting local")
	assert.False(t, a.sdk.IsCallActive())
	assert.False(t, b.sdk.IsCallActive())
	a.log.mu.Lock()
	errs := append([]error(nil), a.log.errs...)
	a.log.mu.Unlock()
	require.NotEmpty(t, errs, "the caller is told why the call ended")
	assert.ErrorIs(t, errs[len(errs)-1], callcore.ErrWebSocketConnectionFailed)
}

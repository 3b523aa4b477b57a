package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/server/push/pushtest"
)

// Issue 4's push scenario, end to end: B's app is not running (no events
// connection) but B's phone registered itself with its FCM token. A calls; the
// payload the fake FCM receives is what B's phone would get from Firebase,
// and B's SDK is handed exactly that.

const (
	bToken = "fcm:APA91b-phone-b"
	tick   = 10 * time.Millisecond
)

// pushEnv is a server pushing to the fakes.
func pushEnv(t *testing.T) (*env, *pushtest.Fakes) {
	t.Helper()
	pf := pushtest.New(t)
	e := startServerWith(t, []server.Option{server.WithPush(pf.Transports(t)...), server.WithDeviceStore(devices.NewMemory())},
		func(c *server.Config) { c.Push = pf.Config })
	return e, pf
}

// asAndroid makes a phone an Android phone with an FCM token.
func asAndroid(token string) phoneOption {
	return func(o *[]platform.HeadlessOption) {
		*o = append(*o, platform.WithName("android"), platform.WithToken(platform.TokenFCM, token))
	}
}

// phoneB is B's phone, registered for push and then "closed": it has no
// events connection, so only a push can reach it.
func phoneB(t *testing.T, e *env, opts ...phoneOption) *phone {
	t.Helper()
	b := e.newPhone(t, "1002", toneB, append(opts, asAndroid(bToken))...)
	require.NoError(t, b.sdk.RegisterDevice(ctx(t), "1002"))
	return b
}

// pushed waits for the n-th FCM message to B and returns its data as the
// app's FCM handler hands it to the SDK (message.data, all strings).
func pushed(t *testing.T, pf *pushtest.Fakes, n int) map[string]any {
	t.Helper()
	require.Eventually(t, func() bool { return len(pf.FCM.Requests()) >= n }, waitEvent, tick)
	data, ok := pushtest.Dig(pf.FCM.Requests()[n-1].Body, "message", "data").(map[string]any)
	require.True(t, ok, "an FCM data message")
	return data
}

// pushesTo returns the data of every FCM message sent to token so far.
func pushesTo(pf *pushtest.Fakes, token string) []map[string]any {
	var out []map[string]any
	for _, r := range pf.FCM.Requests() {
		if pushtest.Dig(r.Body, "message", "token") != token {
			continue
		}
		if data, ok := pushtest.Dig(r.Body, "message", "data").(map[string]any); ok {
			out = append(out, data)
		}
	}
	return out
}

func TestPushedCallIsAnsweredWithTwoWayAudio(t *testing.T) {
	t.Parallel()
	e, pf := pushEnv(t)
	a := e.newPhone(t, "1001", toneA)
	b := phoneB(t, e, answering(platform.ActionAccept))
	// B's second phone, same number.
	const b2Token = "fcm:APA91b-phone-b2"
	b2 := e.newPhone(t, "1002", toneB, asAndroid(b2Token))
	require.NoError(t, b2.sdk.RegisterDevice(ctx(t), "1002"))
	require.NoError(t, a.sdk.StartAppToAppInboundCall(ctx(t), "1002", "1001"))

	require.Eventually(t, func() bool { return len(pushesTo(pf, bToken)) == 1 && len(pushesTo(pf, b2Token)) == 1 }, waitEvent, tick,
		"both of B's phones ring")
	data := pushesTo(pf, bToken)[0]
	assert.Equal(t, "initial", data["event"])
	assert.Equal(t, "APPTOAPP", data["callType"])
	require.NoError(t, b.sdk.HandleIncomingCallWithUI(ctx(t), data))
	a.waitFor("started app_to_app 1002 1001")
	b.waitFor("started app_to_app 1001 1002")
	a.hears(toneB)
	b.hears(toneA)

	// The answer stops the ringing on B's other phone; the phone that
	// answered is not told "end" (it would read as the call being over).
	require.Eventually(t, func() bool { return len(pushesTo(pf, b2Token)) == 2 }, waitEvent, tick)
	end := pushesTo(pf, b2Token)[1]
	assert.Equal(t, "end", end["event"])
	require.NoError(t, b2.sdk.HandleIncomingCallWithUI(ctx(t), end))
	assert.Len(t, pushesTo(pf, bToken), 1, "no end to the answering phone")

	require.NoError(t, b.sdk.FlushCallbacks(ctx(t)))
	assert.True(t, b.sdk.IsCallActive(), "B's call goes on")
	a.hears(toneB)

	// An end push naming B's call (the guide's "ending a call via push")
	// ends it on B, which tells the server: A hears B hang up.
	require.NoError(t, b.sdk.HandleIncomingCallWithUI(ctx(t), end))
	b.waitFor("ended app_to_app 1001")
	a.waitFor("ended app_to_app 1002")
}

func TestPushedCallDeclined(t *testing.T) {
	t.Parallel()
	e, pf := pushEnv(t)
	a := e.newPhone(t, "1001", toneA)
	b := phoneB(t, e, answering(platform.ActionDecline))
	require.NoError(t, a.sdk.StartAppToAppInboundCall(ctx(t), "1002", "1001"))
	require.NoError(t, b.sdk.HandleIncomingCallWithUI(ctx(t), pushed(t, pf, 1)))
	a.waitFor("declined app_to_app 1002")
	assert.False(t, b.sdk.IsCallActive())
}

func TestCallerHangsUpWhilePushedCallRings(t *testing.T) {
	t.Parallel()
	e, pf := pushEnv(t)
	a := e.newPhone(t, "1001", toneA)
	b := phoneB(t, e) // rings; nobody answers
	require.NoError(t, a.sdk.StartAppToAppInboundCall(ctx(t), "1002", "1001"))
	initial := pushed(t, pf, 1)
	require.NoError(t, b.sdk.HandleIncomingCallWithUI(ctx(t), initial))
	callID, _ := initial["callId"].(string)
	require.Eventually(t, func() bool { return b.plat.Showing(callID) }, waitEvent, tick, "B rings")

	require.NoError(t, a.sdk.EndCall(ctx(t)))
	end := pushed(t, pf, 2)
	assert.Equal(t, "end", end["event"])
	require.NoError(t, b.sdk.HandleIncomingCallWithUI(ctx(t), end))
	require.Eventually(t, func() bool { return !b.plat.Showing(callID) }, waitEvent, tick, "B stops ringing")

	// A copy of the first push arriving now is for a call that is over.
	require.NoError(t, b.sdk.HandleIncomingCallWithUI(ctx(t), initial))
	assert.False(t, b.plat.Showing(callID), "a push for an ended call is ignored")
	assert.Len(t, b.plat.ShownCalls(), 1)
}

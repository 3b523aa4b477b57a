package sip_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/server/push/pushtest"
)

// A customer's phone call to a DID rings an agent whose app is not running:
// the agent's Android phone registered its FCM token, so only a push reaches
// it. The FCM message the fake receives is what the phone would get from
// Firebase; the agent's SDK is handed exactly that, answers, and talks to
// baresip both ways.
func TestInboundCallFromBaresipRingsAnAgentThroughPush(t *testing.T) {
	t.Parallel()
	const token = "fcm:APA91b-agent-phone"
	pf := pushtest.New(t)
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber})
	e := startGatewayWith(t, trunkTo(b.sipPort, ""), map[string]string{"5001": server.RouteAppPrefix + "1002"},
		func(c *server.Config) { c.Push = pf.Config },
		server.WithPush(pf.Transports(t)...), server.WithDeviceStore(devices.NewMemory()))
	agent := e.newPhone(t, appTone, platform.WithName("android"), platform.WithToken(platform.TokenFCM, token),
		platform.WithAutoAnswer(func(platform.IncomingCall) platform.Action { return platform.ActionAccept }))
	require.NoError(t, agent.sdk.RegisterDevice(testCtx(t), "1002")) // and no events connection

	b.command("dial", fmt.Sprintf("sip:5001@%s", e.gw.Addr()))
	require.Eventually(t, func() bool { return len(pf.FCM.Requests()) == 1 }, waitEvent, 20*time.Millisecond,
		"no push for the agent")
	req := pf.FCM.Requests()[0]
	assert.Equal(t, token, pushtest.Dig(req.Body, "message", "token"))
	data, ok := pushtest.Dig(req.Body, "message", "data").(map[string]any)
	require.True(t, ok, "an FCM data message")
	assert.Equal(t, "initial", data["event"])
	assert.Equal(t, "Inbound", data["callType"])
	assert.Equal(t, "5001", data["callFrom"], "the DID the customer dialled")
	assert.Equal(t, bobNumber, data["callerName"], "the customer's number: baresip sends no display name")
	b.waitLog(`180 Ringing`, waitEvent)

	require.NoError(t, agent.sdk.HandleIncomingCallWithUI(testCtx(t), data))
	agent.waitFor("started inbound")
	b.waitLog(`Call established`, waitEvent)
	agent.hears(baresipTone)
	baresipHears(t, b, appTone)

	b.command("hangup", "")
	agent.waitFor("ended inbound")
}

package sip_test

import (
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/sipgw/media"
)

// The far end's hold is a re-INVITE to us (baresip sends a=sendonly): the
// app is told it is held and hears hold music instead of the far end, and
// hears the far end again after the resume re-INVITE.
func TestFarEndHoldAndResumeReachTheApp(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber, trace: true})
	e := startGateway(t, trunkTo(b.sipPort, ""), nil)
	a := e.newPhone(t, appTone)
	a.callBob()
	a.hears(baresipTone)

	b.command("hold", "")
	b.waitLog(`a=sendonly|a=inactive`, waitEvent)
	require.Eventually(t, func() bool { return a.sdk.GetCallStatus().IsRemoteOnHold }, waitEvent, 20*time.Millisecond,
		"the app was never told it is held")
	a.doesNotHear(baresipTone)

	b.command("resume", "")
	require.Eventually(t, func() bool { return !a.sdk.GetCallStatus().IsRemoteOnHold }, waitEvent, 20*time.Millisecond,
		"the app was never told the hold ended")
	a.hears(baresipTone)
	require.True(t, a.sdk.IsCallActive())

	require.NoError(t, a.sdk.EndCall(testCtx(t)))
	a.waitFor("ended outbound " + bobNumber)
}

// reinvite sends an in-dialog re-INVITE offering dir from sess, ACKs the
// 200 and returns the gateway's answer.
func reinvite(t *testing.T, dlg *sipgo.DialogClientSession, sess *media.Session, dir media.Direction, version uint64) media.Description {
	t.Helper()
	offer, err := media.Offer(media.Description{Addr: sess.LocalAddr(), Codecs: []media.Codec{media.PCMU},
		EventPT: media.DefaultEventPT, Direction: dir, PTime: 20}, 9, version)
	require.NoError(t, err)
	target := dlg.InviteResponse.Contact().Address
	req := sip.NewRequest(sip.INVITE, target)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	res, err := dlg.Do(testCtx(t), req)
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode, "re-INVITE %s", dir)
	require.NoError(t, dlg.WriteRequest(sip.NewRequest(sip.ACK, target)))
	answer, err := media.Parse(res.Body())
	require.NoError(t, err)
	return answer
}

// A trunk may hold with a=inactive instead of a=sendonly: the app is held
// the same way, and the gateway's answer mirrors the direction.
func TestFarEndHoldWithInactiveOnAnInboundCall(t *testing.T) {
	t.Parallel()
	peer := startTrunkPeer(t, trunkOptions{})
	e := startGateway(t, trunkTo(peer.port, ""), map[string]string{"5002": server.RouteAppPrefix + "1002"})
	agent := e.newPhone(t, appTone, platform.WithAutoAnswer(func(platform.IncomingCall) platform.Action { return platform.ActionAccept }))
	require.NoError(t, agent.sdk.ListenForIncomingCalls(testCtx(t), "1002"))
	sess, dlg := peer.call(t, e.gw.Addr(), "5002")
	agent.waitFor("started inbound")

	tests := []struct {
		offer, answer media.Direction
		held          bool
	}{
		{media.Inactive, media.Inactive, true},
		{media.SendRecv, media.SendRecv, false},
		{media.SendOnly, media.RecvOnly, true},
		{media.SendRecv, media.SendRecv, false},
	}
	for i, tt := range tests {
		got := reinvite(t, dlg, sess, tt.offer, uint64(i+2))
		assert.Equal(t, tt.answer, got.Direction, "answer to %s", tt.offer)
		require.Eventually(t, func() bool { return agent.sdk.GetCallStatus().IsRemoteOnHold == tt.held },
			waitEvent, 20*time.Millisecond, "after %s the app should be held=%t", tt.offer, tt.held)
	}
	require.True(t, agent.sdk.IsCallActive())

	require.NoError(t, dlg.Bye(testCtx(t)))
	agent.waitFor("ended inbound")
}

package sip_test

import (
	"context"
	"net/netip"
	"strings"
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

// remoteDigits are the app's RemoteDTMF callbacks so far, in order.
func (p *phone) remoteDigits() []string {
	var ds []string
	for _, e := range p.snapshot() {
		if d, ok := strings.CutPrefix(e, "remote dtmf "); ok {
			ds = append(ds, d)
		}
	}
	return ds
}

// sendsDigitsToApp has sess send "7#" and checks the app gets each digit
// once, in order. An RFC 4733 event's end packet is sent three times, and
// repeats must not show up as more digits: a third digit, sent after the
// last repeat of "#", marks when every repeat has been through.
func sendsDigitsToApp(t *testing.T, sess *media.Session, a *phone) {
	t.Helper()
	for _, d := range []byte("7#1") {
		require.NoError(t, sess.SendDTMF(d))
	}
	a.waitFor("remote dtmf 1")
	assert.Equal(t, []string{"7", "#", "1"}, a.remoteDigits())
}

func TestFarEndDTMFReachesTheAppOnAnOutboundCall(t *testing.T) {
	t.Parallel()
	peer := startTrunkPeer(t, trunkOptions{})
	e := startGateway(t, trunkTo(peer.port, ""), nil)
	a := e.newPhone(t, appTone)
	a.callBob()

	sendsDigitsToApp(t, peer.session(), a)

	require.NoError(t, a.sdk.EndCall(testCtx(t)))
	a.waitFor("ended outbound " + bobNumber)
}

// call INVITEs the gateway's DID from the peer with its own media session
// and returns that session once the call is answered and ACKed.
func (p *trunkPeer) call(t *testing.T, gw netip.AddrPort, did string) (*media.Session, *sipgo.DialogClientSession) {
	t.Helper()
	sess, err := media.Listen(netip.MustParseAddr("127.0.0.1"), 32000, 32999)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sess.Close() })
	offer, err := media.Offer(media.Description{Addr: sess.LocalAddr(), Codecs: []media.Codec{media.PCMU, media.PCMA},
		EventPT: media.DefaultEventPT, Direction: media.SendRecv, PTime: 20}, 9, 1)
	require.NoError(t, err)
	ctx := testCtx(t)
	dlg, err := p.dua.Invite(ctx, sip.Uri{Scheme: "sip", User: did, Host: gw.Addr().String(), Port: int(gw.Port())}, offer,
		sip.NewHeader("Content-Type", "application/sdp"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = dlg.Close() })
	require.NoError(t, dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}))
	answer, err := media.Parse(dlg.InviteResponse.Body())
	require.NoError(t, err)
	require.NotEmpty(t, answer.Codecs)
	require.NotZero(t, answer.EventPT, "the gateway takes telephone-events")
	sctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, sess.Start(sctx, media.SessionConfig{Remote: answer.Addr, Codec: answer.Codecs[0],
		EventPT: answer.EventPT, Sink: discardSink{}, Timeout: time.Minute}))
	require.NoError(t, dlg.Ack(ctx))
	return sess, dlg
}

func TestFarEndDTMFReachesTheAppOnAnInboundCall(t *testing.T) {
	t.Parallel()
	peer := startTrunkPeer(t, trunkOptions{})
	e := startGateway(t, trunkTo(peer.port, ""), map[string]string{"5002": server.RouteAppPrefix + "1002"})
	agent := e.newPhone(t, appTone, platform.WithAutoAnswer(func(platform.IncomingCall) platform.Action { return platform.ActionAccept }))
	require.NoError(t, agent.sdk.ListenForIncomingCalls(testCtx(t), "1002"))

	sess, dlg := peer.call(t, e.gw.Addr(), "5002")
	agent.waitFor("started inbound")

	sendsDigitsToApp(t, sess, agent)

	require.NoError(t, dlg.Bye(testCtx(t)))
	agent.waitFor("ended inbound")
}

package sip_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/sipgw/media"
)

// The carrier's findings (issue 14): a BYE or re-INVITE carrying a live
// call's Call-ID, from an address outside the trunks or with invented
// dialog tags, was accepted and tore the call down (or moved its media).
// Now it is refused (403 from outside, 481 with tags not the dialog's) and
// the call goes on. Spoofers are raw UDP peers: 127.0.0.2 is on no
// allow-list (Linux routes all of 127/8 to lo), a second socket on
// 127.0.0.1 is the trunk's address without the dialog's tags.

// spoofer is a raw SIP peer on UDP at a chosen loopback address, with an
// RTP socket that would receive the call's media if a re-INVITE took.
type spoofer struct {
	t    *testing.T
	conn *net.UDPConn
	rtp  *net.UDPConn
	addr netip.AddrPort
}

func newSpoofer(t *testing.T, ip string) *spoofer {
	t.Helper()
	bind := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	s := &spoofer{t: t, conn: bind(), rtp: bind()}
	s.addr = netip.MustParseAddrPort(s.conn.LocalAddr().String())
	return s
}

// request sends method within the dialog callID (tags fromTag, toTag) to
// the gateway at gw and returns the status of the final response. A
// re-INVITE offers the spoofer's RTP socket; its final response is ACKed.
func (s *spoofer) request(gw netip.AddrPort, method, callID, fromTag, toTag string) int {
	s.t.Helper()
	branch := "z9hG4bK-" + uuid.NewString()
	build := func(method, extra, body string) []byte {
		return []byte(fmt.Sprintf("%[1]s sip:%[2]s SIP/2.0\r\nVia: SIP/2.0/UDP %[3]s;branch=%[4]s;rport\r\n"+
			"Max-Forwards: 70\r\nFrom: <sip:spoof@%[3]s>;tag=%[5]s\r\nTo: <sip:%[2]s>;tag=%[6]s\r\n"+
			"Call-ID: %[7]s\r\nCSeq: 900 %[1]s\r\nContact: <sip:spoof@%[3]s>\r\n%[8]sContent-Length: %[9]d\r\n\r\n%[10]s",
			method, gw, s.addr, branch, fromTag, toTag, callID, extra, len(body), body))
	}
	var msg []byte
	if method == "INVITE" {
		rtp := netip.MustParseAddrPort(s.rtp.LocalAddr().String())
		msg = build(method, "Content-Type: application/sdp\r\n", fmt.Sprintf(
			"v=0\r\no=- 7 7 IN IP4 %[1]s\r\ns=-\r\nc=IN IP4 %[1]s\r\nt=0 0\r\n"+
				"m=audio %[2]d RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"+
				"a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n", rtp.Addr(), rtp.Port()))
	} else {
		msg = build(method, "", "")
	}
	status := s.exchange(gw, msg)
	if method == "INVITE" { // the ACK of a final response
		_, _ = s.conn.WriteToUDPAddrPort(build("ACK", "", ""), gw)
	}
	return status
}

// exchange sends msg to gw and returns the status of its final response.
func (s *spoofer) exchange(gw netip.AddrPort, msg []byte) int {
	s.t.Helper()
	_, err := s.conn.WriteToUDPAddrPort(msg, gw)
	require.NoError(s.t, err)
	buf := make([]byte, 1<<16)
	require.NoError(s.t, s.conn.SetReadDeadline(time.Now().Add(waitEvent)))
	for {
		n, err := s.conn.Read(buf)
		require.NoError(s.t, err, "no final response to %.20q", msg)
		m, err := sip.ParseMessage(buf[:n])
		require.NoError(s.t, err)
		if res, ok := m.(*sip.Response); ok && res.StatusCode >= 200 {
			return res.StatusCode
		}
	}
}

// noMedia checks the spoofer's RTP socket got nothing: the call's media
// still goes where it went.
func (s *spoofer) noMedia() {
	s.t.Helper()
	require.NoError(s.t, s.rtp.SetReadDeadline(time.Now().Add(300*time.Millisecond)))
	n, _, err := s.rtp.ReadFrom(make([]byte, 1500))
	assert.Error(s.t, err, "the spoofer received %d bytes of RTP", n)
}

func tagOf(params sip.HeaderParams) string {
	tag, _ := params.Get("tag")
	return tag
}

// An inbound call from a trunk (a sipgo peer) ringing an app that answers:
// BYEs and re-INVITEs with the call's Call-ID from 127.0.0.2 (with the
// dialog's real tags, too) get 403, from the trunk's address with invented
// tags 481; the call, its media and its DTMF go on, the caller is sent
// nothing; the caller's own BYE then ends it.
func TestSpoofedByeAndReinviteLeaveAnInboundCallUp(t *testing.T) {
	t.Parallel()
	peer := startTrunkPeer(t, trunkOptions{})
	e := startGateway(t, trunkTo(peer.port, ""), map[string]string{"5002": server.RouteAppPrefix + "1002"})
	agent := e.newPhone(t, appTone, platform.WithAutoAnswer(func(platform.IncomingCall) platform.Action { return platform.ActionAccept }))
	require.NoError(t, agent.sdk.ListenForIncomingCalls(testCtx(t), "1002"))
	sess, dlg := peer.call(t, e.gw.Addr(), "5002")
	agent.waitFor("started inbound")

	callID := dlg.InviteRequest.CallID().Value()
	callerTag, gwTag := tagOf(dlg.InviteRequest.From().Params), tagOf(dlg.InviteResponse.To().Params)
	require.NotEmpty(t, callerTag)
	require.NotEmpty(t, gwTag)
	outsider, insider := newSpoofer(t, "127.0.0.2"), newSpoofer(t, "127.0.0.1")
	gw := e.gw.Addr()
	tests := []struct {
		name           string
		s              *spoofer
		method         string
		fromTag, toTag string
		status         int
	}{
		{"BYE from outside with the dialog's tags", outsider, "BYE", callerTag, gwTag, 403},
		{"BYE from outside with invented tags", outsider, "BYE", "x1", "x2", 403},
		{"re-INVITE from outside with the dialog's tags", outsider, "INVITE", callerTag, gwTag, 403},
		{"BYE from the trunk's address with invented tags", insider, "BYE", "x1", "x2", 481},
		{"BYE from the trunk's address with only our tag", insider, "BYE", "x1", gwTag, 481},
		{"re-INVITE from the trunk's address with invented tags", insider, "INVITE", "x1", "x2", 481},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.status, tt.s.request(gw, tt.method, callID, tt.fromTag, tt.toTag), tt.name)
	}

	// The call is untouched: still up on both sides, DTMF still reaches the
	// app, no media went to the spoofers, the caller got no BYE.
	assert.True(t, agent.sdk.IsCallActive())
	assert.Equal(t, 1, e.srv.Stats().ActiveCalls)
	assert.False(t, agent.sdk.GetCallStatus().IsRemoteOnHold)
	sendsDigitsToApp(t, sess, agent)
	outsider.noMedia()
	insider.noMedia()
	_, _, byes := peer.counts()
	assert.Zero(t, byes, "the caller was sent no BYE")
	assert.NotContains(t, strings.Join(agent.snapshot(), "\n"), "ended inbound")

	// Each refusal is logged, briefly.
	assert.NotEmpty(t, logLines(e, "SIP request refused", "source=127.0.0.2", `reason="BYE: source not on any trunk's allow-list"`, "status=403"))
	assert.NotEmpty(t, logLines(e, "SIP request refused", "source=127.0.0.1", `reason="BYE: tags do not match the dialog"`, "status=481"))
	assert.NotEmpty(t, logLines(e, "SIP request refused", "source=127.0.0.2", `reason="INVITE: source not on any trunk's allow-list"`))

	require.NoError(t, dlg.Bye(testCtx(t)))
	agent.waitFor("ended inbound")
}

// An outbound call to a real phone (baresip): a spoofed BYE and re-INVITE
// with the call's Call-ID from 127.0.0.2 get 403, from the trunk's address
// with invented tags 481; audio goes on both ways and baresip sees no BYE
// until the app hangs up.
func TestSpoofedByeAndReinviteLeaveAnOutboundCallToBaresipUp(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber})
	e := startGateway(t, trunkTo(b.sipPort, ""), nil)
	a := e.newPhone(t, appTone)
	a.callBob()
	b.waitLog(`Call established`, waitEvent)
	a.hears(baresipTone)

	m := regexp.MustCompile(`outbound call: INVITE.* sipCallId=([0-9a-f-]{36})`).FindStringSubmatch(e.log.String())
	require.NotNil(t, m, "the gateway logs the call's SIP Call-ID")
	callID := m[1]
	outsider, insider := newSpoofer(t, "127.0.0.2"), newSpoofer(t, "127.0.0.1")
	gw := e.gw.Addr()
	assert.Equal(t, 403, outsider.request(gw, "BYE", callID, "x1", "x2"))
	assert.Equal(t, 403, outsider.request(gw, "INVITE", callID, "x1", "x2"))
	assert.Equal(t, 481, insider.request(gw, "BYE", callID, "x1", "x2"))
	assert.Equal(t, 481, insider.request(gw, "INVITE", callID, "x1", "x2"))

	a.hears(baresipTone)
	baresipHears(t, b, appTone)
	outsider.noMedia()
	insider.noMedia()
	require.True(t, a.sdk.IsCallActive())
	assert.Zero(t, b.count(`terminated \(duration|session closed`), "baresip's call is still up")

	require.NoError(t, a.sdk.EndCall(testCtx(t)))
	a.waitFor("ended outbound " + bobNumber)
	b.waitLog(`session closed: Connection reset by peer|terminated \(duration`, waitEvent)
}

// A CANCEL copied from a ringing call's INVITE (its branch, tags, Call-ID
// and CSeq, all a CANCEL needs to match) but sent from 127.0.0.2 gets 403,
// and the app goes on ringing; the caller's own CANCEL then stops it.
func TestSpoofedCancelLeavesARingingCallRinging(t *testing.T) {
	t.Parallel()
	peer := startTrunkPeer(t, trunkOptions{})
	e := startGateway(t, trunkTo(peer.port, ""), map[string]string{"5003": server.RouteAppPrefix + "1003"})
	agent := e.newPhone(t, appTone) // rings and is never answered
	require.NoError(t, agent.sdk.ListenForIncomingCalls(testCtx(t), "1003"))

	sess, err := media.Listen(netip.MustParseAddr("127.0.0.1"), 32000, 32999)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sess.Close() })
	offer, err := media.Offer(media.Description{Addr: sess.LocalAddr(), Codecs: []media.Codec{media.PCMU},
		EventPT: media.DefaultEventPT, Direction: media.SendRecv, PTime: 20}, 9, 1)
	require.NoError(t, err)
	gw := e.gw.Addr()
	ctx, hangUp := context.WithCancel(context.Background())
	defer hangUp()
	dlg, err := peer.dua.Invite(ctx, sip.Uri{Scheme: "sip", User: "5003", Host: gw.Addr().String(), Port: int(gw.Port())},
		offer, sip.NewHeader("Content-Type", "application/sdp"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = dlg.Close() })
	answered := make(chan error, 1)
	go func() { answered <- dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}) }()
	require.Eventually(t, func() bool { return len(agent.plat.ShownCalls()) == 1 }, waitEvent, 20*time.Millisecond,
		"the agent's app never rang")
	id := agent.plat.ShownCalls()[0].CallID

	inv := dlg.InviteRequest
	cancel := fmt.Sprintf("CANCEL %s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\n"+
		"Call-ID: %s\r\nCSeq: %d CANCEL\r\nContent-Length: 0\r\n\r\n",
		inv.Recipient.String(), inv.Via().Value(), inv.From().Value(), inv.To().Value(), inv.CallID().Value(), inv.CSeq().SeqNo)
	assert.Equal(t, 403, newSpoofer(t, "127.0.0.2").exchange(gw, []byte(cancel)))
	assert.True(t, agent.plat.Showing(id), "the app still rings")
	assert.Equal(t, 1, e.srv.Stats().ActiveCalls)
	assert.NotEmpty(t, logLines(e, "SIP request refused", "source=127.0.0.2", `reason="CANCEL: source not on any trunk's allow-list"`))

	hangUp() // the caller's own CANCEL
	require.Error(t, <-answered)
	require.Eventually(t, func() bool { return !agent.plat.Showing(id) }, waitEvent, 20*time.Millisecond,
		"the caller's CANCEL did not stop the ringing")
	require.Eventually(t, func() bool { return e.srv.Stats().ActiveCalls == 0 }, waitEvent, 20*time.Millisecond)
}

// logLines are the lines of e's log containing all of want.
func logLines(e *gwEnv, want ...string) []string {
	var out []string
next:
	for _, l := range strings.Split(e.log.String(), "\n") {
		for _, w := range want {
			if !strings.Contains(l, w) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

package sipgw

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server/sipgw/media"
	"github.com/onecxi/phone/server/trunk"
)

// Require: of an extension we lack is 420 with Unsupported; timer and
// 100rel are ours and the call goes through.
func TestRequireOfUnsupportedExtensionGets420(t *testing.T) {
	t.Parallel()
	p := startPeer(t)
	e := startTestGW(t, p.port)
	tests := []struct {
		require     string
		status      int
		unsupported string
	}{
		{"timer", 200, ""},
		{"100rel", 200, ""},
		{"timer, 100rel", 200, ""},
		{"x-invented", 420, "x-invented"},
		{"timer, x-invented, replaces", 420, "x-invented,replaces"},
		{"bad/tag", 420, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.require, func(t *testing.T) {
			hdrs := []sip.Header{sip.NewHeader("Require", tt.require)}
			if strings.Contains(tt.require, "timer") {
				hdrs = append(hdrs, sip.NewHeader("Session-Expires", "90"))
			}
			dlg, res := p.invite(e.gw.Addr(), echoDID, p.sdp, hdrs...)
			require.Equal(t, tt.status, res.StatusCode)
			assert.Equal(t, tt.unsupported, nonSpace(hdr(res, "Unsupported")))
			if res.StatusCode == 200 {
				require.NoError(t, dlg.Ack(t.Context()))
				// In the dialog too: an UPDATE requiring an invented
				// extension.
				r := p.do(dlg, sip.UPDATE, nil, sip.NewHeader("Require", "x-invented"))
				assert.Equal(t, 420, r.StatusCode)
				assert.Equal(t, "x-invented", hdr(r, "Unsupported"))
				require.NoError(t, dlg.Bye(t.Context()))
			}
		})
	}
	require.Eventually(t, func() bool { return e.activeCalls() == 0 }, waitFor, tick)
}

// Every 405 carries Allow (RFC 3261 section 8.2.1): REFER and the other
// methods we do not take; a method SIP does not define gets 501, with
// Allow too. UPDATE and INFO outside a dialog get 481.
func TestMethodsNotAllowedCarryAllow(t *testing.T) {
	t.Parallel()
	p := startPeer(t)
	e := startTestGW(t, p.port)
	tests := []struct {
		method sip.RequestMethod
		status int
	}{
		{sip.REFER, 405},
		{sip.MESSAGE, 405},
		{sip.SUBSCRIBE, 405},
		{sip.NOTIFY, 405},
		{sip.PUBLISH, 405},
		{"FROBNICATE", 501},
		{sip.UPDATE, 481},
		{sip.INFO, 481},
		{sip.PRACK, 481},
	}
	for _, tt := range tests {
		t.Run(string(tt.method), func(t *testing.T) {
			req := sip.NewRequest(tt.method, sip.Uri{Scheme: "sip", User: echoDID, Host: "127.0.0.1", Port: int(e.gw.Addr().Port())})
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			defer cancel()
			res, err := p.dua.Client.Do(ctx, req)
			require.NoError(t, err)
			assert.Equal(t, tt.status, res.StatusCode)
			if tt.status != 481 {
				allow := hdr(res, "Allow")
				for _, m := range []string{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "UPDATE", "INFO", "PRACK"} {
					assert.Contains(t, allow, m)
				}
				assert.NotContains(t, allow, "REFER")
			}
		})
	}
	// Within a call, a REFER (a transfer) is refused the same way.
	dlg, res := p.invite(e.gw.Addr(), echoDID, p.sdp)
	require.Equal(t, 200, res.StatusCode)
	require.NoError(t, dlg.Ack(t.Context()))
	r := p.do(dlg, sip.REFER, nil, sip.NewHeader("Refer-To", "<sip:5000@127.0.0.1>"))
	assert.Equal(t, 405, r.StatusCode)
	assert.Contains(t, hdr(r, "Allow"), "UPDATE")
	require.NoError(t, dlg.Bye(t.Context()))
}

// A 488 says why in a Warning (RFC 3261 section 20.43): no common codec
// (305), no audio stream (304), no offer at all (399).
func TestNotAcceptableCarriesWarning(t *testing.T) {
	t.Parallel()
	p := startPeer(t)
	e := startTestGW(t, p.port)
	g729 := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n")
	video := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n")
	tests := []struct {
		name string
		body []byte
		warn string
	}{
		{"no common codec", g729, `305 127.0.0.1 "Incompatible media format`},
		{"no audio", video, `304 127.0.0.1 "Media type not available`},
		{"no offer", nil, `399 127.0.0.1 "An INVITE without an SDP offer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, res := p.invite(e.gw.Addr(), echoDID, tt.body)
			require.Equal(t, 488, res.StatusCode)
			assert.True(t, strings.HasPrefix(hdr(res, "Warning"), tt.warn), "Warning: %s", hdr(res, "Warning"))
		})
	}
	// And in a re-INVITE.
	dlg, res := p.invite(e.gw.Addr(), echoDID, p.sdp)
	require.Equal(t, 200, res.StatusCode)
	require.NoError(t, dlg.Ack(t.Context()))
	r := p.do(dlg, sip.INVITE, g729)
	assert.Equal(t, 488, r.StatusCode)
	assert.Contains(t, hdr(r, "Warning"), "305 ")
	require.NoError(t, dlg.Bye(t.Context()))
}

// An offerless re-INVITE gets our offer in the 200 (sendrecv, whatever the
// last offer held), and the answer in its ACK is applied: a sendonly answer
// holds us, a sendrecv one resumes.
func TestOfferlessReinviteIsAnsweredWithOurOffer(t *testing.T) {
	t.Parallel()
	p := startPeer(t)
	e := startTestGW(t, p.port)
	dlg, res := p.invite(e.gw.Addr(), echoDID, p.sdp)
	require.Equal(t, 200, res.StatusCode)
	require.NoError(t, dlg.Ack(t.Context()))
	c := e.inCallOf(t, dlg)

	for i, answer := range []media.Direction{media.SendOnly, media.SendRecv} {
		r := p.do(dlg, sip.INVITE, nil)
		require.Equal(t, 200, r.StatusCode)
		offer, err := media.Parse(r.Body())
		require.NoError(t, err, "the 200 carries our offer")
		assert.Equal(t, media.SendRecv, offer.Direction)
		assert.Equal(t, "application/sdp", hdr(r, "Content-Type"))
		// Our answer to it, moving our RTP to another port.
		desc, sdp, err := media.Answer(offer, netip4(t, 4000+2*i), []media.Codec{media.PCMU}, answer, 5, uint64(10+i))
		require.NoError(t, err)
		p.ack(dlg, sdp)
		held := answer == media.SendOnly
		require.Eventually(t, func() bool { return c.m.remoteHeld() == held }, waitFor, tick, "answer %s", answer)
		require.Eventually(t, func() bool {
			c.m.mu.Lock()
			defer c.m.mu.Unlock()
			return c.m.remote == desc.Addr
		}, waitFor, tick, "the answer's address is used")
	}
	assert.Empty(t, p.received(sip.BYE))
	require.NoError(t, dlg.Bye(t.Context()))
}

// A 200 OK that is never ACKed is followed by BYE once 64*T1 (here
// shortened) has passed, and the server's call ends.
func TestUnacknowledged200IsFollowedByBYE(t *testing.T) {
	t.Parallel()
	p := startPeer(t)
	e := startTestGW(t, p.port)
	start := time.Now()
	_, res := p.invite(e.gw.Addr(), echoDID, p.sdp) // and no ACK
	require.Equal(t, 200, res.StatusCode)
	p.waitRequests(sip.BYE, 1, waitFor)
	assert.GreaterOrEqual(t, time.Since(start), ackTimeout, "not before 64*T1")
	require.Eventually(t, func() bool { return e.activeCalls() == 0 }, waitFor, tick)
	assert.Contains(t, e.log.String(), "the 200 OK was never acknowledged")
}

// A call that is ACKed in time is not ended.
func TestAcknowledged200IsNotFollowedByBYE(t *testing.T) {
	t.Parallel()
	p := startPeer(t)
	e := startTestGW(t, p.port)
	dlg, res := p.invite(e.gw.Addr(), echoDID, p.sdp)
	require.Equal(t, 200, res.StatusCode)
	require.NoError(t, dlg.Ack(t.Context()))
	time.Sleep(ackTimeout + 500*time.Millisecond) // a BYE would have come by now
	assert.Empty(t, p.received(sip.BYE))
	assert.EqualValues(t, 1, e.activeCalls())
	require.NoError(t, dlg.Bye(t.Context()))
}

// INFO digits (application/dtmf-relay and application/dtmf) reach the app
// like RFC 4733 events; other bodies get 415, bad digits 400, an empty INFO
// 200.
func TestINFODTMFReachesTheApp(t *testing.T) {
	t.Parallel()
	p := startPeer(t)
	e := startTestGW(t, p.port)
	_, r := e.dial(t)
	inv := p.received(sip.INVITE)[0]
	tests := []struct {
		ctype, body string
		status      int
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", 200},
		{"application/dtmf-relay", "Signal= 11\r\nDuration=160\r\n", 200}, // #
		{"application/dtmf", "*", 200},
		{"application/dtmf-relay", "Signal=A\r\nDuration=160\r\n", 200}, // valid, not passed on
		{"application/dtmf-relay", "Signal=Z\r\n", 400},
		{"text/plain", "hello", 415},
		{"", "", 200},
	}
	for _, tt := range tests {
		var hdrs []sip.Header
		if tt.ctype != "" {
			hdrs = append(hdrs, sip.NewHeader("Content-Type", tt.ctype))
		}
		var body []byte
		if tt.body != "" {
			body = []byte(tt.body)
		}
		res := p.doAsCallee(inv, uint32(10+len(tt.body)), sip.INFO, body, hdrs...)
		assert.Equal(t, tt.status, res.StatusCode, "%s %q", tt.ctype, tt.body)
		if tt.status == 415 {
			assert.Contains(t, hdr(res, "Accept"), "application/dtmf-relay")
		}
	}
	require.Eventually(t, func() bool { return r.gotDigits() == "5#*" }, waitFor, tick, "digits %q", r.gotDigits())
}

// An UPDATE with SDP is a new offer like a re-INVITE's: the far end holding
// us by UPDATE reaches the app.
func TestUPDATEWithOfferHolds(t *testing.T) {
	t.Parallel()
	p := startPeer(t)
	e := startTestGW(t, p.port)
	dlg, res := p.invite(e.gw.Addr(), echoDID, p.sdp)
	require.Equal(t, 200, res.StatusCode)
	require.NoError(t, dlg.Ack(t.Context()))
	c := e.inCallOf(t, dlg)
	r := p.do(dlg, sip.UPDATE, p.offer(media.SendOnly, 2))
	require.Equal(t, 200, r.StatusCode)
	ans, err := media.Parse(r.Body())
	require.NoError(t, err)
	assert.Equal(t, media.RecvOnly, ans.Direction)
	assert.True(t, c.m.remoteHeld())
	require.NoError(t, dlg.Bye(t.Context()))
}

func netip4(t *testing.T, port int) netip.AddrPort {
	t.Helper()
	return netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", port))
}

// A reliable 183 (with the SDP answer) and 180 from the trunk are PRACKed
// once each, with RAck naming them; the 200 without SDP uses the 183's
// answer; the ACK keeps the INVITE's CSeq although PRACKs came between,
// and the BYE is numbered after them.
func TestOutboundReliableProvisionalsArePRACKed(t *testing.T) {
	t.Parallel()
	p := startPeer(t)
	p.setAnswer(func(req *sip.Request, tx sip.ServerTransaction) {
		rel := func(code int, rseq string, body []byte) {
			hs := []sip.Header{sip.NewHeader("Require", "100rel"), sip.NewHeader("RSeq", rseq)}
			p.respond(req, tx, code, body, hs...)
		}
		rel(183, "7", p.sdp)
		rel(183, "7", p.sdp) // a retransmission: no second PRACK
		require.Eventually(t, func() bool { return len(p.received(sip.PRACK)) >= 1 }, waitFor, tick)
		rel(180, "8", nil)
		require.Eventually(t, func() bool { return len(p.received(sip.PRACK)) >= 2 }, waitFor, tick)
		p.respond(req, tx, 200, nil)
	})
	e := startTestGW(t, p.port)
	c, r := e.dial(t)
	assert.True(t, r.has(trunk.Ringing))
	inv := p.received(sip.INVITE)[0]
	pracks := p.received(sip.PRACK)
	require.Len(t, pracks, 2)
	assert.Equal(t, fmt.Sprintf("7 %d INVITE", inv.CSeq().SeqNo), hdr(pracks[0], "RAck"))
	assert.Equal(t, fmt.Sprintf("8 %d INVITE", inv.CSeq().SeqNo), hdr(pracks[1], "RAck"))
	acks := p.waitRequests(sip.ACK, 1, waitFor)
	assert.Equal(t, inv.CSeq().SeqNo, acks[0].CSeq().SeqNo, "the ACK has the INVITE's CSeq")
	c.Hangup()
	byes := p.waitRequests(sip.BYE, 1, waitFor)
	assert.Greater(t, byes[0].CSeq().SeqNo, pracks[1].CSeq().SeqNo)
}

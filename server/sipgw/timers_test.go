package sipgw

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server/sipgw/media"
	"github.com/onecxi/phone/server/trunk"
	"github.com/onecxi/phone/wire"
)

func TestNegotiateUAS(t *testing.T) {
	// minSE is 2 s in these tests (TestMain).
	tests := []struct {
		name     string
		hdrs     map[string]string
		want     sessionExpires
		tooSmall bool
		require  bool
	}{
		{"no timer", map[string]string{}, sessionExpires{}, false, false},
		{"supported, none asked", map[string]string{"Supported": "timer"}, sessionExpires{}, false, false},
		{"asked, refresher open", map[string]string{"Supported": "timer", "Session-Expires": "1800"},
			sessionExpires{1800 * time.Second, refresherUAC}, false, true},
		{"asked, we refresh", map[string]string{"Supported": "100rel, timer", "Session-Expires": "300;refresher=uas"},
			sessionExpires{300 * time.Second, refresherUAS}, false, true},
		{"compact forms", map[string]string{"k": "timer", "x": "600 ; refresher=UAC"},
			sessionExpires{600 * time.Second, refresherUAC}, false, true},
		{"too small", map[string]string{"Supported": "timer", "Session-Expires": "1"}, sessionExpires{}, true, false},
		{"too small, timers required", map[string]string{"Require": "timer", "Session-Expires": "1"}, sessionExpires{}, true, false},
		{"too small from a UA without timers: raised", map[string]string{"Session-Expires": "1"},
			sessionExpires{2 * time.Second, refresherUAS}, false, false},
		{"a proxy's timer: we refresh", map[string]string{"Session-Expires": "1800;refresher=uac"},
			sessionExpires{1800 * time.Second, refresherUAS}, false, false},
		{"malformed is absent", map[string]string{"Supported": "timer", "Session-Expires": "soon"}, sessionExpires{}, false, false},
		{"overlong is absent", map[string]string{"Supported": "timer", "Session-Expires": "99999999999999"}, sessionExpires{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", Host: "example.com"})
			for k, v := range tt.hdrs {
				req.AppendHeader(sip.NewHeader(k, v))
			}
			o := negotiateUAS(req)
			assert.Equal(t, tt.want, o.se)
			assert.Equal(t, tt.tooSmall, o.tooSmall)
			var require bool
			for _, h := range o.responseHeaders() {
				if h.Name() == "Require" {
					require = h.Value() == "timer"
				}
			}
			assert.Equal(t, tt.require, require, "Require: timer in the 2xx")
		})
	}
}

func TestExpiryMargin(t *testing.T) {
	assert.Equal(t, 32*time.Second, expiryMargin(1800*time.Second))
	assert.Equal(t, 30*time.Second, expiryMargin(90*time.Second))
	assert.Equal(t, time.Second, expiryMargin(3*time.Second))
}

// A carrier asking for session timers gets them: the 200 carries
// Session-Expires (and Require: timer), and the call survives three
// refreshes by UPDATE, then three by re-INVITE, each answered with the
// interval; it is not ended meanwhile.
func TestInboundCallSurvivesRefreshesByUPDATEAndReINVITE(t *testing.T) {
	t.Parallel()
	p := startPeer(t)
	e := startTestGW(t, p.port)
	dlg, res := p.invite(e.gw.Addr(), echoDID, p.sdp, sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "4"))
	require.Equal(t, 200, res.StatusCode)
	require.NoError(t, dlg.Ack(t.Context()))
	assert.Equal(t, "4;refresher=uac", nonSpace(hdr(res, "Session-Expires")), "the requester refreshes: it did not say who")
	assert.Equal(t, "timer", hdr(res, "Require"))
	assert.Contains(t, hdr(res, "Supported"), "timer")
	assert.Contains(t, hdr(res, "Allow"), "UPDATE")

	// Each refresh comes 1 s after the last: six refreshes are 6 s, well
	// past the 2.67 s at which an unrefreshed 4 s session ends.
	for i := range 6 {
		time.Sleep(time.Second)
		var r *sip.Response
		if i < 3 {
			r = p.do(dlg, sip.UPDATE, nil, sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "4;refresher=uac"))
		} else {
			r = p.do(dlg, sip.INVITE, p.offer(media.SendRecv, uint64(i)), sip.NewHeader("Supported", "timer"),
				sip.NewHeader("Session-Expires", "4;refresher=uac"))
			p.ack(dlg, nil)
			assert.NotEmpty(t, r.Body(), "a re-INVITE's 200 has our answer")
		}
		require.Equal(t, 200, r.StatusCode, "refresh %d", i+1)
		assert.Equal(t, "4;refresher=uac", nonSpace(hdr(r, "Session-Expires")), "refresh %d", i+1)
	}
	assert.Empty(t, p.received(sip.BYE), "the refreshed call was not ended")
	assert.EqualValues(t, 1, e.activeCalls())
	require.NoError(t, dlg.Bye(t.Context()))
	require.Eventually(t, func() bool { return e.activeCalls() == 0 }, waitFor, tick)
}

// A session interval below our Min-SE, from a UA that supports timers, is
// refused with 422 and our Min-SE (RFC 4028 section 9), in the INVITE and
// in a refresh.
func TestSessionIntervalBelowMinSEGets422(t *testing.T) {
	t.Parallel()
	p := startPeer(t)
	e := startTestGW(t, p.port)
	_, res := p.invite(e.gw.Addr(), echoDID, p.sdp, sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "1"))
	require.Equal(t, 422, res.StatusCode)
	assert.Equal(t, "2", hdr(res, "Min-SE"))
	assert.Zero(t, e.activeCalls())

	dlg, res := p.invite(e.gw.Addr(), echoDID, p.sdp, sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "30"))
	require.Equal(t, 200, res.StatusCode)
	require.NoError(t, dlg.Ack(t.Context()))
	r := p.do(dlg, sip.UPDATE, nil, sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "1"))
	assert.Equal(t, 422, r.StatusCode)
	assert.Equal(t, "2", hdr(r, "Min-SE"))
	require.NoError(t, dlg.Bye(t.Context()))
}

// A call whose refresher (the carrier) never refreshes is ended with BYE
// at the interval less min(32 s, interval/3): for 3 s, after 2 s. The
// server's call ends (the app of an inbound call sees the caller hang up).
func TestInboundCallEndedAtSessionExpiry(t *testing.T) {
	t.Parallel()
	p := startPeer(t)
	e := startTestGW(t, p.port)
	dlg, res := p.invite(e.gw.Addr(), echoDID, p.sdp, sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "3;refresher=uac"))
	require.Equal(t, 200, res.StatusCode)
	require.NoError(t, dlg.Ack(t.Context()))
	start := time.Now()
	p.waitRequests(sip.BYE, 1, waitFor)
	took := time.Since(start)
	assert.GreaterOrEqual(t, took, 1800*time.Millisecond, "not before the expiry")
	assert.Less(t, took, 3*time.Second, "before the session interval ends")
	require.Eventually(t, func() bool { return e.activeCalls() == 0 }, waitFor, tick)
	assert.Contains(t, e.log.String(), "session expired without a refresh")
}

// When the carrier makes us the refresher, we refresh at half the
// interval: by UPDATE if its Allow lists UPDATE, else by re-INVITE.
func TestInboundCallWeRefresh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		allow  string
		method sip.RequestMethod
	}{
		{"UPDATE when allowed", "INVITE, ACK, BYE, CANCEL, UPDATE", sip.UPDATE},
		{"re-INVITE otherwise", "INVITE, ACK, BYE, CANCEL", sip.INVITE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startPeer(t)
			e := startTestGW(t, p.port)
			dlg, res := p.invite(e.gw.Addr(), echoDID, p.sdp, sip.NewHeader("Supported", "timer"),
				sip.NewHeader("Session-Expires", "3;refresher=uas"), sip.NewHeader("Allow", tt.allow))
			require.Equal(t, 200, res.StatusCode)
			require.NoError(t, dlg.Ack(t.Context()))
			assert.Equal(t, "3;refresher=uas", nonSpace(hdr(res, "Session-Expires")))
			// Three refreshes at 1.5 s each; the session (3 s) would have
			// ended after 2 s without them.
			reqs := p.waitRequests(tt.method, 3, 10*time.Second)
			for _, r := range reqs {
				assert.Equal(t, "3;refresher=uac", nonSpace(hdr(r, "Session-Expires")), "we stay the refresher")
				assert.Contains(t, hdr(r, "Supported"), "timer")
				if tt.method == sip.INVITE {
					assert.NotEmpty(t, r.Body(), "a refresh re-INVITE carries our offer")
				}
			}
			if tt.method == sip.INVITE {
				p.waitRequests(sip.ACK, 3, waitFor) // the re-INVITEs' ACKs (ours was sent by dlg)
			}
			assert.Empty(t, p.received(sip.BYE))
			assert.EqualValues(t, 1, e.activeCalls())
			require.NoError(t, dlg.Bye(t.Context()))
		})
	}
}

// Outbound, the INVITE asks for timers; the 200's Session-Expires is
// honoured: refresher=uac makes us refresh, refresher=uas makes the trunk
// refresh, and a session it never refreshes is ended with BYE and the app's
// call fails with trunk_failed.
func TestOutboundSessionTimers(t *testing.T) {
	t.Parallel()
	t.Run("the INVITE asks for timers and we refresh", func(t *testing.T) {
		t.Parallel()
		p := startPeer(t)
		p.setAnswer(func(req *sip.Request, tx sip.ServerTransaction) {
			p.respond(req, tx, 200, p.sdp, sip.NewHeader("Session-Expires", "3;refresher=uac"),
				sip.NewHeader("Require", "timer"), sip.NewHeader("Allow", "INVITE, ACK, BYE, UPDATE"))
		})
		e := startTestGW(t, p.port)
		c, _ := e.dial(t)
		inv := p.received(sip.INVITE)[0]
		assert.Contains(t, nonSpace(hdr(inv, "Supported")), "timer")
		assert.Contains(t, nonSpace(hdr(inv, "Supported")), "100rel")
		assert.Equal(t, "1800", hdr(inv, "Session-Expires"))
		assert.Equal(t, "2", hdr(inv, "Min-SE"))
		assert.Contains(t, hdr(inv, "Allow"), "UPDATE")
		ups := p.waitRequests(sip.UPDATE, 3, 10*time.Second)
		assert.Equal(t, "3;refresher=uac", nonSpace(hdr(ups[0], "Session-Expires")))
		assert.Empty(t, p.received(sip.BYE))
		c.Hangup()
		p.waitRequests(sip.BYE, 1, waitFor)
	})
	t.Run("the trunk refreshes and stops", func(t *testing.T) {
		t.Parallel()
		p := startPeer(t)
		p.setAnswer(func(req *sip.Request, tx sip.ServerTransaction) {
			p.respond(req, tx, 200, p.sdp, sip.NewHeader("Session-Expires", "3;refresher=uas"), sip.NewHeader("Require", "timer"))
		})
		e := startTestGW(t, p.port)
		start := time.Now()
		_, r := e.dial(t)
		p.waitRequests(sip.BYE, 1, waitFor)
		assert.GreaterOrEqual(t, time.Since(start), 1800*time.Millisecond)
		assert.Empty(t, p.received(sip.UPDATE), "the trunk was the refresher")
		require.Eventually(t, func() bool { return r.has(trunk.Failed) }, waitFor, tick)
		ev, _ := r.last()
		assert.Equal(t, wire.CodeTrunkFailed, ev.Code)
		assert.Contains(t, ev.Message, "session expired")
	})
	t.Run("422 is answered with a new INVITE at the trunk's Min-SE", func(t *testing.T) {
		t.Parallel()
		p := startPeer(t)
		p.setAnswer(func(req *sip.Request, tx sip.ServerTransaction) {
			if hdr(req, "Session-Expires") == "1800" {
				p.respond(req, tx, 422, nil, sip.NewHeader("Min-SE", "3600"))
				return
			}
			p.respond(req, tx, 200, p.sdp, sip.NewHeader("Session-Expires", "3600;refresher=uas"))
		})
		e := startTestGW(t, p.port)
		e.dial(t)
		invs := p.received(sip.INVITE)
		require.Len(t, invs, 2)
		assert.Equal(t, "3600", hdr(invs[1], "Session-Expires"))
		assert.Equal(t, invs[0].CallID().Value(), invs[1].CallID().Value())
		assert.Greater(t, invs[1].CSeq().SeqNo, invs[0].CSeq().SeqNo)
	})
}

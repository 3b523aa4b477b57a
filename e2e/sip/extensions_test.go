package sip_test

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
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

// A carrier's call to a DID that rings an agent's app hears 180 Ringing
// while the app rings, with the app's answer as the 200. Asked for with
// Require: 100rel, the 180 is reliable (Require: 100rel, RSeq) and our
// PRACK is answered 200; without, it is a plain 180. (The 180 was always
// sent; a carrier that requires 100rel discards an unreliable one, which is
// how "the app DID never sends 180" looked from its side.)
func TestAppDIDRingsWith180ReliableWhenRequired(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		hdrs     []sip.Header
		reliable bool
	}{
		{"plain", nil, false},
		{"supported only", []sip.Header{sip.NewHeader("Supported", "100rel, timer")}, false},
		{"required", []sip.Header{sip.NewHeader("Require", "100rel"), sip.NewHeader("Supported", "timer")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			peer := startTrunkPeer(t, trunkOptions{})
			e := startGateway(t, trunkTo(peer.port, ""), map[string]string{"5003": server.RouteAppPrefix + "1003"})
			agent := e.newPhone(t, appTone) // rings until the test answers for the user
			require.NoError(t, agent.sdk.ListenForIncomingCalls(testCtx(t), "1003"))

			var mu sync.Mutex
			var ringing []*sip.Response
			var prackStatus []int
			onResponse := func(dlg *sipgo.DialogClientSession, res *sip.Response) {
				if res.StatusCode != 180 {
					return
				}
				mu.Lock()
				ringing = append(ringing, res)
				mu.Unlock()
				if tt.reliable {
					st := prack(t, peer, dlg, res)
					mu.Lock()
					prackStatus = append(prackStatus, st)
					mu.Unlock()
				}
			}
			dlgCh := make(chan *sipgo.DialogClientSession, 1)
			go func() { dlgCh <- inviteDID(t, peer, e.gw.Addr(), "5003", onResponse, tt.hdrs...) }()
			// The user answers once the caller has heard it ring (and, for a
			// reliable 180, its PRACK is done).
			require.Eventually(t, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(ringing) > 0 && (!tt.reliable || len(prackStatus) > 0) && len(agent.plat.ShownCalls()) == 1
			}, 5*time.Second, 10*time.Millisecond, "no 180 while the app rings; log:\n%s", e.log.String())
			require.True(t, agent.plat.Respond(agent.plat.ShownCalls()[0].CallID, platform.ActionAccept))
			var dlg *sipgo.DialogClientSession
			select {
			case dlg = <-dlgCh:
			case <-testCtx(t).Done():
				t.Fatal("no answer")
			}
			agent.waitFor("started inbound")

			mu.Lock()
			require.NotEmpty(t, ringing, "no 180 before the answer; log:\n%s", e.log.String())
			first := ringing[0]
			mu.Unlock()
			if tt.reliable {
				assert.Equal(t, "100rel", headerValue(first, "Require"))
				assert.NotEmpty(t, headerValue(first, "RSeq"))
				mu.Lock()
				assert.Equal(t, []int{200}, prackStatus[:1], "our PRACK is accepted")
				mu.Unlock()
			} else {
				assert.Empty(t, headerValue(first, "Require"))
				assert.Empty(t, headerValue(first, "RSeq"))
			}
			assert.Contains(t, headerValue(first, "Allow"), "PRACK")
			assert.Contains(t, headerValue(first, "Supported"), "100rel")

			require.NoError(t, dlg.Bye(testCtx(t)))
			agent.waitFor("ended inbound")
		})
	}
}

// inviteDID calls did from the peer with an SDP offer, passing each
// response to onResponse, and ACKs the 200.
func inviteDID(t *testing.T, p *trunkPeer, gw netip.AddrPort, did string, onResponse func(*sipgo.DialogClientSession, *sip.Response), hdrs ...sip.Header) *sipgo.DialogClientSession {
	t.Helper()
	sess, err := media.Listen(netip.MustParseAddr("127.0.0.1"), 32000, 32999)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sess.Close() })
	offer, err := media.Offer(media.Description{Addr: sess.LocalAddr(), Codecs: []media.Codec{media.PCMU},
		EventPT: media.DefaultEventPT, Direction: media.SendRecv, PTime: 20}, 9, 1)
	require.NoError(t, err)
	ctx := testCtx(t)
	hdrs = append(hdrs, sip.NewHeader("Content-Type", "application/sdp"))
	dlg, err := p.dua.Invite(ctx, sip.Uri{Scheme: "sip", User: did, Host: gw.Addr().String(), Port: int(gw.Port())}, offer, hdrs...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = dlg.Close() })
	require.NoError(t, dlg.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(res *sip.Response) error {
		onResponse(dlg, res)
		return nil
	}}))
	require.NoError(t, dlg.Ack(ctx))
	return dlg
}

// prack acknowledges a reliable provisional response and returns the
// PRACK's status. It is sent outside sipgo's dialog, which would number the
// INVITE's ACK after it.
func prack(t *testing.T, p *trunkPeer, dlg *sipgo.DialogClientSession, res *sip.Response) int {
	t.Helper()
	inv := dlg.InviteRequest
	req := sip.NewRequest(sip.PRACK, res.Contact().Address)
	req.AppendHeader(sip.HeaderClone(inv.From()))
	req.AppendHeader(sip.HeaderClone(res.To()))
	req.AppendHeader(sip.HeaderClone(inv.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo + 1, MethodName: sip.PRACK})
	req.AppendHeader(sip.NewHeader("RAck", fmt.Sprintf("%s %d INVITE", headerValue(res, "RSeq"), inv.CSeq().SeqNo)))
	ctx, cancel := context.WithTimeout(context.Background(), waitEvent)
	defer cancel()
	r, err := p.dua.Client.Do(ctx, req)
	require.NoError(t, err)
	return r.StatusCode
}

func headerValue(res *sip.Response, name string) string {
	if h := res.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// Our outbound INVITE offers what a carrier checks for: Supported: timer
// and 100rel, a Session-Expires with our Min-SE, and an Allow with UPDATE.
func TestOutboundINVITEAdvertisesTimersAnd100rel(t *testing.T) {
	t.Parallel()
	peer := startTrunkPeer(t, trunkOptions{})
	e := startGateway(t, trunkTo(peer.port, ""), nil)
	a := e.newPhone(t, appTone)
	a.callBob()
	peer.mu.Lock()
	inv := peer.invites[0]
	peer.mu.Unlock()
	sup := inv.GetHeader("Supported")
	require.NotNil(t, sup)
	assert.Contains(t, sup.Value(), "timer")
	assert.Contains(t, sup.Value(), "100rel")
	require.NotNil(t, inv.GetHeader("Session-Expires"))
	assert.Equal(t, "1800", inv.GetHeader("Session-Expires").Value())
	assert.Equal(t, "90", inv.GetHeader("Min-SE").Value())
	assert.Contains(t, inv.GetHeader("Allow").Value(), "UPDATE")
	require.NoError(t, a.sdk.EndCall(testCtx(t)))
	a.waitFor("ended outbound " + bobNumber)
}

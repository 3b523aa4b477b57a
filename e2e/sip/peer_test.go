package sip_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server/sipgw/media"
)

// sdpPeer is a minimal SIP phone written with sipgo for what baresip does
// not show: it answers INVITEs at once and records the direction of every
// SDP offer it receives.
type sdpPeer struct {
	port int
	mu   sync.Mutex
	dirs []media.Direction
}

func startSDPPeer(t *testing.T) *sdpPeer {
	t.Helper()
	p := &sdpPeer{}
	ua, err := sipgo.NewUA()
	require.NoError(t, err)
	srv, err := sipgo.NewServer(ua)
	require.NoError(t, err)
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	p.port = conn.LocalAddr().(*net.UDPAddr).Port
	rtp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	rtpAddr := netip.MustParseAddrPort(rtp.LocalAddr().String())
	// Send silence back so the gateway's RTP timeout does not end the call.
	stop := make(chan struct{})
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := rtp.ReadFrom(buf)
			if err != nil {
				return
			}
			select {
			case <-stop:
				return
			default:
			}
			_, _ = rtp.WriteTo(buf[:n], from) // an echo is enough
		}
	}()
	var version uint64
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		offer, err := media.Parse(req.Body())
		if err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
			return
		}
		p.mu.Lock()
		p.dirs = append(p.dirs, offer.Direction)
		version++
		v := version
		p.mu.Unlock()
		_, answer, err := media.Answer(offer, rtpAddr, []media.Codec{media.PCMU, media.PCMA}, media.SendRecv, 1, v)
		if err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
			return
		}
		res := sip.NewSDPResponseFromRequest(req, answer)
		if !req.To().Params.Has("tag") {
			res.To().Params.Add("tag", sip.GenerateTagN(8))
		}
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "peer", Host: "127.0.0.1", Port: p.port}})
		_ = tx.Respond(res)
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go func() { _ = srv.ServeUDP(conn) }()
	t.Cleanup(func() {
		close(stop)
		conn.Close()
		rtp.Close()
		ua.Close()
	})
	return p
}

func (p *sdpPeer) directions() []media.Direction {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]media.Direction(nil), p.dirs...)
}

func TestHoldAndResumeAreReinvitesWithSendonlyAndSendrecv(t *testing.T) {
	t.Parallel()
	peer := startSDPPeer(t)
	e := startGateway(t, trunkTo(peer.port, ""), nil)
	a := e.newPhone(t, appTone)
	require.NoError(t, a.sdk.StartOutBoundCall(testCtx(t), bobNumber, "1001"))
	a.waitFor("started outbound")
	a.hears(appTone) // the peer echoes our RTP: audio flows both ways

	require.NoError(t, a.sdk.HoldCall(testCtx(t), true))
	require.Eventually(t, func() bool { return len(peer.directions()) >= 2 }, waitEvent, 10*time.Millisecond)
	require.NoError(t, a.sdk.HoldCall(testCtx(t), false))
	require.Eventually(t, func() bool { return len(peer.directions()) >= 3 }, waitEvent, 10*time.Millisecond)
	assert.Equal(t, []media.Direction{media.SendRecv, media.SendOnly, media.SendRecv}, peer.directions(),
		fmt.Sprintf("INVITE, hold re-INVITE, resume re-INVITE; log:\n%s", e.log.String()))
	a.hears(appTone) // audio is back after resuming

	require.NoError(t, a.sdk.EndCall(context.Background()))
	a.waitFor("ended outbound")
}

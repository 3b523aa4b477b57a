package sip_test

import (
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/sipgw/media"
	"github.com/onecxi/phone/wire"
)

// recorder is a media.Sink keeping the samples of every frame received.
type recorder struct {
	mu      sync.Mutex
	samples []int16
}

func (r *recorder) SendAudioRaw(raw []byte) bool {
	defer wire.ReleaseAudioBuffer(raw)
	f, err := wire.DecodeAudio(raw, nil)
	if err != nil {
		return false
	}
	r.mu.Lock()
	r.samples = append(r.samples, f.Samples...)
	r.mu.Unlock()
	return true
}

func (r *recorder) last(n int) []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.samples) < n {
		return nil
	}
	return append([]int16(nil), r.samples[len(r.samples)-n:]...)
}

// While an agent's app rings, a carrier's caller gets 180 Ringing and a
// 183 with our SDP, and hears our ringback (440 + 480 Hz) as early media
// on the call's RTP — before any 200. When the agent answers, the 200
// carries the same SDP and the call goes on as usual.
func TestAppDIDPlaysRingbackAsEarlyMedia(t *testing.T) {
	t.Parallel()
	peer := startTrunkPeer(t, trunkOptions{})
	e := startGateway(t, trunkTo(peer.port, ""), map[string]string{"5004": server.RouteAppPrefix + "1004"})
	agent := e.newPhone(t, appTone) // rings; the test answers for the user
	require.NoError(t, agent.sdk.ListenForIncomingCalls(testCtx(t), "1004"))

	sess, err := media.Listen(netip.MustParseAddr("127.0.0.1"), 33000, 33999)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sess.Close() })
	offer, err := media.Offer(media.Description{Addr: sess.LocalAddr(), Codecs: []media.Codec{media.PCMU},
		EventPT: media.DefaultEventPT, Direction: media.SendRecv, PTime: 20}, 9, 1)
	require.NoError(t, err)
	ctx := testCtx(t)
	dlg, err := peer.dua.Invite(ctx, sip.Uri{Scheme: "sip", User: "5004", Host: e.gw.Addr().Addr().String(), Port: int(e.gw.Addr().Port())},
		offer, sip.NewHeader("Content-Type", "application/sdp"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = dlg.Close() })

	heard := &recorder{}
	var mu sync.Mutex
	var codes []int
	var early, final []byte
	answered := make(chan error, 1)
	go func() {
		answered <- dlg.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(res *sip.Response) error {
			mu.Lock()
			defer mu.Unlock()
			codes = append(codes, res.StatusCode)
			if res.StatusCode == sip.StatusSessionInProgress && early == nil {
				early = append([]byte(nil), res.Body()...)
				d, err := media.Parse(early)
				if err != nil {
					return err
				}
				return sess.Start(ctx, media.SessionConfig{Remote: d.Addr, Codec: media.PCMU, EventPT: media.DefaultEventPT,
					Sink: heard, Log: slog.New(slog.DiscardHandler)})
			}
			if res.StatusCode == sip.StatusOK {
				final = append([]byte(nil), res.Body()...)
			}
			return nil
		}})
	}()

	// The ringback, heard before the answer: a second of it.
	const second = 8000
	require.Eventually(t, func() bool {
		rec := heard.last(second)
		return rec != nil && dsp.ToneShare(rec, dsp.RingbackLow) > 0.3 && dsp.ToneShare(rec, dsp.RingbackHigh) > 0.3
	}, 5*time.Second, 20*time.Millisecond, "no ringback as early media; log:\n%s", e.log.String())
	mu.Lock()
	// Provisional responses over UDP may arrive in any order.
	assert.Contains(t, codes, sip.StatusRinging, "180 Ringing")
	assert.Contains(t, codes, sip.StatusSessionInProgress, "183 with our SDP")
	assert.NotContains(t, codes, sip.StatusOK, "no answer yet")
	mu.Unlock()

	// The agent answers; the 200 carries the same session.
	require.Eventually(t, func() bool { return len(agent.plat.ShownCalls()) == 1 }, 5*time.Second, 10*time.Millisecond)
	require.True(t, agent.plat.Respond(agent.plat.ShownCalls()[0].CallID, platform.ActionAccept))
	select {
	case err := <-answered:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("no 200 after the answer")
	}
	require.NoError(t, dlg.Ack(ctx))
	agent.waitFor("started inbound")
	mu.Lock()
	a, errA := media.Parse(early)
	b, errB := media.Parse(final)
	mu.Unlock()
	require.NoError(t, errA)
	require.NoError(t, errB)
	assert.Equal(t, a.Addr, b.Addr, "one RTP session from the 183 on")

	// Now the agent's tone, not the ringback.
	require.Eventually(t, func() bool {
		rec := heard.last(second / 2)
		return rec != nil && dsp.ToneShare(rec, appTone) > 0.5
	}, 5*time.Second, 20*time.Millisecond, "the agent is not heard after the answer")
	require.NoError(t, dlg.Bye(ctx))
	agent.waitFor("ended inbound")
}

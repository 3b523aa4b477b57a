package server_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/server/trunk"
	"github.com/onecxi/phone/wire"
)

// trunkCaller is a trunk's inbound caller as the server sees it: a LegConn
// that records what it is sent.
type trunkCaller struct {
	t      *testing.T
	msgs   chan wire.Message
	mu     sync.Mutex
	pcm    []int16
	closed chan struct{}
	once   sync.Once
}

func newTrunkCaller(t *testing.T) *trunkCaller {
	return &trunkCaller{t: t, msgs: make(chan wire.Message, 64), closed: make(chan struct{})}
}

func (c *trunkCaller) SendAudioRaw(raw []byte) bool {
	f, err := wire.DecodeAudio(raw, nil)
	if err != nil {
		c.t.Errorf("server sent a malformed frame: %v", err)
		return false
	}
	c.mu.Lock()
	c.pcm = append(c.pcm, f.Samples...)
	c.mu.Unlock()
	return true
}

func (c *trunkCaller) Send(m wire.Message) error {
	select {
	case c.msgs <- m:
		return nil
	default:
		c.t.Errorf("trunk caller's queue is full; dropped %s", m.Type)
		return wire.ErrClosed
	}
}

func (c *trunkCaller) Close(int, string) { c.once.Do(func() { close(c.closed) }) }

func (c *trunkCaller) expect(typ wire.Type) wire.Message {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		require.Equal(c.t, typ, m.Type, "message %+v", m)
		return m
	case <-time.After(waitMsg):
		c.t.Fatalf("trunk caller: no %s within %v", typ, waitMsg)
	}
	return wire.Message{}
}

func (c *trunkCaller) waitClosed() {
	c.t.Helper()
	select {
	case <-c.closed:
	case <-time.After(waitMsg):
		c.t.Fatalf("trunk caller not closed within %v", waitMsg)
	}
}

func (c *trunkCaller) hears(freq float64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.pcm[max(0, len(c.pcm)-1600):]
	return len(s) == 1600 && dsp.ToneShare(s, freq) > 0.5
}

// streamInto sends a tone into x in real-time 20 ms frames until stop.
func streamInto(x *server.ExternalLeg, freq float64) (stop func()) {
	var out servertest.Frames
	out.From(seqA)
	return servertest.StreamTone(freq, nil, func(samples []int16) {
		raw, _ := wire.AppendAudio(nil, out.Next(samples))
		x.SendAudioRaw(raw)
	})
}

// uniqueDIDs gives globex a DID of its own: a trunk call finds its account
// by DID, and the harness shares 90000 between both accounts.
func uniqueDIDs(cfg *server.Config) { cfg.Accounts[1].DIDs = map[string]string{"91000": "echo"} }

func TestInboundToEchoDIDHearsItself(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{mutate: uniqueDIDs})
	tc := newTrunkCaller(t)
	x, err := h.srv.Inbound(context.Background(), server.InboundCall{DID: "90000", From: "+14155550123"}, tc)
	require.NoError(t, err)
	tc.expect(wire.TypeAnswered)
	require.NotEmpty(t, x.CallID())
	e := h.events.waitFor(t, server.EventCallStarted, x.CallID())
	assert.Equal(t, "acme", e.Account, "the DID's account owns the call")
	assert.Equal(t, "+14155550123", e.From)

	stop := streamInto(x, 700)
	defer stop()
	require.Eventually(t, func() bool { return tc.hears(700) }, waitAudio, tick)

	x.Hangup()
	x.Hangup() // idempotent
	h.events.waitFor(t, server.EventEnded, x.CallID())
	require.Eventually(t, func() bool { return h.srv.Stats().ActiveCalls == 0 && h.srv.CallLegs() == 0 }, waitMsg, tick)
}

func TestInboundRingsTheAppUserAndConnects(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	bEvents := h.eventsFor("B-events", "acme", "1002")
	tc := newTrunkCaller(t)
	x, err := h.srv.Inbound(context.Background(), server.InboundCall{DID: "90100", From: "5551234", Name: "Ada\x00 Lovelace"}, tc)
	require.NoError(t, err)
	tc.expect(wire.TypeRinging)
	p := bEvents.expect(wire.TypeIncoming).Push
	require.NotNil(t, p)
	assert.Equal(t, wire.PushInbound, p.CallType)
	assert.Equal(t, "90100", p.CallFrom, "answered like any DID call")
	assert.Equal(t, "Ada Lovelace", p.CallerName, "the network's display name, printable only")
	assert.Equal(t, x.CallID(), p.CallID)

	b := h.call("B", "acme", appAnswer(p.CallFrom, p.CallTo, p.CallID))
	b.expect(wire.TypeAnswered)
	tc.expect(wire.TypeAnswered)

	stopX := streamInto(x, 700)
	defer stopX()
	stopB := b.streamTone(1100, seqB)
	defer stopB()
	require.Eventually(t, func() bool { return b.hears(700) }, waitAudio, tick, "the app hears the phone caller")
	require.Eventually(t, func() bool { return tc.hears(1100) }, waitAudio, tick, "the phone caller hears the app")

	require.NoError(t, x.DTMF('5'))
	assert.Equal(t, "5", b.expectSkipping(wire.TypeDTMF).Digit)
	require.ErrorIs(t, x.DTMF('x'), server.ErrControlRejected)

	// The app hangs up: the trunk caller is told and closed (BYE).
	b.send(wire.Message{Type: wire.TypeEnd})
	tc.expect(wire.TypeEnd)
	tc.waitClosed()
	require.Eventually(t, func() bool { return h.srv.Stats().ActiveCalls == 0 && h.srv.CallLegs() == 0 }, waitMsg, tick)
	x.Hangup() // after the server ended it: harmless
}

func TestInboundCallerHangsUpWhileRinging(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	bEvents := h.eventsFor("B-events", "acme", "1002")
	tc := newTrunkCaller(t)
	x, err := h.srv.Inbound(context.Background(), server.InboundCall{DID: "90100", From: "5551234"}, tc)
	require.NoError(t, err)
	tc.expect(wire.TypeRinging)
	assert.Equal(t, wire.EventInitial, bEvents.expect(wire.TypeIncoming).Push.Event)
	x.Hangup() // CANCEL
	assert.Equal(t, wire.EventEnd, bEvents.expect(wire.TypeIncoming).Push.Event, "the app stops ringing")
	require.Eventually(t, func() bool { return h.srv.Stats().ActiveCalls == 0 }, waitMsg, tick)
}

func TestInboundRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	ctx := context.Background()

	_, err := h.srv.Inbound(ctx, server.InboundCall{DID: "99999", From: "5551234"}, newTrunkCaller(t))
	require.ErrorIs(t, err, server.ErrNoRoute)

	// An app route with no device online or registered: unreachable, closed.
	tc := newTrunkCaller(t)
	x, err := h.srv.Inbound(ctx, server.InboundCall{DID: "90100", From: "not a number"}, tc)
	require.NoError(t, err)
	assert.Equal(t, wire.CodeUnreachable, tc.expect(wire.TypeError).Code)
	tc.waitClosed()
	assert.Empty(t, x.CallID())
	e := h.events.waitFor(t, server.EventRejected, "")
	assert.Equal(t, "anonymous", e.From, "a caller ID that is not a number is not passed on")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = h.srv.Inbound(cancelled, server.InboundCall{DID: "90050"}, newTrunkCaller(t))
	require.ErrorIs(t, err, context.Canceled)

	// 90000 is a DID of both accounts: nobody's to take from the network.
	_, err = h.srv.Inbound(ctx, server.InboundCall{DID: "90000", From: "5551234"}, newTrunkCaller(t))
	require.ErrorIs(t, err, server.ErrNoRoute)
}

// dtmfTrunk is a trunk whose far end answers at once and presses digits on
// request.
type dtmfTrunk struct{ dials chan trunk.Dial }

type dtmfTrunkCall struct{}

func (dtmfTrunkCall) SendAudioRaw([]byte) bool { return true }
func (dtmfTrunkCall) SendDTMF(byte)            {}
func (dtmfTrunkCall) Hold(bool)                {}
func (dtmfTrunkCall) Hangup()                  {}

func (d *dtmfTrunk) Dial(td trunk.Dial) (trunk.Call, error) {
	d.dials <- td
	return dtmfTrunkCall{}, nil
}

func TestTrunkFarEndDTMFReachesTheCaller(t *testing.T) {
	t.Parallel()
	tr := &dtmfTrunk{dials: make(chan trunk.Dial, 1)}
	h := newHarness(t, harnessOpts{options: []server.Option{server.WithTrunk(tr)}})
	a := h.call("A", "acme", wire.Message{Type: wire.TypeStart, Kind: wire.KindOutbound, To: "5550199", RegisteredNumber: "1001"})
	d := <-tr.dials
	d.DTMF('1') // before answer: nowhere to go, dropped
	d.Progress(trunk.Event{Kind: trunk.Ringing})
	a.expect(wire.TypeRinging)
	d.Progress(trunk.Event{Kind: trunk.Answered})
	a.expect(wire.TypeAnswered)
	d.DTMF('#')
	assert.Equal(t, "#", a.expect(wire.TypeDTMF).Digit)
	e := h.events.waitFor(t, server.EventDTMF, d.CallID)
	assert.Equal(t, "5550199", e.From, "the far end pressed it")
}

func TestTrunkFarEndHoldReachesTheCaller(t *testing.T) {
	t.Parallel()
	tr := &dtmfTrunk{dials: make(chan trunk.Dial, 1)}
	h := newHarness(t, harnessOpts{options: []server.Option{server.WithTrunk(tr)}})
	a := h.call("A", "acme", wire.Message{Type: wire.TypeStart, Kind: wire.KindOutbound, To: "5550199", RegisteredNumber: "1001"})
	d := <-tr.dials
	d.Progress(trunk.Event{Kind: trunk.Answered})
	a.expect(wire.TypeAnswered)

	d.Progress(trunk.Event{Kind: trunk.Held})
	m := a.expect(wire.TypeHold)
	assert.True(t, *m.On)
	assert.True(t, m.Remote, "the far end did it")
	require.Eventually(t, func() bool { return len(a.serverFrames()) > 10 }, waitAudio, tick, "hold music plays to the caller")
	// The far end's own audio is not passed on while held.
	farEnd, _ := wire.AppendAudio(nil, wire.AudioFrame{Seq: seqB, Samples: make([]int16, wire.FrameSamples)})
	assert.False(t, d.Audio.SendAudioRaw(farEnd))

	d.Progress(trunk.Event{Kind: trunk.Held}) // a repeat changes nothing
	d.Progress(trunk.Event{Kind: trunk.Resumed})
	m = a.expect(wire.TypeHold)
	assert.False(t, *m.On)
	farEnd, _ = wire.AppendAudio(nil, wire.AudioFrame{Seq: seqB + 1, Samples: make([]int16, wire.FrameSamples)})
	assert.True(t, d.Audio.SendAudioRaw(farEnd))
}

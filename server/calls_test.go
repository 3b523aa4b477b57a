package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/wire"
)

func inbound(to, from string) wire.Message {
	return wire.Message{Kind: wire.KindInbound, To: to, RegisteredNumber: from}
}

func appCall(to, from string) wire.Message {
	return wire.Message{Kind: wire.KindAppToApp, To: to, RegisteredNumber: from}
}

func appAnswer(to, from, callID string) wire.Message {
	return wire.Message{Kind: wire.KindAppToAppAnswer, To: to, RegisteredNumber: from, CallID: callID}
}

func TestEchoReturnsTheTone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a := h.call("A", "acme", inbound("90000", "1001"))
	ans := a.expect(wire.TypeAnswered)
	require.NotEmpty(t, ans.CallID)
	stop := a.streamTone(440, seqA)
	defer stop()
	require.Eventually(t, func() bool { return a.hears(440) }, waitAudio, tick, "echo of 440 Hz")

	// Echoed frames carry the server's own numbering, the first marked.
	frames := a.serverFrames()
	require.NotEmpty(t, frames)
	assert.True(t, frames[0].marker)
	assert.Zero(t, a.framesFrom(seqA), "frames are re-stamped, not reflected")

	e := h.events.waitFor(t, server.EventAnswered, ans.CallID)
	assert.Equal(t, "acme", e.Account)
	assert.Equal(t, wire.KindInbound, e.Kind)
	assert.Equal(t, "1001", e.From)
	assert.Equal(t, "90000", e.To)
}

func TestIVRPlaysDTMFDigitBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a := h.call("A", "acme", inbound("90050", "1001"))
	a.expect(wire.TypeAnswered)
	// The welcome prompt is speech: audible, and no DTMF in it.
	require.Eventually(t, func() bool {
		s := a.recent(8000)
		return len(s) == 8000 && dsp.Energy(s) > 1e-4
	}, waitAudio, tick, "welcome prompt")
	assert.False(t, hasDTMF(a.allSamples(), '5'), "no DTMF tone before a key is pressed")

	a.send(wire.Message{Type: wire.TypeDTMF, Ref: 1, Digit: "5"})
	assert.Equal(t, uint32(1), a.expect(wire.TypeAck).Ref)
	// The prompt (about 4.5 s) finishes first; then 770 + 1336 Hz.
	require.Eventually(t, func() bool { return hasDTMF(a.allSamples(), '5') }, 3*waitAudio, 50*time.Millisecond,
		"DTMF 5 (770 Hz + 1336 Hz) played back")
	h.events.waitFor(t, server.EventDTMF, "")
}

// hasDTMF reports whether some 50 ms window of s is digit's dual tone.
func hasDTMF(s []int16, digit byte) bool {
	low, high, _ := dsp.DTMFFreqs(digit)
	const win = 400
	for i := 0; i+win <= len(s); i += wire.FrameSamples {
		w := s[i : i+win]
		if dsp.ToneShare(w, low) > 0.3 && dsp.ToneShare(w, high) > 0.3 {
			return true
		}
	}
	return false
}

func TestStartFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	// 1002 is online in acme only.
	h.eventsFor("B-events", "acme", "1002")
	tests := []struct {
		name    string
		account string
		start   wire.Message
		code    wire.Code
	}{
		{"unknown DID", "acme", inbound("12345", "1001"), wire.CodeNotFound},
		{"call yourself", "acme", appCall("1001", "1001"), wire.CodeSelfCall},
		{"DID routed to yourself", "acme", inbound("90100", "1002"), wire.CodeSelfCall},
		{"nobody online", "acme", appCall("1003", "1001"), wire.CodeUnreachable},
		{"answer a call that is not ringing", "acme", appAnswer("1001", "1002", ""), wire.CodeNotFound},
		{"answer an unknown call ID", "acme", appAnswer("1001", "1002", "c_nope"), wire.CodeNotFound},
		// Account isolation: globex sees neither acme's users nor its DIDs.
		{"other account's user", "globex", appCall("1002", "1001"), wire.CodeUnreachable},
		{"other account's DID", "globex", inbound("90050", "1001"), wire.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.call("A", tt.account, tt.start)
			m := c.expectError(tt.code)
			assert.Zero(t, m.Ref)
			assert.NotEmpty(t, m.Message)
			assert.Equal(t, wire.CloseNormal, c.waitClosed())
		})
	}
	assert.Zero(t, h.srv.Stats().ActiveCalls)
}

func TestNumberInUse(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a1 := h.call("A1", "acme", inbound("90000", "1001"))
	a1.expect(wire.TypeAnswered)
	a2 := h.call("A2", "acme", inbound("90050", "1001"))
	a2.expectError(wire.CodeNumberInUse)
	// The same number in another account is another user.
	g := h.call("G", "globex", inbound("90000", "1001"))
	g.expect(wire.TypeAnswered)
}

// ringB has B online and A calling B; it returns A, B's events connection
// and the incoming event.
func ringB(t *testing.T, h *harness) (a, bEvents *client, in wire.Message) {
	t.Helper()
	bEvents = h.eventsFor("B-events", "acme", "1002")
	a = h.call("A", "acme", appCall("1002", "1001"))
	ring := a.expect(wire.TypeRinging)
	in = bEvents.expect(wire.TypeIncoming)
	require.Equal(t, ring.CallID, in.CallID)
	return a, bEvents, in
}

func TestAppToAppCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, bEvents, in := ringB(t, h)
	p := in.Push
	require.NotNil(t, p)
	assert.Equal(t, "1001", p.CallFrom)
	assert.Equal(t, "1002", p.CallTo)
	assert.Equal(t, wire.PushAppToApp, p.CallType)
	assert.Equal(t, "1002", p.RegisteredNumber)
	assert.Equal(t, "1001", p.CallerName)
	assert.Equal(t, in.CallID, p.CallID)
	assert.Equal(t, server.EnvDevelopment, p.Environment)
	assert.Equal(t, "desktop", p.Platform)
	assert.Equal(t, wire.EventInitial, p.Event)
	assert.InDelta(t, time.Now().UnixMilli(), p.Timestamp, float64(time.Minute.Milliseconds()))

	b := h.call("B", "acme", appAnswer(p.CallFrom, p.CallTo, p.CallID))
	assert.Equal(t, in.CallID, b.expect(wire.TypeAnswered).CallID)
	assert.Equal(t, in.CallID, a.expect(wire.TypeAnswered).CallID)
	end := bEvents.expect(wire.TypeIncoming)
	assert.Equal(t, wire.EventEnd, end.Push.Event, "the callee's devices stop ringing")
	assert.Equal(t, 1, h.srv.Stats().ActiveCalls)
	assert.Equal(t, 1, h.srv.Stats().EventConns)

	stopA := a.streamTone(440, seqA)
	defer stopA()
	stopB := b.streamTone(1004, seqB)
	defer stopB()
	require.Eventually(t, func() bool { return b.hears(440) }, waitAudio, tick, "B hears A's 440 Hz")
	require.Eventually(t, func() bool { return a.hears(1004) }, waitAudio, tick, "A hears B's 1004 Hz")
	assert.Positive(t, a.framesFrom(seqB), "frames are relayed as sent")
	assert.Positive(t, h.srv.Stats().FramesRelayed)

	// status and ping.
	a.send(wire.Message{Type: wire.TypeStatus, Ref: 7})
	st := a.expectSkipping(wire.TypeStatus)
	assert.Equal(t, wire.Message{Type: wire.TypeStatus, Ref: 7, CallID: in.CallID, State: "active"}, st)
	a.send(wire.Message{Type: wire.TypePing, TS: 12345})
	assert.Equal(t, int64(12345), a.expectSkipping(wire.TypePong).TS)

	// DTMF goes to the other party.
	a.send(wire.Message{Type: wire.TypeDTMF, Ref: 8, Digit: "#"})
	assert.Equal(t, uint32(8), a.expect(wire.TypeAck).Ref)
	assert.Equal(t, "#", b.expect(wire.TypeDTMF).Digit)

	// A hangs up: B gets end{remote} and a normal close.
	stopA()
	a.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
	assert.Equal(t, wire.ReasonRemote, b.expectSkipping(wire.TypeEnd).Reason)
	assert.Equal(t, wire.CloseNormal, b.waitClosed())
	a.waitClosed()
	ended := h.events.waitFor(t, server.EventEnded, in.CallID)
	assert.Equal(t, wire.ReasonHangup, ended.Reason)
	require.Eventually(t, func() bool { return h.srv.Stats().ActiveCalls == 0 }, waitMsg, tick)
}

func TestAnswerWithoutCallIDTakesTheOldestRingingCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, _, in := ringB(t, h)
	b := h.call("B", "acme", appAnswer("1001", "1002", ""))
	assert.Equal(t, in.CallID, b.expect(wire.TypeAnswered).CallID)
	assert.Equal(t, in.CallID, a.expect(wire.TypeAnswered).CallID)
}

func TestDIDRoutedToAnAppUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	bEvents := h.eventsFor("B-events", "acme", "1002")
	a := h.call("A", "acme", inbound("90100", "1001"))
	ring := a.expect(wire.TypeRinging)
	p := bEvents.expect(wire.TypeIncoming).Push
	assert.Equal(t, wire.PushInbound, p.CallType)
	assert.Equal(t, "90100", p.CallFrom)
	assert.Equal(t, "1001", p.CallerName)
	b := h.call("B", "acme", appAnswer(p.CallFrom, p.CallTo, ""))
	assert.Equal(t, ring.CallID, b.expect(wire.TypeAnswered).CallID)
	a.expect(wire.TypeAnswered)
}

func TestDecline(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, bEvents, in := ringB(t, h)

	// Another account cannot decline (or even see) the call.
	resp, body := h.request(http.MethodPost, wire.DeclinePath(in.CallID), "globex")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, wire.CodeNotFound, body.Code)

	resp, _ = h.request(http.MethodPost, wire.DeclinePath(in.CallID), "acme")
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	d := a.expect(wire.TypeDeclined)
	assert.Equal(t, in.CallID, d.CallID)
	assert.Equal(t, wire.ReasonDeclined, d.Reason)
	assert.Equal(t, wire.ReasonDeclined, a.expect(wire.TypeEnd).Reason)
	assert.Equal(t, wire.CloseNormal, a.waitClosed())
	assert.Equal(t, wire.EventEnd, bEvents.expect(wire.TypeIncoming).Push.Event)
	h.events.waitFor(t, server.EventDeclined, in.CallID)

	resp, body = h.request(http.MethodPost, wire.DeclinePath(in.CallID), "acme")
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Equal(t, wire.CodeCallEnded, body.Code)
}

func TestDeclineAnsweredCallConflicts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, _, in := ringB(t, h)
	b := h.call("B", "acme", appAnswer("1001", "1002", in.CallID))
	b.expect(wire.TypeAnswered)
	a.expect(wire.TypeAnswered)
	resp, body := h.request(http.MethodPost, wire.DeclinePath(in.CallID), "acme")
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Equal(t, wire.CodeAlreadyAnswered, body.Code)
}

func TestCallerHangsUpWhileRinging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		hangup func(a *client)
	}{
		{"end message", func(a *client) { a.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup}) }},
		{"connection closed", func(a *client) { a.conn.Close(wire.CloseGoingAway, "app killed") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{})
			a, bEvents, in := ringB(t, h)
			tt.hangup(a)
			end := bEvents.expect(wire.TypeIncoming)
			assert.Equal(t, in.CallID, end.CallID)
			assert.Equal(t, wire.EventEnd, end.Push.Event)
			h.events.waitFor(t, server.EventEnded, in.CallID)
			// The call is gone: answering it now fails.
			b := h.call("B", "acme", appAnswer("1001", "1002", in.CallID))
			b.expectError(wire.CodeNotFound)
		})
	}
}

func TestRingTimeout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{mutate: func(c *server.Config) { c.RingTimeout = 300 * time.Millisecond }})
	a, bEvents, in := ringB(t, h)
	assert.Equal(t, wire.CodeNoAnswer, a.expect(wire.TypeError).Code)
	assert.Equal(t, wire.ReasonNoAnswer, a.expect(wire.TypeEnd).Reason)
	assert.Equal(t, wire.CloseNormal, a.waitClosed())
	end := bEvents.expect(wire.TypeIncoming)
	assert.Equal(t, in.CallID, end.CallID)
	assert.Equal(t, wire.EventEnd, end.Push.Event)
	assert.Equal(t, wire.ReasonNoAnswer, h.events.waitFor(t, server.EventEnded, in.CallID).Reason)
}

func TestFirstAnswerWins(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	b1Events := h.eventsFor("B1-events", "acme", "1002")
	b2Events := h.eventsFor("B2-events", "acme", "1002")
	a := h.call("A", "acme", appCall("1002", "1001"))
	callID := a.expect(wire.TypeRinging).CallID
	for _, ev := range []*client{b1Events, b2Events} {
		assert.Equal(t, callID, ev.expect(wire.TypeIncoming).CallID, "every device rings")
	}
	b1 := h.call("B1", "acme", appAnswer("1001", "1002", callID))
	b1.expect(wire.TypeAnswered)
	a.expect(wire.TypeAnswered)
	for _, ev := range []*client{b1Events, b2Events} {
		assert.Equal(t, wire.EventEnd, ev.expect(wire.TypeIncoming).Push.Event, "every device stops ringing")
	}
	b2 := h.call("B2", "acme", appAnswer("1001", "1002", callID))
	b2.expectError(wire.CodeAlreadyAnswered)
	assert.Equal(t, wire.CloseNormal, b2.waitClosed())
	b3 := h.call("B3", "acme", appAnswer("1001", "1002", ""))
	b3.expectError(wire.CodeAlreadyAnswered)
}

func TestTheAnsweringDeviceIsNotToldEnd(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	eventsOf := func(name, device string) *client {
		c := h.connect(name, wire.PathEvents+"?"+wire.QueryRegisteredNumber+"=1002&"+wire.QueryDeviceID+"="+device, "acme")
		c.expect(wire.TypeHello)
		return c
	}
	b1Events, b2Events := eventsOf("B1-events", "d-phone-1"), eventsOf("B2-events", "d-phone-2")
	a := h.call("A", "acme", appCall("1002", "1001"))
	callID := a.expect(wire.TypeRinging).CallID
	b1Events.expect(wire.TypeIncoming)
	b2Events.expect(wire.TypeIncoming)
	answer := appAnswer("1001", "1002", callID)
	answer.DeviceID = "d-phone-1"
	h.call("B1", "acme", answer).expect(wire.TypeAnswered)
	assert.Equal(t, wire.EventEnd, b2Events.expect(wire.TypeIncoming).Push.Event, "the other device stops ringing")
	// The answering device hears nothing more on its events connection: a
	// ping's pong is the next thing it gets.
	b1Events.send(wire.Message{Type: wire.TypePing, TS: 7})
	assert.Equal(t, int64(7), b1Events.expect(wire.TypePong).TS)
}

func TestEventsRefuseAMalformedDeviceID(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	_, resp, err := h.dialRaw(wire.PathEvents+"?"+wire.QueryRegisteredNumber+"=1002&"+wire.QueryDeviceID+"=bad%20id", h.creds("acme"), []string{wire.Subprotocol})
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// connectAB sets up an answered app-to-app call A(1001) → B(1002).
func connectAB(t *testing.T, h *harness) (a, b *client, callID string) {
	t.Helper()
	a, _, in := ringB(t, h)
	b = h.call("B", "acme", appAnswer("1001", "1002", in.CallID))
	b.expect(wire.TypeAnswered)
	a.expect(wire.TypeAnswered)
	return a, b, in.CallID
}

func TestControlsBeforeAnswerAreRejected(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, _, in := ringB(t, h)
	for ref, m := range []wire.Message{
		{Type: wire.TypeHold, On: wire.Bool(true)},
		{Type: wire.TypeDTMF, Digit: "1"},
	} {
		m.Ref = uint32(ref + 1)
		a.send(m)
		e := a.expect(wire.TypeError)
		assert.Equal(t, m.Ref, e.Ref)
		assert.Equal(t, wire.CodeControlRejected, e.Code)
	}
	a.send(wire.Message{Type: wire.TypeStatus, Ref: 9})
	st := a.expect(wire.TypeStatus)
	assert.Equal(t, "ringing", st.State)
	assert.Equal(t, in.CallID, st.CallID)
}

func TestHold(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, b, callID := connectAB(t, h)
	stopA := a.streamTone(440, seqA)
	defer stopA()
	stopB := b.streamTone(1004, seqB)
	defer stopB()
	require.Eventually(t, func() bool { return b.hears(440) && a.hears(1004) }, waitAudio, tick)

	a.send(wire.Message{Type: wire.TypeHold, Ref: 1, On: wire.Bool(true)})
	assert.Equal(t, uint32(1), a.expectSkipping(wire.TypeAck).Ref)
	held := b.expectSkipping(wire.TypeHold)
	assert.True(t, *held.On)
	assert.True(t, held.Remote)
	e := h.events.waitFor(t, server.EventHold, callID)
	assert.True(t, e.On)
	assert.Equal(t, "1001", e.From)

	// B hears the server's hold music, not A; A hears nothing from B.
	musicBefore := len(b.serverFrames())
	require.Eventually(t, func() bool { return len(b.serverFrames()) >= musicBefore+5 }, waitAudio, tick, "hold music")
	fromA, fromB := b.framesFrom(seqA), a.framesFrom(seqB)
	require.Eventually(t, func() bool { return len(b.serverFrames()) >= musicBefore+30 }, waitAudio, tick, "hold music")
	assert.Equal(t, fromA, b.framesFrom(seqA), "no audio from A reaches B while held")
	assert.Equal(t, fromB, a.framesFrom(seqB), "no audio from B reaches A while held")
	music := b.serverFrames()[musicBefore:]
	assert.True(t, music[0].marker, "hold music starts a talk spurt")
	var energy float64
	for _, f := range music {
		assert.Greater(t, f.energy, 1e-6, "hold music has no silent frames")
		energy += f.energy
	}
	assert.Greater(t, energy/float64(len(music)), 1e-3, "hold music is audible")
	a.send(wire.Message{Type: wire.TypeStatus, Ref: 2})
	assert.True(t, a.expectSkipping(wire.TypeStatus).Held)

	a.send(wire.Message{Type: wire.TypeHold, Ref: 3, On: wire.Bool(false)})
	assert.Equal(t, uint32(3), a.expectSkipping(wire.TypeAck).Ref)
	resumed := b.expectSkipping(wire.TypeHold)
	assert.False(t, *resumed.On)
	assert.True(t, resumed.Remote)
	require.Eventually(t, func() bool { return b.framesFrom(seqA) > fromA && a.framesFrom(seqB) > fromB },
		waitAudio, tick, "audio flows again both ways")
	music = b.serverFrames()
	require.Eventually(t, func() bool { return b.hears(440) }, waitAudio, tick)
	assert.LessOrEqual(t, len(b.serverFrames())-len(music), 2, "hold music stops on resume")
}

func TestMute(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, b, callID := connectAB(t, h)
	stopA := a.streamTone(440, seqA) // A keeps sending although muted: the server drops it
	defer stopA()
	require.Eventually(t, func() bool { return b.hears(440) }, waitAudio, tick)

	a.send(wire.Message{Type: wire.TypeMute, Ref: 1, On: wire.Bool(true)})
	assert.Equal(t, uint32(1), a.expect(wire.TypeAck).Ref)
	e := h.events.waitFor(t, server.EventMute, callID)
	assert.True(t, e.On)

	dropped := h.srv.Stats().FramesDropped
	require.Eventually(t, func() bool { return h.srv.Stats().FramesDropped >= dropped+3 }, waitAudio, tick)
	got := b.framesFrom(seqA)
	require.Eventually(t, func() bool { return h.srv.Stats().FramesDropped >= dropped+25 }, waitAudio, tick)
	assert.Equal(t, got, b.framesFrom(seqA), "no frames from a muted leg")
	a.send(wire.Message{Type: wire.TypeStatus, Ref: 2})
	assert.True(t, a.expect(wire.TypeStatus).Muted)

	a.send(wire.Message{Type: wire.TypeMute, Ref: 3, On: wire.Bool(false)})
	assert.Equal(t, uint32(3), a.expect(wire.TypeAck).Ref)
	require.Eventually(t, func() bool { return b.framesFrom(seqA) > got }, waitAudio, tick)
}

func TestHoldPausesTheIVR(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a := h.call("A", "acme", inbound("90050", "1001"))
	a.expect(wire.TypeAnswered)
	require.Eventually(t, func() bool { return len(a.serverFrames()) >= 5 }, waitAudio, tick)
	a.send(wire.Message{Type: wire.TypeHold, Ref: 1, On: wire.Bool(true)})
	assert.Equal(t, uint32(1), a.expect(wire.TypeAck).Ref)
	// Hold takes effect at the next tick at the latest; after that nothing:
	// no frame for 200 ms (ten frame times).
	var n int
	require.Eventually(t, func() bool {
		var quiet bool
		n, quiet = a.serverQuiet(200 * time.Millisecond)
		return quiet
	}, waitAudio, tick, "the prompt pauses")
	a.send(wire.Message{Type: wire.TypeHold, Ref: 2, On: wire.Bool(false)})
	assert.Equal(t, uint32(2), a.expect(wire.TypeAck).Ref)
	require.Eventually(t, func() bool { return len(a.serverFrames()) > n+5 }, waitAudio, tick, "the prompt resumes")
	assert.True(t, a.serverFrames()[n].marker, "the first frame after resuming is marked")
}

func TestOutboundThroughTheSimulatedTrunk(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a := h.call("A", "acme", wire.Message{Kind: wire.KindOutbound, To: "+15551234", RegisteredNumber: "1001"})
	callID := a.expect(wire.TypeRinging).CallID
	assert.Equal(t, callID, a.expect(wire.TypeAnswered).CallID)
	stop := a.streamTone(440, seqA)
	defer stop()
	require.Eventually(t, func() bool { return a.hears(440) }, waitAudio, tick, "the far end echoes")
	heard := h.trunk.Received(callID)
	require.GreaterOrEqual(t, len(heard), 1600)
	assert.Greater(t, dsp.ToneShare(heard[len(heard)-1600:], 440), 0.5, "the far end heard 440 Hz")

	a.send(wire.Message{Type: wire.TypeDTMF, Ref: 1, Digit: "7"})
	a.expectSkipping(wire.TypeAck)
	assert.Equal(t, "7", h.trunk.Digits(callID))
	e := h.events.waitFor(t, server.EventCallStarted, callID)
	assert.Equal(t, wire.KindOutbound, e.Kind)
}

func TestOutboundToneMode(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{mutate: func(c *server.Config) { c.Trunk.Mode = "tone:1004" }})
	a := h.call("A", "acme", wire.Message{Kind: wire.KindOutbound, To: "5551234", RegisteredNumber: "1001"})
	a.expect(wire.TypeRinging)
	a.expect(wire.TypeAnswered)
	require.Eventually(t, func() bool { return a.hears(1004) }, waitAudio, tick, "the far end plays 1004 Hz")
}

func TestOutboundBusy(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a := h.call("A", "acme", wire.Message{Kind: wire.KindOutbound, To: "5550100", RegisteredNumber: "1001"})
	assert.Equal(t, wire.CodeBusy, a.expect(wire.TypeError).Code)
	a.expect(wire.TypeEnd)
	assert.Equal(t, wire.CloseNormal, a.waitClosed())
}

func TestShutdownEndsCalls(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a := h.call("A", "acme", inbound("90000", "1001"))
	a.expect(wire.TypeAnswered)
	ev := h.eventsFor("B-events", "acme", "1002")
	idle := h.connect("idle", wire.PathCall, "acme") // never sends start

	ctx := t.Context()
	require.NoError(t, h.srv.Shutdown(ctx))
	assert.Equal(t, wire.ReasonShutdown, a.expect(wire.TypeEnd).Reason)
	assert.Equal(t, wire.CloseGoingAway, a.waitClosed())
	assert.Equal(t, wire.CloseGoingAway, ev.waitClosed())
	assert.Equal(t, wire.CloseGoingAway, idle.waitClosed())
	assert.Equal(t, server.Stats{}, zeroFrames(h.srv.Stats()))

	_, err := h.httpClient().Get(h.base + wire.PathHealth)
	assert.Error(t, err, "no longer listening")
}

func zeroFrames(s server.Stats) server.Stats {
	s.FramesDropped, s.FramesRelayed = 0, 0
	return s
}

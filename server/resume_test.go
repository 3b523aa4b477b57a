package server_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/wire"
)

// Call resumption (server/resume.go): a resumable party whose connection is
// lost keeps its call for the grace and takes it back on a new socket.

// pingEvery is how often a resumable test client pings: often enough that
// the server never finds it silent (wire.MediaTimeout).
const pingEvery = 250 * time.Millisecond

// waitSilent bounds waiting for the server to find a leg silent (MediaTimeout
// plus its watch period) or heard again: a limit, not an assertion.
const waitSilent = 3 * waitMsg

// keepAlive pings as a resumable client does, until the connection closes
// or stop is called; pongs are not recorded.
func (c *client) keepAlive() (stop func()) {
	c.skipPongs.Store(true)
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tk := time.NewTicker(pingEvery)
		defer tk.Stop()
		for {
			select {
			case <-quit:
				return
			case <-c.done:
				return
			case <-tk.C:
				_ = c.conn.Send(wire.Message{Type: wire.TypePing, TS: time.Now().UnixMilli()})
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(quit); <-finished }) }
	c.t.Cleanup(stop)
	return stop
}

// drop cuts the client's TCP connection without a close frame, as a network
// that goes away does, and waits for its reader to stop.
func (c *client) drop() {
	c.t.Helper()
	_ = c.ws.UnderlyingConn().Close()
	c.waitClosed()
}

// expectWithin is expect with its own bound on waiting.
func (c *client) expectWithin(typ wire.Type, d time.Duration) wire.Message {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		require.Equal(c.t, typ, m.Type, "%s: got %+v", c.name, m)
		return m
	case <-time.After(d):
		c.t.Fatalf("%s: no %s within %v", c.name, typ, d)
		return wire.Message{}
	}
}

// nothingPending checks that the next message c receives is the answer to
// a status request: nothing else was queued for it before.
func (c *client) nothingPending(ref uint32) wire.Message {
	c.t.Helper()
	c.send(wire.Message{Type: wire.TypeStatus, Ref: ref})
	m := c.expect(wire.TypeStatus)
	assert.Equal(c.t, ref, m.Ref, c.name)
	return m
}

// party is a client in a call, with its registered number and, if it is
// resumable, the server's resumable message.
type party struct {
	*client
	number string
	res    wire.Message
}

// place opens /v1/call and sends start, resumable if asked: a resumable
// party keeps alive and its first message must be resumable.
func (h *harness) place(name, account string, start wire.Message, resumable bool) party {
	h.t.Helper()
	c := h.callAs(name, account, start, resumable)
	p := party{client: c, number: start.RegisteredNumber}
	if resumable {
		c.keepAlive()
		p.res = c.expect(wire.TypeResumable)
	}
	return p
}

// resume opens /v1/call and sends resume{callId, token} as its first message.
func (h *harness) resume(name, account, callID, token string) *client {
	h.t.Helper()
	c := h.connect(name, wire.PathCall, account)
	c.send(wire.Message{Type: wire.TypeResume, CallID: callID, Token: token})
	return c
}

// resumeOK resumes p's call on a new socket, checks resumed and keeps the
// new socket alive.
func (h *harness) resumeOK(p party, callID, state string) *client {
	h.t.Helper()
	c := h.resume(p.name+"'", "acme", callID, p.res.Token)
	m := c.expect(wire.TypeResumed)
	assert.Equal(h.t, callID, m.CallID)
	assert.Equal(h.t, state, m.State)
	c.keepAlive()
	return c
}

// appCallUp connects an app call from A (1001) to B (1002), each side
// resumable as asked.
func appCallUp(t *testing.T, h *harness, aResumable, bResumable bool) (a, b party, callID string) {
	t.Helper()
	bEvents := h.eventsFor("B-events", "acme", "1002")
	a = h.place("A", "acme", appCall("1002", "1001"), aResumable)
	callID = a.expect(wire.TypeRinging).CallID
	in := bEvents.expect(wire.TypeIncoming)
	require.Equal(t, callID, in.CallID)
	b = h.place("B", "acme", appAnswer(in.Push.CallFrom, in.Push.CallTo, in.CallID), bResumable)
	assert.Equal(t, callID, b.expect(wire.TypeAnswered).CallID)
	assert.Equal(t, callID, a.expect(wire.TypeAnswered).CallID)
	return a, b, callID
}

// echoCallUp connects a resumable call from 1001 to the echo DID.
func echoCallUp(t *testing.T, h *harness) (a party, callID string) {
	t.Helper()
	a = h.place("A", "acme", inbound("90000", "1001"), true)
	callID = a.expect(wire.TypeAnswered).CallID
	require.Equal(t, callID, a.res.CallID)
	return a, callID
}

// lost drops p's socket and waits for the server to notice.
func (h *harness) lost(p party, callID string) {
	h.t.Helper()
	p.drop()
	e := h.events.waitFor(h.t, server.EventConnLost, callID)
	assert.Equal(h.t, p.number, e.From)
	assert.Equal(h.t, "socket", e.Reason)
}

// typesFor lists the types of callID's events, in order, keeping only
// those in keep.
func (l *eventLog) typesFor(callID string, keep ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.events {
		for _, k := range keep {
			if e.CallID == callID && e.Type == k {
				out = append(out, e.Type)
			}
		}
	}
	return out
}

// callLegs waits for the server to hold n call legs: a resume leaves no
// stray leg behind, and an ended call none at all.
func callLegs(t *testing.T, h *harness, n int64) {
	t.Helper()
	require.Eventually(t, func() bool { return h.srv.CallLegs() == n }, waitMsg, tick,
		"call legs: %d, want %d", h.srv.CallLegs(), n)
}

func TestResumableIsSentBeforeTheFirstReply(t *testing.T) {
	t.Parallel()
	servers := []struct {
		name  string
		grace time.Duration // Config.ResumeGrace
		ask   bool          // the client names the resume feature
		ms    int64         // resumable.ms; 0: no resumable message
	}{
		{"default grace", 0, true, wire.DefaultResumeGrace.Milliseconds()},
		{"configured grace", 1500 * time.Millisecond, true, 1500},
		{"not asked", 0, false, 0},
		{"resumption off", server.NoResume, true, 0},
	}
	calls := []struct {
		name  string
		first wire.Type // the reply after resumable
		place func(h *harness, resumable bool) *client
	}{
		{"echo", wire.TypeAnswered, func(h *harness, r bool) *client {
			return h.callAs("A", "acme", wire.Message{Kind: wire.KindInbound, To: "90000", RegisteredNumber: "1001"}, r)
		}},
		{"outbound", wire.TypeRinging, func(h *harness, r bool) *client {
			return h.callAs("A", "acme", wire.Message{Kind: wire.KindOutbound, To: "5550123", RegisteredNumber: "1001"}, r)
		}},
		{"app caller", wire.TypeRinging, func(h *harness, r bool) *client {
			h.eventsFor("B-events", "acme", "1002")
			return h.callAs("A", "acme", wire.Message{Kind: wire.KindAppToApp, To: "1002", RegisteredNumber: "1001"}, r)
		}},
		{"app callee", wire.TypeAnswered, func(h *harness, r bool) *client {
			_, _, in := ringB(h.t, h)
			return h.callAs("B", "acme", wire.Message{Kind: wire.KindAppToAppAnswer, To: in.Push.CallFrom,
				RegisteredNumber: in.Push.CallTo, CallID: in.CallID}, r)
		}},
	}
	for _, sv := range servers {
		t.Run(sv.name, func(t *testing.T) {
			t.Parallel()
			for _, cl := range calls {
				t.Run(cl.name, func(t *testing.T) {
					h := newHarness(t, harnessOpts{mutate: func(c *server.Config) { c.ResumeGrace = sv.grace }})
					c := cl.place(h, sv.ask)
					if sv.ms == 0 {
						c.expect(cl.first)
						return
					}
					res := c.expect(wire.TypeResumable)
					require.NoError(t, wire.CheckResumeToken(res.Token))
					assert.Equal(t, sv.ms, res.MS)
					reply := c.expect(cl.first)
					assert.Equal(t, reply.CallID, res.CallID)
				})
			}
		})
	}
}

func TestResumableTokensDiffer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, b, _ := appCallUp(t, h, true, true)
	c := h.place("C", "acme", inbound("90000", "1003"), true)
	c.expect(wire.TypeAnswered)
	assert.NotEqual(t, a.res.Token, b.res.Token, "the two parties of a call")
	assert.NotEqual(t, a.res.Token, c.res.Token, "two calls")
}

func TestResumeAfterADroppedSocket(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, callID := echoCallUp(t, h)
	stop := a.streamTone(440, seqA)
	require.Eventually(t, func() bool { return a.hears(440) }, waitAudio, tick, "echo before the drop")
	stop()
	h.lost(a, callID)
	_, resumed := h.events.find(server.EventResumed, callID)
	assert.False(t, resumed)

	a2 := h.resumeOK(a, callID, "active")
	stop = a2.streamTone(1004, seqA)
	defer stop()
	require.Eventually(t, func() bool { return a2.hears(1004) }, waitAudio, tick, "echo after the resume")
	e := h.events.waitFor(t, server.EventResumed, callID)
	assert.Equal(t, "1001", e.From)
	assert.Equal(t, []string{server.EventConnLost, server.EventResumed},
		h.events.typesFor(callID, server.EventConnLost, server.EventResumed, server.EventRecovered))
	a2.nothingPending(1)
	callLegs(t, h, 1)

	// The resumed socket is the call's: hanging up on it ends the call.
	stop()
	a2.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
	assert.Equal(t, wire.CloseNormal, a2.waitClosed())
	assert.Equal(t, wire.ReasonHangup, h.events.waitFor(t, server.EventEnded, callID).Reason)
	callLegs(t, h, 0)
}

func TestResumeAppCall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		dropCallee    bool // B drops (else A)
		peerResumable bool // the party that stays
	}{
		{"caller drops, resumable callee", false, true},
		{"caller drops, callee not resumable", false, false},
		{"callee drops, resumable caller", true, true},
		{"callee drops, caller not resumable", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOpts{})
			a, b, callID := appCallUp(t, h, !tt.dropCallee || tt.peerResumable, tt.dropCallee || tt.peerResumable)
			gone, stays := a, b
			goneSeq, staysSeq := uint32(seqA), uint32(seqB)
			if tt.dropCallee {
				gone, stays = b, a
				goneSeq, staysSeq = seqB, seqA
			}
			stopStays := stays.streamTone(1004, staysSeq)
			defer stopStays()

			h.lost(gone, callID)
			if tt.peerResumable {
				m := stays.expect(wire.TypeReconnecting)
				assert.True(t, m.Remote)
			}
			back := h.resumeOK(gone, callID, "active")
			if tt.peerResumable {
				m := stays.expect(wire.TypeReconnected)
				assert.True(t, m.Remote)
			}
			// Nothing else was said to the party that stayed (in particular
			// no reconnecting/reconnected to one that cannot take them).
			assert.Equal(t, "active", stays.nothingPending(7).State)
			back.nothingPending(8)

			stopBack := back.streamTone(440, goneSeq)
			defer stopBack()
			require.Eventually(t, func() bool { return stays.hears(440) }, waitAudio, tick, "the party that stayed hears the one back")
			require.Eventually(t, func() bool { return back.hears(1004) }, waitAudio, tick, "the party back hears the other")
			e := h.events.waitFor(t, server.EventResumed, callID)
			assert.Equal(t, gone.number, e.From)
			assert.Equal(t, []string{server.EventConnLost, server.EventResumed},
				h.events.typesFor(callID, server.EventConnLost, server.EventResumed, server.EventRecovered))
			callLegs(t, h, 2)

			back.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
			assert.Equal(t, wire.ReasonRemote, stays.expectSkipping(wire.TypeEnd).Reason)
			assert.Equal(t, wire.ReasonHangup, h.events.waitFor(t, server.EventEnded, callID).Reason)
			callLegs(t, h, 0)
		})
	}
}

// The far party's controls while a party is away reach it after resumed, in
// order; past server.MaxPending the oldest are dropped.
func TestControlsForALostPartyFollowResumed(t *testing.T) {
	t.Parallel()
	digits := func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, string("0123456789*#"[i%12]))
		}
		return out
	}
	tests := []struct {
		name string
		send func(b party)                 // B's controls while A is away
		want func(t *testing.T, a *client) // what A gets after resumed
	}{
		{"hold and digits", func(b party) {
			b.send(wire.Message{Type: wire.TypeHold, On: wire.Bool(true)})
			b.send(wire.Message{Type: wire.TypeDTMF, Digit: "5"})
			b.send(wire.Message{Type: wire.TypeDTMF, Digit: "#"})
			b.send(wire.Message{Type: wire.TypeHold, On: wire.Bool(false)})
		}, func(t *testing.T, a *client) {
			m := a.expect(wire.TypeHold)
			assert.True(t, *m.On)
			assert.True(t, m.Remote)
			assert.Equal(t, "5", a.expect(wire.TypeDTMF).Digit)
			assert.Equal(t, "#", a.expect(wire.TypeDTMF).Digit)
			m = a.expect(wire.TypeHold)
			assert.False(t, *m.On)
			assert.True(t, m.Remote)
		}},
		{"more than are kept", func(b party) {
			for i, d := range digits(0, server.MaxPending+6) {
				b.send(wire.Message{Type: wire.TypeDTMF, Digit: d})
				if i%(wire.ControlQueue/2) == 0 {
					b.nothingPending(uint32(1000 + i)) // within B's own queue
				}
			}
		}, func(t *testing.T, a *client) {
			var got []string
			for range server.MaxPending {
				got = append(got, a.expect(wire.TypeDTMF).Digit)
			}
			assert.Equal(t, digits(6, server.MaxPending+6), got, "the last MaxPending, in order")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOpts{mutate: func(c *server.Config) { c.Limits.ControlPerSecond = server.NoLimit }})
			a, b, callID := appCallUp(t, h, true, false)
			h.lost(a, callID)
			tt.send(b)
			b.nothingPending(99) // B's controls are all handled
			a2 := h.resumeOK(a, callID, "active")
			tt.want(t, a2)
			a2.nothingPending(100)
		})
	}
}

// The acks B got for its controls while A was away.
func TestControlsForALostPartyAreAcked(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, b, callID := appCallUp(t, h, true, false)
	h.lost(a, callID)
	b.send(wire.Message{Type: wire.TypeHold, Ref: 1, On: wire.Bool(true)})
	assert.Equal(t, uint32(1), b.expect(wire.TypeAck).Ref)
	b.send(wire.Message{Type: wire.TypeDTMF, Ref: 2, Digit: "9"})
	assert.Equal(t, uint32(2), b.expect(wire.TypeAck).Ref)
}

func TestResumeRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, callID := echoCallUp(t, h)
	// Another live call of the account, and one of another account.
	c := h.place("C", "acme", inbound("90000", "1003"), true)
	otherID := c.expect(wire.TypeAnswered).CallID
	g := h.place("G", "globex", inbound("90000", "1001"), true)
	g.expect(wire.TypeAnswered)
	h.lost(a, callID)

	tests := []struct {
		name    string
		account string
		callID  string
		token   string
	}{
		{"wrong token", "acme", callID, wire.NewResumeToken()},
		{"unknown call", "acme", "c_" + strings.Repeat("0", 20), a.res.Token},
		{"another call's token", "acme", callID, c.res.Token},
		{"the token on another call", "acme", otherID, a.res.Token},
		{"another account", "globex", callID, a.res.Token},
		{"another account's own token", "globex", callID, g.res.Token},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := h.resume("X", tt.account, tt.callID, tt.token)
			m := x.expectError(wire.CodeNotFound)
			assert.Zero(t, m.Ref)
			assert.Equal(t, wire.CloseNormal, x.waitClosed())
		})
	}
	_, resumed := h.events.find(server.EventResumed, "")
	assert.False(t, resumed, "no refused resume took a call")
	_, ended := h.events.find(server.EventEnded, "")
	assert.False(t, ended, "no refused resume ended a call")

	// The call still waits for its party, and the right token takes it.
	a2 := h.resumeOK(a, callID, "active")
	stop := a2.streamTone(440, seqA)
	defer stop()
	require.Eventually(t, func() bool { return a2.hears(440) }, waitAudio, tick, "echo after the resume")
	callLegs(t, h, 3)
}

func TestResumeOnAStartedCallIsBadRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, callID := echoCallUp(t, h)
	a.send(wire.Message{Type: wire.TypeResume, Ref: 3, CallID: callID, Token: a.res.Token})
	m := a.expectError(wire.CodeBadRequest)
	assert.Equal(t, uint32(3), m.Ref)
	assert.Equal(t, "active", a.nothingPending(4).State, "the call goes on")
}

func TestBadFirstMessageWithResumeStillCloses1008(t *testing.T) {
	t.Parallel()
	tok := wire.NewResumeToken()
	tests := []struct {
		name string
		msg  string
	}{
		{"not JSON", `resume please`},
		{"resume without a token", `{"type":"resume","callId":"c_1"}`},
		{"resume without a call", `{"type":"resume","token":"` + tok + `"}`},
		{"resume with a malformed token", `{"type":"resume","callId":"c_1","token":"` + strings.Repeat("!", 43) + `"}`},
		{"resumed", `{"type":"resumed","callId":"c_1","state":"active"}`},
		{"resumable", `{"type":"resumable","callId":"c_1","token":"` + tok + `","ms":1000}`},
	}
	h := newHarness(t, harnessOpts{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.raw("acme")
			r.write(websocket.TextMessage, []byte(tt.msg))
			assert.Equal(t, wire.CodeBadRequest, r.expect(wire.TypeError).Code)
			assert.Equal(t, wire.ClosePolicy, r.expectClose())
		})
	}
	callLegs(t, h, 0)
}

func TestGraceOverEndsTheCall(t *testing.T) {
	t.Parallel()
	const grace = 300 * time.Millisecond
	tests := []struct {
		name       string
		app        bool
		peerResume bool
		hangup     bool   // the far party hangs up while A is away
		reason     string // EventEnded's and the late resume's end reason
	}{
		{"echo", false, false, false, wire.ReasonNetworkLost},
		{"app, resumable peer", true, true, false, wire.ReasonNetworkLost},
		{"app, peer not resumable", true, false, false, wire.ReasonNetworkLost},
		{"app, peer hangs up meanwhile", true, true, true, wire.ReasonRemote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := grace
			if tt.hangup {
				g = wire.DefaultResumeGrace // the hang-up, not the grace, ends it
			}
			h := newHarness(t, harnessOpts{mutate: func(c *server.Config) { c.ResumeGrace = g }})
			var a, b party
			var callID string
			if tt.app {
				a, b, callID = appCallUp(t, h, true, tt.peerResume)
			} else {
				a, callID = echoCallUp(t, h)
			}
			lostAt := time.Now()
			h.lost(a, callID)
			if tt.app && tt.peerResume {
				b.expect(wire.TypeReconnecting)
			}
			if tt.hangup {
				b.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
			} else if tt.app {
				m := b.expect(wire.TypeEnd)
				assert.Equal(t, wire.ReasonNetworkLost, m.Reason)
			}
			if tt.app {
				assert.Equal(t, wire.CloseNormal, b.waitClosed())
			}
			e := h.events.waitFor(t, server.EventEnded, callID)
			if tt.hangup {
				assert.Equal(t, wire.ReasonHangup, e.Reason)
			} else {
				assert.Equal(t, wire.ReasonNetworkLost, e.Reason)
				assert.GreaterOrEqual(t, time.Since(lostAt), grace, "not before the grace")
			}
			callLegs(t, h, 0)
			assert.Zero(t, h.srv.Stats().ActiveCalls)

			// Late: the resume learns how the call ended; another account
			// learns nothing.
			late := h.resume("A-late", "acme", callID, a.res.Token)
			assert.Equal(t, tt.reason, late.expect(wire.TypeEnd).Reason)
			assert.Equal(t, wire.CloseNormal, late.waitClosed())
			for _, x := range []struct{ account, token string }{{"globex", a.res.Token}, {"acme", wire.NewResumeToken()}} {
				c := h.resume("X", x.account, callID, x.token)
				c.expectError(wire.CodeNotFound)
				assert.Equal(t, wire.CloseNormal, c.waitClosed())
			}
			callLegs(t, h, 0)
		})
	}
}

// A callee answering while the ringing caller is away hears that it is.
func TestAnswerWhileTheCallerIsAway(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	bEvents := h.eventsFor("B-events", "acme", "1002")
	a := h.place("A", "acme", appCall("1002", "1001"), true)
	callID := a.expect(wire.TypeRinging).CallID
	in := bEvents.expect(wire.TypeIncoming)
	h.lost(a, callID)

	b := h.place("B", "acme", appAnswer(in.Push.CallFrom, in.Push.CallTo, in.CallID), true)
	b.expect(wire.TypeAnswered)
	assert.True(t, b.expect(wire.TypeReconnecting).Remote, "the caller is away")

	a2 := h.resumeOK(a, callID, "active")
	assert.Equal(t, callID, a2.expect(wire.TypeAnswered).CallID, "answered while away")
	assert.True(t, b.expect(wire.TypeReconnected).Remote)
	stop := a2.streamTone(440, seqA)
	defer stop()
	require.Eventually(t, func() bool { return b.hears(440) }, waitAudio, tick)
}

func TestRingingCallResumes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	bEvents := h.eventsFor("B-events", "acme", "1002")
	a := h.place("A", "acme", appCall("1002", "1001"), true)
	callID := a.expect(wire.TypeRinging).CallID
	in := bEvents.expect(wire.TypeIncoming)
	h.lost(a, callID)
	a2 := h.resumeOK(a, callID, "ringing")
	b := h.call("B", "acme", appAnswer(in.Push.CallFrom, in.Push.CallTo, in.CallID))
	b.expect(wire.TypeAnswered)
	assert.Equal(t, callID, a2.expect(wire.TypeAnswered).CallID)
}

func TestSilentPartyIsLostAndComesBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		resume bool // the silent party resumes on a new socket (else it speaks up on its own)
	}{
		{"back on the same socket", false},
		{"resumed on a new socket", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOpts{})
			b := h.eventsFor("B-events", "acme", "1002")
			// A asks to be resumable but sends nothing once answered: no
			// ping, no audio.
			a := party{client: h.callAs("A", "acme", wire.Message{Kind: wire.KindAppToApp, To: "1002", RegisteredNumber: "1001"}, true),
				number: "1001"}
			a.res = a.expect(wire.TypeResumable)
			callID := a.expect(wire.TypeRinging).CallID
			in := b.expect(wire.TypeIncoming)
			bp := h.place("B", "acme", appAnswer(in.Push.CallFrom, in.Push.CallTo, in.CallID), true)
			bp.expect(wire.TypeAnswered)
			a.expect(wire.TypeAnswered)

			assert.True(t, bp.expectWithin(wire.TypeReconnecting, waitSilent).Remote)
			e := h.events.waitFor(t, server.EventConnLost, callID)
			assert.Equal(t, "1001", e.From)
			assert.Equal(t, "silent", e.Reason)
			select {
			case <-a.done:
				t.Fatal("the server closed a silent socket")
			default:
			}

			var back *client
			if tt.resume {
				back = h.resumeOK(a, callID, "active")
				assert.Equal(t, wire.CloseReplaced, a.waitClosed(), "the silent socket is replaced")
			} else {
				a.keepAlive()
				back = a.client
			}
			assert.True(t, bp.expectWithin(wire.TypeReconnected, waitSilent).Remote)
			want := server.EventRecovered
			if tt.resume {
				want = server.EventResumed
			}
			e = h.events.waitFor(t, want, callID)
			assert.Equal(t, "1001", e.From)
			assert.Equal(t, []string{server.EventConnLost, want},
				h.events.typesFor(callID, server.EventConnLost, server.EventResumed, server.EventRecovered))

			stop := back.streamTone(440, seqA)
			defer stop()
			require.Eventually(t, func() bool { return bp.hears(440) }, waitAudio, tick, "B hears A again")
			bp.nothingPending(5)
			callLegs(t, h, 2)
		})
	}
}

func TestPartyThatCannotResume(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		resumable bool
		gone      func(c *client)
		peer      string // the far party's end reason
		event     string // EventEnded's reason
	}{
		{"dropped", false, (*client).drop, wire.ReasonNetworkLost, wire.ReasonNetworkLost},
		{"closed", false, func(c *client) { c.conn.Close(wire.CloseNormal, "") }, wire.ReasonRemote, wire.ReasonHangup},
		{"closed going away", false, func(c *client) { c.conn.Close(wire.CloseGoingAway, "") }, wire.ReasonRemote, wire.ReasonHangup},
		// A clean close is a hang-up, resumable or not.
		{"resumable, closed", true, func(c *client) { c.conn.Close(wire.CloseNormal, "") }, wire.ReasonRemote, wire.ReasonHangup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOpts{})
			a, b, callID := appCallUp(t, h, tt.resumable, true)
			tt.gone(a.client)
			m := b.expect(wire.TypeEnd)
			assert.Equal(t, tt.peer, m.Reason)
			assert.Equal(t, wire.CloseNormal, b.waitClosed())
			assert.Equal(t, tt.event, h.events.waitFor(t, server.EventEnded, callID).Reason)
			_, lost := h.events.find(server.EventConnLost, callID)
			assert.False(t, lost)
			callLegs(t, h, 0)
		})
	}
}

// A close frame other than 1000 or 1001 is not a hang-up: a resumable
// party's call waits for it to resume.
func TestResumableCloseWithAnErrorCodeIsALoss(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, b, callID := appCallUp(t, h, true, true)
	a.conn.Close(4000, "")
	assert.True(t, b.expect(wire.TypeReconnecting).Remote)
	assert.Equal(t, "socket", h.events.waitFor(t, server.EventConnLost, callID).Reason)
	h.resumeOK(a, callID, "active")
	assert.True(t, b.expect(wire.TypeReconnected).Remote)
	callLegs(t, h, 2)
}

func TestDrainWaitsForALostParty(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		lostBefore bool // A is lost before the drain begins: draining waits for its resume
	}{
		{"lost during the drain", false},
		{"lost before the drain", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOpts{})
			a, callID := echoCallUp(t, h)
			ev := h.eventsFor("E", "acme", "1002")
			var drained <-chan error
			if tt.lostBefore {
				h.lost(a, callID)
				drained = startDrain(h)
				expectDraining(t, ev, server.DefaultDrainTimeout) // A's is kept by now
			} else {
				drained = startDrain(h)
				expectDraining(t, a.client, server.DefaultDrainTimeout)
				h.refusedUpgrade(wire.PathCall) // nothing waits for a resume yet
				h.lost(a, callID)
			}

			// A call waits for its lost party: /v1/call upgrades get through,
			// but only a resume may use one.
			c := h.connect("C", wire.PathCall, "acme")
			a2 := h.resumeOK(a, callID, "active")
			if tt.lostBefore {
				expectDraining(t, a2, server.DefaultDrainTimeout) // kept for it while it was away
			}
			a2.nothingPending(1)
			c.send(wire.Message{Type: wire.TypeStart, Kind: wire.KindInbound, To: "90000", RegisteredNumber: "1003"})
			c.expectError(wire.CodeShuttingDown)
			assert.Equal(t, wire.CloseNormal, c.waitClosed())
			h.refusedUpgrade(wire.PathCall) // nothing waits any more
			stillDraining(t, drained)

			a2.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
			require.NoError(t, drainResult(t, drained))
		})
	}
}

func TestResumeGraceConfig(t *testing.T) {
	t.Parallel()
	base := func(extra string) []byte {
		return []byte(`{"accounts":[{"name":"a","apiKeyHashes":["` + server.HashKey("k") + `"]}]` + extra + `}`)
	}
	tests := []struct {
		json string // resumeGrace's value; "" leaves it out
		want time.Duration
		bad  bool
	}{
		{"", wire.DefaultResumeGrace, false},
		{`"45s"`, 45 * time.Second, false},
		{`"10m"`, wire.MaxResumeGrace, false},
		{`"1ms"`, time.Millisecond, false},
		{`"0s"`, server.NoResume, false},
		{`"0"`, server.NoResume, false},
		{`"-1s"`, 0, true},
		{`"10m1s"`, 0, true},
		{`"soon"`, 0, true},
		{`""`, 0, true},
		{`30`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			extra := ""
			if tt.json != "" {
				extra = `,"resumeGrace":` + tt.json
			}
			cfg, err := server.ParseConfig(base(extra))
			if tt.bad {
				require.ErrorIs(t, err, server.ErrInvalidConfig)
				assert.Contains(t, err.Error(), "resumeGrace")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.ResumeGrace)
		})
	}
	c, _ := testConfig()
	c.ResumeGrace = wire.MaxResumeGrace + time.Second
	err := c.Validate()
	require.ErrorIs(t, err, server.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "resumeGrace")
}

func TestParseResumeGrace(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		err  string // part of the error; "" when valid
	}{
		{"30s", 30 * time.Second, ""},
		{"1ms", time.Millisecond, ""},
		{"10m", wire.MaxResumeGrace, ""},
		{"0", server.NoResume, ""},
		{"0s", server.NoResume, ""},
		{"-1ns", 0, "outside 0..10m0s"},
		{"10m0.001s", 0, "outside 0..10m0s"},
		{"1h", 0, "outside"},
		{"soon", 0, `"soon" is not a duration`},
		{"", 0, "is not a duration"},
		{"30", 0, "is not a duration"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			d, err := server.ParseResumeGrace(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, d)
		})
	}
}

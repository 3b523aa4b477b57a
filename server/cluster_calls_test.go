package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/internal/natstest"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/natsbus"
	"github.com/onecxi/phone/wire"
)

// clusterNode is a harness joined to a cluster, with its bus.
type clusterNode struct {
	*harness
	bus *natsbus.Bus
}

// newCluster starts n servers (node IDs n1, n2, …) on one NATS, sharing
// the accounts' keys, and waits until each sees all.
func newCluster(t *testing.T, n int, mutate func(*server.Config)) []*clusterNode {
	t.Helper()
	url := natstest.Start(t)
	_, keys := testConfig()
	nodes := make([]*clusterNode, n)
	for i := range nodes {
		id := "n" + string(rune('1'+i))
		bus, err := natsbus.Open(natsbus.Options{URLs: url, Name: id, Interval: 100 * time.Millisecond, Log: testLogger()})
		require.NoError(t, err)
		t.Cleanup(func() { _ = bus.Close() }) // after the harness's Shutdown: cleanups run last first
		h := newHarness(t, harnessOpts{keys: keys, options: []server.Option{server.WithCluster(bus)},
			mutate: func(c *server.Config) {
				c.NodeID = id
				if mutate != nil {
					mutate(c)
				}
			}})
		nodes[i] = &clusterNode{harness: h, bus: bus}
	}
	for _, x := range nodes {
		require.Eventually(t, func() bool { return len(x.srv.Nodes()) == n }, waitMsg, tick, "every node sees %d", n)
	}
	return nodes
}

// crossCall places an app call from 1001 on a to 1002, whose device is on
// b, answered there: every leg on a different node.
// Resumable parties keep alive; their tokens are in the parties' res.
func crossCall(t *testing.T, a, b *clusterNode, resumable bool) (caller, callee party, callID string) {
	t.Helper()
	ev := b.eventsFor("B-events", "acme", "1002")
	caller = a.place("A", "acme", appCall("1002", "1001"), resumable)
	callID = caller.expectSkipping(wire.TypeRinging).CallID
	in := ev.expect(wire.TypeIncoming)
	require.Equal(t, callID, in.CallID, "the callee's device on the other node rings")
	require.Equal(t, wire.EventInitial, in.Push.Event)
	require.Equal(t, "1001", in.Push.CallFrom)
	callee = b.place("B", "acme", appAnswer("1001", "1002", callID), resumable)
	callee.expectSkipping(wire.TypeAnswered)
	caller.expectSkipping(wire.TypeAnswered)
	return caller, callee, callID
}

// A call whose two parties are on different nodes: rings across, audio
// both ways (checked by tone), hold, mute, DTMF and hang-up as on one node,
// and the frames cross the bridge.
func TestCrossNodeCall(t *testing.T) {
	t.Parallel()
	nodes := newCluster(t, 2, nil)
	a, b := nodes[0], nodes[1]
	caller, callee, callID := crossCall(t, a, b, false)

	stopA := caller.streamTone(440, seqA)
	defer stopA()
	stopB := callee.streamTone(1004, seqB)
	defer stopB()
	require.Eventually(t, func() bool { return callee.hears(440) && caller.hears(1004) }, waitAudio, tick,
		"each party hears the other's tone across the nodes")

	// DTMF from the bridged party reaches the caller, and back.
	callee.send(wire.Message{Type: wire.TypeDTMF, Ref: 1, Digit: "7"})
	assert.Equal(t, uint32(1), callee.expectSkipping(wire.TypeAck).Ref)
	assert.Equal(t, "7", caller.expectSkipping(wire.TypeDTMF).Digit)
	caller.send(wire.Message{Type: wire.TypeDTMF, Ref: 2, Digit: "#"})
	assert.Equal(t, "#", callee.expectSkipping(wire.TypeDTMF).Digit)

	// Hold by the bridged party: the caller is told and hears hold music.
	callee.send(wire.Message{Type: wire.TypeHold, Ref: 3, On: wire.Bool(true)})
	assert.Equal(t, uint32(3), callee.expectSkipping(wire.TypeAck).Ref)
	held := caller.expectSkipping(wire.TypeHold)
	assert.True(t, *held.On)
	assert.True(t, held.Remote)
	fromB := caller.framesFrom(seqB)
	music := len(caller.serverFrames())
	require.Eventually(t, func() bool { return len(caller.serverFrames()) >= music+20 }, waitAudio, tick, "hold music")
	assert.LessOrEqual(t, caller.framesFrom(seqB)-fromB, 3, "no audio from the held side (a frame or so in flight)")
	callee.send(wire.Message{Type: wire.TypeHold, Ref: 4, On: wire.Bool(false)})
	callee.expectSkipping(wire.TypeAck)
	assert.False(t, *caller.expectSkipping(wire.TypeHold).On)
	require.Eventually(t, func() bool { return caller.framesFrom(seqB) > fromB+10 }, waitAudio, tick, "audio again")

	// Mute by the bridged party: its audio stops reaching the caller.
	callee.send(wire.Message{Type: wire.TypeMute, Ref: 5, On: wire.Bool(true)})
	callee.expectSkipping(wire.TypeAck)
	h := a.events.waitFor(t, server.EventMute, callID)
	assert.Equal(t, "1002", h.From)
	n := caller.framesFrom(seqB)
	time.Sleep(300 * time.Millisecond) // a window in which no frame may pass
	assert.LessOrEqual(t, caller.framesFrom(seqB)-n, 2, "muted: nothing after the frames in flight")
	callee.send(wire.Message{Type: wire.TypeStatus, Ref: 6})
	st := callee.expectSkipping(wire.TypeStatus)
	assert.True(t, st.Muted)
	assert.Equal(t, callID, st.CallID)

	// The bridged party hangs up: the caller hears remote.
	callee.send(wire.Message{Type: wire.TypeEnd})
	assert.Equal(t, wire.ReasonRemote, caller.expectSkipping(wire.TypeEnd).Reason)
	assert.Equal(t, wire.CloseNormal, caller.waitClosed())
	assert.Equal(t, wire.CloseNormal, callee.waitClosed())
	e := a.events.waitFor(t, server.EventEnded, callID)
	assert.Equal(t, wire.ReasonHangup, e.Reason)
	m := a.srv.Metrics()
	assert.NotZero(t, m.BridgeFramesSent, "the home sent frames over the bridge")
	assert.NotZero(t, b.srv.Metrics().BridgeFramesReceived, "the edge received them")
	assert.NotZero(t, m.BridgeDelay.Counts[0]+m.BridgeDelay.Counts[1]+m.BridgeDelay.Counts[2]+m.BridgeDelay.Counts[3]+
		m.BridgeDelay.Counts[4]+m.BridgeDelay.Counts[5]+m.BridgeDelay.Counts[6], "relay delays observed")
}

// The caller hangs up: the bridged callee hears remote and its socket
// closes normally.
func TestCrossNodeCallerHangsUp(t *testing.T) {
	t.Parallel()
	nodes := newCluster(t, 2, nil)
	caller, callee, _ := crossCall(t, nodes[0], nodes[1], false)
	caller.send(wire.Message{Type: wire.TypeEnd})
	assert.Equal(t, wire.ReasonRemote, callee.expectSkipping(wire.TypeEnd).Reason)
	assert.Equal(t, wire.CloseNormal, callee.waitClosed())
}

// Devices of the callee on two nodes ring; the first answer wins, on
// whichever node; the other node's device hears already_answered, and
// every device stops ringing.
func TestCrossNodeFirstAnswerWins(t *testing.T) {
	t.Parallel()
	nodes := newCluster(t, 3, nil)
	a, b, c := nodes[0], nodes[1], nodes[2]
	evB := b.eventsFor("B-events", "acme", "1002")
	evC := c.eventsFor("C-events", "acme", "1002")
	caller := a.call("A", "acme", appCall("1002", "1001"))
	callID := caller.expectSkipping(wire.TypeRinging).CallID
	for _, ev := range []*client{evB, evC} {
		assert.Equal(t, callID, ev.expect(wire.TypeIncoming).CallID, "every device rings, on every node")
	}
	// Both answer at once, on different nodes: one wins.
	ansB := b.call("B", "acme", appAnswer("1001", "1002", callID))
	ansC := c.call("C", "acme", appAnswer("1001", "1002", callID))
	first := func(x *client) wire.Message {
		m := x.next()
		for m.Type == wire.TypeResumable {
			m = x.next()
		}
		return m
	}
	mB, mC := first(ansB), first(ansC)
	types := []wire.Type{mB.Type, mC.Type}
	assert.ElementsMatch(t, []wire.Type{wire.TypeAnswered, wire.TypeError}, types, "exactly one answer wins")
	loser := mB
	if mB.Type == wire.TypeAnswered {
		loser = mC
	}
	assert.Equal(t, wire.CodeAlreadyAnswered, loser.Code)
	caller.expectSkipping(wire.TypeAnswered)
	for _, ev := range []*client{evB, evC} {
		assert.Equal(t, wire.EventEnd, ev.expect(wire.TypeIncoming).Push.Event, "every device stops ringing")
	}
	// A third device answering without a call ID on yet another node.
	late := a.call("late", "acme", appAnswer("1001", "1002", ""))
	late.expectError(wire.CodeAlreadyAnswered)
}

// A decline sent to a node that does not hold the call reaches its home.
func TestCrossNodeDecline(t *testing.T) {
	t.Parallel()
	nodes := newCluster(t, 2, nil)
	a, b := nodes[0], nodes[1]
	ev := b.eventsFor("B-events", "acme", "1002")
	caller := a.call("A", "acme", appCall("1002", "1001"))
	callID := caller.expectSkipping(wire.TypeRinging).CallID
	ev.expect(wire.TypeIncoming)
	resp, _ := b.request(http.MethodPost, "/v1/calls/"+callID+"/decline", "acme")
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, wire.ReasonDeclined, caller.expectSkipping(wire.TypeDeclined).Reason)
	assert.Equal(t, wire.EventEnd, ev.expect(wire.TypeIncoming).Push.Event, "the device stops ringing")
	resp, herr := b.request(http.MethodPost, "/v1/calls/"+callID+"/decline", "acme")
	assert.Equal(t, http.StatusConflict, resp.StatusCode, "declined twice: the home remembers it ended")
	assert.Equal(t, wire.CodeCallEnded, herr.Code)
	resp, _ = b.request(http.MethodPost, "/v1/calls/nosuchcall/decline", "acme")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	// Another account cannot decline it from any node.
	caller2 := a.call("A2", "acme", appCall("1002", "1001"))
	id2 := caller2.expectSkipping(wire.TypeRinging).CallID
	resp, _ = b.request(http.MethodPost, "/v1/calls/"+id2+"/decline", "globex")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "accounts never see each other's calls")
}

// Ringing a number whose only device is on another node works; ringing a
// number with no device anywhere is unreachable; a callee in a call on
// another node is busy.
func TestCrossNodeRingingRules(t *testing.T) {
	t.Parallel()
	nodes := newCluster(t, 2, func(c *server.Config) { c.RingTimeout = 300 * time.Millisecond })
	a, b := nodes[0], nodes[1]
	none := a.call("none", "acme", appCall("1009", "1001"))
	none.expectError(wire.CodeUnreachable)

	ev := b.eventsFor("B-events", "acme", "1002")
	c := a.call("A", "acme", appCall("1002", "1001"))
	id := c.expectSkipping(wire.TypeRinging).CallID
	ev.expect(wire.TypeIncoming)
	// Nobody answers: no_answer, and the device on the other node stops.
	c.expectError(wire.CodeNoAnswer)
	assert.Equal(t, wire.EventEnd, ev.expect(wire.TypeIncoming).Push.Event)
	a.events.waitFor(t, server.EventEnded, id)

	// 1002 in a call homed on b (with 1003 on b): busy for a caller on a.
	ev3 := b.eventsFor("B3-events", "acme", "1003")
	c2 := b.call("B2", "acme", appCall("1003", "1002"))
	id2 := c2.expectSkipping(wire.TypeRinging).CallID
	ev3.expect(wire.TypeIncoming)
	b.call("B3", "acme", appAnswer("1002", "1003", id2)).expectSkipping(wire.TypeAnswered)
	busy := a.call("A3", "acme", appCall("1002", "1001"))
	busy.expectError(wire.CodeBusy)
	inUse := a.call("A4", "acme", appCall("1001", "1003"))
	inUse.expectError(wire.CodeNumberInUse)
}

// A node that drains moves the phones bridged to it: they resume through
// another node and the call goes on, audio both ways.
func TestCrossNodeDrainMovesBridgedPhones(t *testing.T) {
	t.Parallel()
	nodes := newCluster(t, 3, nil)
	a, b, c := nodes[0], nodes[1], nodes[2]
	caller, callee, callID := crossCall(t, a, b, true)

	drained := make(chan error, 1)
	go func() { drained <- b.srv.Drain(context.Background()) }()
	assert.Equal(t, wire.CloseMoved, callee.waitClosed(), "the bridged phone is moved off the draining node")
	require.NoError(t, <-drained, "b holds no call of its own: its drain ends at once")
	assert.True(t, caller.expectSkipping(wire.TypeReconnecting).Remote)

	// The phone resumes through the load balancer: here, node c.
	back := c.resume("B'", "acme", callID, callee.res.Token)
	assert.Equal(t, "active", back.expectSkipping(wire.TypeResumed).State)
	back.keepAlive()
	assert.True(t, caller.expectSkipping(wire.TypeReconnected).Remote)
	stopA := caller.streamTone(440, seqA)
	defer stopA()
	stopB := back.streamTone(1004, seqB)
	defer stopB()
	require.Eventually(t, func() bool { return back.hears(440) && caller.hears(1004) }, waitAudio, tick,
		"audio both ways after the move")
	a.events.waitFor(t, server.EventResumed, callID)
}

// A node that is gone (here: its connection to the cluster cut, as a
// SIGKILL would) costs only the calls homed on it: a bridged phone on a
// surviving node hears end{network_lost} within seconds.
func TestCrossNodeHomeLostEndsTheBridgedParty(t *testing.T) {
	t.Parallel()
	nodes := newCluster(t, 2, nil)
	a, b := nodes[0], nodes[1]
	_, callee, _ := crossCall(t, a, b, false)
	start := time.Now()
	a.bus.Abandon() // a falls silent: no goodbye
	assert.Equal(t, wire.ReasonNetworkLost, callee.expectSkipping(wire.TypeEnd).Reason)
	assert.Equal(t, wire.CloseNormal, callee.waitClosed())
	assert.Less(t, time.Since(start), 5*time.Second, "within seconds")
}

// When the edge is gone, the home treats its bridged phone as lost: a
// phone that can resume resumes on the home and the call goes on.
func TestCrossNodeEdgeLostIsResumed(t *testing.T) {
	t.Parallel()
	nodes := newCluster(t, 2, nil)
	a, b := nodes[0], nodes[1]
	caller, callee, callID := crossCall(t, a, b, true)
	b.bus.Abandon()
	assert.True(t, caller.expectSkipping(wire.TypeReconnecting).Remote, "the caller hears its party is away")
	callee.conn.Drop() // the phone's socket to b dies with it
	back := a.resume("B'", "acme", callID, callee.res.Token)
	back.expectSkipping(wire.TypeResumed)
	back.keepAlive()
	assert.True(t, caller.expectSkipping(wire.TypeReconnected).Remote)
}

// A resume to a node that never had the call, for a call nobody has, is
// not_found, as on one node.
func TestCrossNodeResumeOfUnknownCall(t *testing.T) {
	t.Parallel()
	nodes := newCluster(t, 2, nil)
	c := nodes[1].resume("X", "acme", "nosuchcall", wire.NewResumeToken())
	c.expectError(wire.CodeNotFound)
}

// A draining node hands the calls living on it to another node: both
// parties are moved (4010), resume through other nodes, and the call goes
// on with audio both ways, so the drain ends at once and cuts nothing.
func TestCrossNodeDrainHandsOverCalls(t *testing.T) {
	t.Parallel()
	nodes := newCluster(t, 3, nil)
	a, b, c := nodes[0], nodes[1], nodes[2]
	caller, callee, callID := crossCall(t, a, b, true) // home a, callee bridged from b
	stopA := caller.streamTone(440, seqA)
	defer stopA()
	stopB := callee.streamTone(1004, seqB)
	defer stopB()
	require.Eventually(t, func() bool { return callee.hears(440) && caller.hears(1004) }, waitAudio, tick)
	callee.send(wire.Message{Type: wire.TypeMute, Ref: 9, On: wire.Bool(true)})
	callee.expectSkipping(wire.TypeAck)

	start := time.Now()
	require.NoError(t, a.srv.Drain(context.Background()), "a's only call moved: its drain ends")
	t.Logf("drain with one call handed over: %v", time.Since(start))
	assert.Equal(t, wire.CloseMoved, caller.waitClosed())
	assert.Equal(t, wire.CloseMoved, callee.waitClosed())
	assert.Zero(t, a.srv.Stats().ActiveCalls)

	// The phones resume through the load balancer: the caller on c, the
	// callee on b; whichever node adopted the call, both reach it.
	stopA()
	stopB()
	ca := c.resume("A'", "acme", callID, caller.res.Token)
	assert.Equal(t, "active", ca.expectSkipping(wire.TypeResumed).State)
	ca.keepAlive()
	cb := b.resume("B'", "acme", callID, callee.res.Token)
	assert.Equal(t, "active", cb.expectSkipping(wire.TypeResumed).State)
	cb.keepAlive()
	cb.send(wire.Message{Type: wire.TypeStatus, Ref: 1})
	assert.True(t, cb.expectSkipping(wire.TypeStatus).Muted, "the mute went with the call")
	cb.send(wire.Message{Type: wire.TypeMute, Ref: 2, On: wire.Bool(false)})
	cb.expectSkipping(wire.TypeAck)
	stopA = ca.streamTone(440, seqA)
	defer stopA()
	stopB = cb.streamTone(1004, seqB)
	defer stopB()
	require.Eventually(t, func() bool { return cb.hears(440) && ca.hears(1004) }, waitAudio, tick,
		"audio both ways on the new home")
	assert.Equal(t, 1, b.srv.Stats().ActiveCalls+c.srv.Stats().ActiveCalls, "one node holds the call now")
	cb.send(wire.Message{Type: wire.TypeEnd})
	assert.Equal(t, wire.ReasonRemote, ca.expectSkipping(wire.TypeEnd).Reason)
}

// A phone that cannot resume, bridged through a draining node, is not
// moved: it is told the drain, keeps its call (homed elsewhere) as the
// node's own calls would, and the drain ends when that call does.
func TestCrossNodeDrainWaitsForPhonesThatCannotResume(t *testing.T) {
	t.Parallel()
	nodes := newCluster(t, 2, func(c *server.Config) { c.DrainTimeout = 10 * time.Second })
	a, b := nodes[0], nodes[1]
	caller, callee, _ := crossCall(t, a, b, false)
	drained := make(chan error, 1)
	go func() { drained <- b.srv.Drain(context.Background()) }()
	assert.Positive(t, callee.expectSkipping(wire.TypeDraining).MS)
	stop := callee.streamTone(1004, seqB)
	defer stop()
	require.Eventually(t, func() bool { return caller.hears(1004) }, waitAudio, tick, "the call goes on during the drain")
	select {
	case err := <-drained:
		t.Fatalf("the drain ended with a bridged phone still in its call: %v", err)
	default:
	}
	callee.send(wire.Message{Type: wire.TypeEnd})
	assert.Equal(t, wire.ReasonRemote, caller.expectSkipping(wire.TypeEnd).Reason)
	select {
	case err := <-drained:
		assert.NoError(t, err, "the drain ends with the call")
	case <-time.After(waitMsg):
		t.Fatal("the drain did not end after the call did")
	}
}

// With a drain delay a draining node waits, /readyz already failing, before
// it moves its calls: the load balancer first stops sending it phones.
func TestCrossNodeDrainDelay(t *testing.T) {
	t.Parallel()
	nodes := newCluster(t, 2, func(c *server.Config) { c.DrainDelay = 400 * time.Millisecond })
	a, b := nodes[0], nodes[1]
	caller, callee, _ := crossCall(t, a, b, true)
	start := time.Now()
	drained := make(chan error, 1)
	go func() { drained <- a.srv.Drain(context.Background()) }()
	require.Eventually(t, func() bool { return !a.srv.Ready() }, waitMsg, tick, "readiness fails at once")
	assert.Equal(t, wire.CloseMoved, caller.waitClosed())
	assert.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond, "moved only after the delay")
	assert.Equal(t, wire.CloseMoved, callee.waitClosed())
	require.NoError(t, <-drained)
}

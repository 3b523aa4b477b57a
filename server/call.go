package server

import (
	"cmp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/server/cdr"
	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/server/endpoint"
	"github.com/onecxi/phone/server/trunk"
	"github.com/onecxi/phone/wire"
)

// callState is where a call is in its life.
type callState int32

const (
	stateRinging callState = iota + 1 // alerting (app, DID to app, trunk)
	stateActive                       // connected; audio flows
	stateEnded
)

func (s callState) String() string {
	switch s {
	case stateRinging:
		return "ringing"
	case stateActive:
		return "active"
	}
	return "ended"
}

// Sides of a call: the caller's leg and, for app calls, the callee's.
const (
	sideCaller = 0
	sideCallee = 1
)

// call is one call. Its fields belong to the registry goroutine, except held,
// which the relay path reads.
type call struct {
	id      string
	st      *acctState
	kind    wire.CallKind
	from    string // the caller's registered number (a trunk caller's number)
	name    string // a trunk caller's display name, if any
	to      string // what the caller dialled
	created time.Time
	// answeredAt is when the call connected: a resumable leg's silence is
	// counted from then at the earliest (it does not ping while ringing).
	answeredAt time.Time
	state      callState // changed only by registry.setState
	typ        callType  // for the call counters (ops.go)
	legs       [2]*leg   // caller, callee (app calls, once answered)

	// App calls: who rings, and what their push payload says.
	callee      string
	pushFrom    string
	pushType    string
	pushTargets []devices.Device // rung by push: told "end" too
	peerNodes   []string         // other nodes with the callee's events connections: told too
	pastNodes   string           // handed over (handover.go): the nodes that carried it before
	noRecord    bool             // ended before it was handed over: its record is the old home's
	answeredBy  string           // the device ID that answered, if it gave one

	ringTimer   *time.Timer
	ringingSent bool              // trunk calls: ringing was forwarded
	ep          endpoint.Endpoint // echo, IVR or trunk call: the server's far end

	// held has bit 1<<side set for each side holding; while any is set no
	// audio passes either way. Written by the registry, read per frame.
	held  atomic.Uint32
	music [2]*endpoint.Player // hold music playing to a side
}

// event returns an Event about c.
func (c *call) event(typ, reason string) Event {
	return Event{Type: typ, Account: c.st.acct.name, CallID: c.id, Kind: c.kind, From: c.from, To: c.to, Reason: reason}
}

// push returns the guide's push payload for c's callee.
func (c *call) push(event, environment string) wire.PushPayload {
	return wire.PushPayload{
		CallFrom:         c.pushFrom,
		CallTo:           c.callee,
		CallType:         c.pushType,
		RegisteredNumber: c.callee,
		CallerName:       cmp.Or(c.name, c.from),
		CallID:           c.id,
		Environment:      environment,
		Timestamp:        time.Now().UnixMilli(),
		Platform:         "desktop",
		Event:            event,
	}
}

// start routes a leg's start message (PROTOCOL.md, call kinds and routing
// plan). Failures answer error{code} and close the leg.
// targets are the callee's devices reachable by push (Server.pushTargetsFor),
// peers what the other nodes of a cluster hold of the callee (ringPeers).
// With bridge set, an answer to a call this node does not have is not
// refused: start reports it is elsewhere, for the leg to look for it in
// the cluster (callSock.bridgeOut).
func (r *registry) start(l *leg, m wire.Message, targets []devices.Device, peers ringPeers, bridge bool) (elsewhere bool) {
	st := r.stateOf(l.acct)
	switch {
	case r.closing:
		r.reject(l, m, wire.CodeShuttingDown, "the server is shutting down")
		return false
	case r.drain.on && m.Kind != wire.KindAppToAppAnswer:
		// Draining: calls go on and a ringing one may still be answered,
		// but nothing new starts (drain.go).
		r.reject(l, m, wire.CodeShuttingDown, "the server is draining: it takes no new calls")
		return false
	case m.Kind == wire.KindAppToAppAnswer:
		return r.answer(st, l, m, bridge)
	case int(r.stats.activeCalls.Load()) >= r.maxCalls:
		r.reject(l, m, wire.CodeTooManyRequests, "the server is at its call limit")
		return false
	case r.atCallLimit(st):
		r.reject(l, m, wire.CodeTooManyRequests, "the account is at its call limit")
		return false
	case st.inUse[m.RegisteredNumber] != nil, peers.callerBusy:
		r.reject(l, m, wire.CodeNumberInUse, "registered number "+m.RegisteredNumber+" is already in a call")
		return false
	}
	switch m.Kind {
	case wire.KindInbound:
		rt, ok := l.acct.route(m.To)
		if !ok {
			r.reject(l, m, wire.CodeNotFound, "no DID "+m.To+" in this account")
			return false
		}
		switch rt.kind {
		case routeEcho:
			c := r.newCall(st, l, m, newCallID())
			c.ep = endpoint.NewEcho(l.conn)
			r.connectEndpoint(c)
		case routeIVR:
			c := r.newCall(st, l, m, newCallID())
			c.ep = endpoint.NewIVR(r.spawn, l.conn)
			r.connectEndpoint(c)
		case routeApp:
			r.ring(st, l, m, rt.number, m.To, wire.PushInbound, targets, peers)
		}
	case wire.KindOutbound:
		r.dial(st, l, m)
	case wire.KindAppToApp:
		r.ring(st, l, m, m.To, m.RegisteredNumber, wire.PushAppToApp, targets, peers)
	}
	return false
}

// shownNumber is who l is to the other party: its registered number, or a
// trunk caller's own number.
func (l *leg) shownNumber(m wire.Message) string {
	if l.caller != "" {
		return l.caller
	}
	return m.RegisteredNumber
}

// reject fails a start that created no call.
func (r *registry) reject(l *leg, m wire.Message, code wire.Code, msg string) {
	from := l.shownNumber(m)
	l.log.Info("call refused", "account", l.acct.name, "kind", m.Kind, "from", from, "to", m.To, "code", code)
	r.emit(Event{Type: EventRejected, Account: l.acct.name, Kind: m.Kind, From: from, To: m.To, Reason: string(code)})
	l.closing = true
	post(l.conn, wire.Message{Type: wire.TypeError, Code: code, Message: text(msg)})
	l.conn.Close(wire.CloseNormal, string(code))
}

// newCall registers a call placed by l.
func (r *registry) newCall(st *acctState, l *leg, m wire.Message, id string) *call {
	c := &call{
		id:      id,
		st:      st,
		kind:    m.Kind,
		from:    l.shownNumber(m),
		name:    l.callerName,
		to:      m.To,
		created: time.Now(),
		typ:     typeOf(l, m.Kind),
	}
	r.setState(c, stateRinging)
	r.stats.calls.started[c.typ].Add(1)
	c.legs[sideCaller] = l
	l.call, l.number, l.side = c, m.RegisteredNumber, sideCaller
	st.inUse[l.number] = l
	st.calls[id] = c
	r.calls[id] = c
	r.stats.activeCalls.Add(1)
	l.log = l.log.With("callId", id)
	l.log.Info("call started", "kind", c.kind, "from", c.from, "to", c.to, "resumable", l.resumable)
	r.issueResume(l, c)
	r.emit(c.event(EventCallStarted, ""))
	r.recordOpen(c)
	return c
}

// recordOpen writes c's record open, when it starts and when it is
// answered: should this node die before the call ends, the call is still
// in the records, and a surviving node closes it (cdr.Record.Open).
func (r *registry) recordOpen(c *call) {
	if r.records != nil {
		r.records.Record(cdr.Record{CallID: c.id, Account: c.st.acct.name, Kind: string(c.kind), From: c.from, To: c.to,
			Node: c.nodes(r.node), Start: c.created, Answer: c.answeredAt})
	}
}

// connectEndpoint answers a call whose far end is the server's own.
func (r *registry) connectEndpoint(c *call) {
	r.setState(c, stateActive)
	c.answeredAt = time.Now()
	l := c.legs[sideCaller]
	l.route.Store(&route{sink: c.ep, held: &c.held})
	post(l.conn, wire.Message{Type: wire.TypeAnswered, CallID: c.id})
	r.emit(c.event(EventAnswered, ""))
	if c.typ == typeOutbound {
		r.recordOpen(c) // a trunk's answer comes long after the start
	}
}

// ring places an app call (app_to_app, or a DID routed to an app user):
// every device of callee is told at once — events connections and push
// targets — and the first to answer wins.
// peers are the other nodes holding events connections of callee.
func (r *registry) ring(st *acctState, l *leg, m wire.Message, callee, pushFrom, pushType string, targets []devices.Device, peers ringPeers) {
	if callee == m.RegisteredNumber {
		r.reject(l, m, wire.CodeSelfCall, "you cannot call your own registered number")
		return
	}
	if st.inUse[callee] != nil || peers.calleeBusy {
		r.reject(l, m, wire.CodeBusy, callee+" is in another call")
		return
	}
	c := &call{id: newCallID(), st: st, from: l.shownNumber(m), name: l.callerName, callee: callee, pushFrom: pushFrom, pushType: pushType,
		pushTargets: targets, peerNodes: peers.nodes}
	if r.notify(c, wire.EventInitial, viaAll, "")+peers.devices == 0 {
		r.reject(l, m, wire.CodeUnreachable, callee+" has no device online or registered for push")
		return
	}
	c = r.newCall(st, l, m, c.id)
	c.callee, c.pushFrom, c.pushType, c.pushTargets, c.peerNodes = callee, pushFrom, pushType, targets, peers.nodes
	post(l.conn, wire.Message{Type: wire.TypeRinging, CallID: c.id})
	r.armRingTimer(c)
}

// answer joins l, the callee's device, to a ringing app call. A call
// this node does not have is refused, unless bridge is set: then answer
// reports it is elsewhere (see start).
func (r *registry) answer(st *acctState, l *leg, m wire.Message, bridge bool) (elsewhere bool) {
	var c *call
	if m.CallID != "" {
		c = st.calls[m.CallID]
		if c == nil && bridge && r.ended[m.CallID].acct != st.acct {
			return true
		}
		if c == nil || c.callee != m.RegisteredNumber {
			r.reject(l, m, wire.CodeNotFound, "no call "+m.CallID+" for "+m.RegisteredNumber)
			return false
		}
	} else {
		var answered bool
		c, answered = st.findRinging(m.To, m.RegisteredNumber)
		if c == nil {
			switch {
			case answered:
				r.reject(l, m, wire.CodeAlreadyAnswered, "the call was answered on another device")
			case bridge:
				return true
			default:
				r.reject(l, m, wire.CodeNotFound, "no call from "+m.To+" ringing "+m.RegisteredNumber)
			}
			return false
		}
	}
	// Before number_in_use: the device that answered first holds the number.
	if c.state != stateRinging {
		r.reject(l, m, wire.CodeAlreadyAnswered, "the call was answered on another device")
		return false
	}
	if st.inUse[m.RegisteredNumber] != nil {
		r.reject(l, m, wire.CodeNumberInUse, "registered number "+m.RegisteredNumber+" is already in a call")
		return false
	}
	r.setState(c, stateActive)
	c.answeredAt = time.Now()
	c.ringTimer.Stop()
	c.legs[sideCallee] = l
	l.call, l.number, l.side = c, m.RegisteredNumber, sideCallee
	l.log = l.log.With("callId", c.id)
	st.inUse[l.number] = l
	r.issueResume(l, c)
	caller := c.legs[sideCaller]
	caller.route.Store(&route{sink: l.conn, held: &c.held})
	l.route.Store(&route{sink: caller.conn, held: &c.held})
	post(caller.conn, wire.Message{Type: wire.TypeAnswered, CallID: c.id})
	post(l.conn, wire.Message{Type: wire.TypeAnswered, CallID: c.id})
	if caller.lost && l.resumable {
		// The caller lost its connection while ringing: the callee hears
		// it is away, as it would have had it been in the call (resume.go).
		post(l.conn, wire.Message{Type: wire.TypeReconnecting, Remote: true})
	}
	// The callee's other devices stop ringing. An answering device that
	// gave no device ID gets this too; it ignores an end for a call the
	// server says goes on.
	c.answeredBy = m.DeviceID
	r.notify(c, wire.EventEnd, viaAll, c.answeredBy)
	l.log.Info("call answered", "by", l.number, "via", l.via)
	r.emit(c.event(EventAnswered, ""))
	r.recordOpen(c)
	return false
}

// findRinging returns the oldest call from `from` ringing `callee`; if
// there is none, answered says whether such a call is already connected.
func (st *acctState) findRinging(from, callee string) (c *call, answered bool) {
	for _, x := range st.calls {
		if x.callee != callee || x.pushFrom != from {
			continue
		}
		if x.state != stateRinging {
			answered = true
			continue
		}
		if c == nil || x.created.Before(c.created) {
			c = x
		}
	}
	return c, answered
}

// dial sends an outbound call to the trunk.
func (r *registry) dial(st *acctState, l *leg, m wire.Message) {
	if r.trunk == nil {
		r.reject(l, m, wire.CodeTrunkFailed, "no trunk is configured for outbound calls")
		return
	}
	c := r.newCall(st, l, m, newCallID())
	tc, err := r.trunk.Dial(trunk.Dial{
		CallID:  c.id,
		Account: st.acct.name,
		From:    c.from,
		To:      c.to,
		Audio:   heldSink{sink: l.conn, held: &c.held},
		Progress: func(ev trunk.Event) {
			_ = r.do(func() { r.trunkProgress(c, ev) })
		},
		DTMF: func(digit byte) {
			_ = r.do(func() { r.trunkDTMF(c, digit) })
		},
	})
	if err != nil {
		l.log.Warn("trunk dial failed", "err", err)
		r.finish(c, nil, string(wire.CodeTrunkFailed), &wire.Message{Type: wire.TypeError,
			Code: wire.CodeTrunkFailed, Message: "the trunk could not place the call"}, wire.CloseNormal)
		return
	}
	c.ep = trunkEndpoint{tc}
}

// trunkProgress applies a trunk's report on c.
func (r *registry) trunkProgress(c *call, ev trunk.Event) {
	if c.state == stateEnded {
		return
	}
	switch ev.Kind {
	case trunk.Ringing:
		if c.state == stateRinging && !c.ringingSent {
			c.ringingSent = true
			post(c.legs[sideCaller].conn, wire.Message{Type: wire.TypeRinging, CallID: c.id})
		}
	case trunk.Answered:
		if c.state == stateRinging {
			r.connectEndpoint(c)
		}
	case trunk.Failed:
		code := ev.Code
		if code == "" {
			code = wire.CodeTrunkFailed
		}
		msg := ev.Message
		if msg == "" {
			msg = "the call failed: " + string(code)
		}
		r.finish(c, nil, string(code), &wire.Message{Type: wire.TypeError, Code: code, Message: text(msg)}, wire.CloseNormal)
	case trunk.Hangup:
		r.finish(c, nil, wire.ReasonRemote, nil, wire.CloseNormal)
	case trunk.Held, trunk.Resumed:
		r.trunkHold(c, ev.Kind == trunk.Held)
	}
}

// trunkHold applies the far end of a trunk call holding or resuming, as if
// it were an app on the callee's side: the caller is told (hold{remote}) and
// hears the server's hold music, and no audio passes either way meanwhile.
func (r *registry) trunkHold(c *call, on bool) {
	if c.state != stateActive {
		return
	}
	bit := uint32(1) << sideCallee
	old := c.held.Load()
	now := old &^ bit
	if on {
		now = old | bit
	}
	if now == old {
		return
	}
	c.held.Store(now)
	post(c.legs[sideCaller].conn, wire.Message{Type: wire.TypeHold, On: wire.Bool(on), Remote: true})
	r.updateMusic(c)
	e := c.event(EventHold, "")
	e.From, e.On = c.to, on
	r.emit(e)
}

// heldSink passes a trunk's audio on to the caller except while the call is
// held, as the relay does for app legs.
type heldSink struct {
	sink endpoint.AudioSink
	held *atomic.Uint32
}

func (h heldSink) SendAudioRaw(raw []byte) bool {
	if h.held.Load() != 0 {
		wire.ReleaseAudioBuffer(raw)
		return false
	}
	return h.sink.SendAudioRaw(raw)
}

// trunkDTMF passes a digit the far end of a trunk call pressed to the caller.
func (r *registry) trunkDTMF(c *call, digit byte) {
	d := string(digit)
	if c.state != stateActive || !wire.ValidDigit(d) {
		return
	}
	post(c.legs[sideCaller].conn, wire.Message{Type: wire.TypeDTMF, Digit: d})
	e := c.event(EventDTMF, "")
	e.From, e.Digit = c.to, d
	r.emit(e)
}

// hangup ends l's call because l hung up (end, or its connection closed
// cleanly). It closes its own connection (normally) next: a shutdown
// meanwhile, say the one a drain ending with this call starts, leaves it
// alone.
func (r *registry) hangup(l *leg) { r.hangupBecause(l, wire.ReasonHangup) }

// finish ends c. Every party but by (who hung up, or whose connection
// failed, and is closing anyway) gets first (an error or declined, if any),
// then end, then a close with closeCode once those are written. reason is
// the end reason: a party hanging up makes it "remote" for the other; a
// party's lost connection (network_lost, keepalive_timeout) is passed on
// as it is.
func (r *registry) finish(c *call, by *leg, reason string, first *wire.Message, closeCode int) {
	if c.state == stateEnded {
		return
	}
	wasRinging := c.state == stateRinging
	r.stats.calls.ended[c.typ][endReasonIndex(reason)].Add(1)
	r.detach(c)
	if c.ep != nil {
		c.ep.Close()
	}
	endReason := reason
	if by != nil && reason == wire.ReasonHangup {
		endReason = wire.ReasonRemote
	}
	for _, l := range c.legs {
		if l == nil || l == by || l.closing {
			continue
		}
		l.closing = true
		if first != nil {
			post(l.conn, *first)
		}
		post(l.conn, wire.Message{Type: wire.TypeEnd, Reason: endReason})
		l.conn.Close(closeCode, endReason) // after the messages above: Close flushes them
	}
	switch {
	case wasRinging && c.callee != "":
		r.notify(c, wire.EventEnd, viaAll, c.answeredBy)
	case c.callee != "" && by == nil:
		// The server ended an app call in progress (the guide's "ending a
		// call via push"): the devices reached by push hear it that way too,
		// in case the answering one has lost its call connection.
		r.notify(c, wire.EventEnd, viaPush, "")
	}
	r.tombstone(c, endReason)
	c.legs[sideCaller].log.Info("call ended", "reason", reason, "duration", time.Since(c.created).Round(time.Millisecond))
	r.record(c, reason)
	r.emit(c.event(EventEnded, reason))
	r.checkDrained()
}

// detach takes c out of the registry, whether it ended or moved to another
// node (handover.go): ended, its timers, hold music and routes stopped, its
// registered numbers free. The caller says goodbye to its parties.
func (r *registry) detach(c *call) {
	r.setState(c, stateEnded)
	if c.ringTimer != nil {
		c.ringTimer.Stop()
	}
	for i := range c.music {
		c.music[i].Stop()
		c.music[i] = nil
	}
	for _, l := range c.legs {
		if l == nil {
			continue
		}
		l.route.Store(nil)
		if l.lostTimer != nil {
			l.lostTimer.Stop()
		}
		if l.sock != nil && l.sock.conn() == nil {
			r.forgetLeg(l) // lost: no socket will tell the registry it is gone
		}
		if c.st.inUse[l.number] == l {
			delete(c.st.inUse, l.number)
		}
	}
	delete(r.calls, c.id)
	delete(c.st.calls, c.id)
	r.stats.activeCalls.Add(-1)
}

// record hands c's call detail record to the writer, if any: it queues
// it, never waiting for the database.
func (r *registry) record(c *call, reason string) {
	if r.records == nil || c.noRecord {
		return
	}
	end := time.Now()
	rec := cdr.Record{CallID: c.id, Account: c.st.acct.name, Kind: string(c.kind), From: c.from, To: c.to,
		Node: c.nodes(r.node), Start: c.created, Answer: c.answeredAt, End: end, Reason: reason}
	if !c.answeredAt.IsZero() {
		rec.Duration = end.Sub(c.answeredAt)
	}
	r.records.Record(rec)
}

// nodes names the nodes that carried c, each once: the nodes it was
// handed over from, home (this node), then each other node a party was
// connected to (cluster bridges), comma-separated.
func (c *call) nodes(home string) string {
	var list []string
	add := func(n string) {
		if n != "" && !slices.Contains(list, n) {
			list = append(list, n)
		}
	}
	if c.pastNodes != "" {
		for _, n := range strings.Split(c.pastNodes, ",") {
			add(n)
		}
	}
	add(home)
	for _, l := range c.legs {
		if l != nil {
			add(l.via)
		}
	}
	return strings.Join(list, ",")
}

// Control requests. Each returns an error code and message, or "" for ack.

func (r *registry) mute(l *leg, on bool) (wire.Code, string) {
	c := l.call
	if c == nil || c.state == stateEnded {
		return wire.CodeControlRejected, "there is no call to mute"
	}
	l.muted.Store(on)
	e := c.event(EventMute, "")
	e.From, e.On = l.number, on
	r.emit(e)
	return "", ""
}

func (r *registry) hold(l *leg, on bool) (wire.Code, string) {
	c := l.call
	if c == nil || c.state != stateActive {
		return wire.CodeControlRejected, "the call is not connected"
	}
	bit := uint32(1) << l.side
	old := c.held.Load()
	now := old &^ bit
	if on {
		now = old | bit
	}
	if now == old {
		return "", "" // already so
	}
	c.held.Store(now)
	if peer := c.legs[1-l.side]; peer != nil {
		post(peer.conn, wire.Message{Type: wire.TypeHold, On: wire.Bool(on), Remote: true})
	}
	r.updateMusic(c)
	if c.ep != nil && (old != 0) != (now != 0) {
		c.ep.Hold(now != 0)
	}
	e := c.event(EventHold, "")
	e.From, e.On = l.number, on
	r.emit(e)
	return "", ""
}

// updateMusic plays hold music to each app party held by the other (and
// not holding itself), and stops it otherwise. A server far end being "held"
// just pauses (see endpoint.hold).
func (r *registry) updateMusic(c *call) {
	held := c.held.Load()
	for side, l := range c.legs {
		if l == nil {
			continue
		}
		want := held&(1<<(1-side)) != 0 && held&(1<<side) == 0
		switch {
		case want && c.music[side] == nil:
			c.music[side] = endpoint.StartHoldMusic(r.spawn, l.conn)
		case !want && c.music[side] != nil:
			c.music[side].Stop()
			c.music[side] = nil
		}
	}
}

func (r *registry) dtmf(l *leg, digit string) (wire.Code, string) {
	c := l.call
	if c == nil || c.state != stateActive {
		return wire.CodeControlRejected, "the call is not connected"
	}
	if peer := c.legs[1-l.side]; peer != nil {
		post(peer.conn, wire.Message{Type: wire.TypeDTMF, Digit: digit})
	} else if c.ep != nil {
		c.ep.DTMF(digit[0])
	}
	e := c.event(EventDTMF, "")
	e.From, e.Digit = l.number, digit
	r.emit(e)
	return "", ""
}

func (r *registry) status(l *leg) wire.Message {
	c := l.call
	if c == nil {
		return wire.Message{Type: wire.TypeStatus, State: stateEnded.String(), Muted: l.muted.Load()}
	}
	return wire.Message{Type: wire.TypeStatus, CallID: c.id, State: c.state.String(),
		Muted: l.muted.Load(), Held: c.held.Load() != 0}
}

// trunkEndpoint is a trunk call as the call's far end.
type trunkEndpoint struct{ trunk.Call }

func (t trunkEndpoint) DTMF(d byte) { t.SendDTMF(d) }
func (t trunkEndpoint) Close()      { t.Hangup() }

package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/onecxi/phone/server/cdr"
	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/server/endpoint"
	"github.com/onecxi/phone/server/trunk"
	"github.com/onecxi/phone/wire"
)

// errStopped is returned by registry.do once the registry has stopped.
var errStopped = errors.New("server: registry stopped")

// maxTombstones bounds how many ended call IDs are remembered, so a late
// decline gets 409 call_ended rather than 404.
const maxTombstones = 4096

// routing is what the routing core (registry, calls, legs) needs from the
// rest of the server, each through a value or a small interface: the policy
// of the configuration, the trunk, the push deliverer, the event hook, a way
// to start goroutines the server waits for, and the shared counters.
type routing struct {
	log         *slog.Logger
	node        string // Config.NodeID, for call detail records
	ringTimeout time.Duration
	maxCalls    int
	limits      Limits        // with defaults
	resumeGrace time.Duration // how long a lost resumable leg's call waits; 0: no resumption
	environment string        // goes into push payloads
	trunk       trunk.Trunk
	push        pushSender
	hook        func(Event)
	spawn       endpoint.Spawner
	stats       *counters
	// records takes a call detail record of every call that ends; it
	// must not block (a cdr.Writer queues it). nil: none are kept.
	records callRecorder
	// pushTargets returns the devices a start message would ring by push.
	// It may wait on the device store, so legs call it on their own
	// goroutine before asking the registry to start the call.
	pushTargets func(acct *account, m wire.Message) []devices.Device
	// ringPeers asks the other nodes of a cluster what they hold of a
	// start message's callee (and caller). Like pushTargets it waits (on
	// the cluster), so legs call it before asking the registry.
	ringPeers func(acct *account, m wire.Message) ringPeers
	// peers tells other nodes to ring their devices; nil: a single node.
	peers peerNotifier
}

// peerNotifier reaches the events connections of other nodes (*bridge).
type peerNotifier interface {
	// notify sends p to number's events connections (but device
	// except's) on each of nodes. It never blocks for long.
	notify(nodes []string, account, number, except string, p wire.PushPayload)
}

// ringPeers is what the other nodes of a cluster hold of a call's parties.
type ringPeers struct {
	nodes      []string // nodes with events connections of the callee
	devices    int      // how many, over all those nodes
	calleeBusy bool     // the callee is in a call on another node
	callerBusy bool     // so is the caller's registered number
}

// pushSender reaches devices that are not online: *push.Pusher, whose nil
// value sends nothing.
type pushSender interface {
	Send(devs []devices.Device, p wire.PushPayload)
}

// registry owns every call, call leg and events connection. Exactly one
// goroutine (run) touches its maps and the registry-owned fields of calls and
// legs; everyone else asks it to act with do. It never blocks: it only queues
// messages (wire.Conn.Send), starts goroutines and swaps atomic routes. Audio
// does not pass through it.
type registry struct {
	routing
	reqs chan func()
	done chan struct{} // closed when run returns

	// Owned by run's goroutine.
	byAcct     map[*account]*acctState // created on an account's first use (stateOf)
	calls      map[string]*call
	legs       map[*leg]struct{}
	ended      map[string]tomb // tombstones of ended calls
	endedOrder []string
	closing    bool
	drain      drainState // see drain.go
}

// acctState is one account's share of the registry: nothing in it is
// reachable from another account.
type acctState struct {
	acct   *account
	events map[string]map[*eventConn]struct{} // by registered number
	inUse  map[string]*leg                    // registered number → its leg in a live call
	calls  map[string]*call                   // live calls by ID

	// Connections holding one of the account's slots (limits.go): counted
	// from before the upgrade until the connection is over.
	callConns, eventConns int
}

func newRegistry(rt routing) *registry {
	if rt.push == nil {
		rt.push = noPush{}
	}
	if rt.pushTargets == nil {
		rt.pushTargets = func(*account, wire.Message) []devices.Device { return nil }
	}
	if rt.ringPeers == nil {
		rt.ringPeers = func(*account, wire.Message) ringPeers { return ringPeers{} }
	}
	r := &registry{
		routing: rt,
		reqs:    make(chan func()),
		done:    make(chan struct{}),
		byAcct:  make(map[*account]*acctState),
		calls:   make(map[string]*call),
		legs:    make(map[*leg]struct{}),
		ended:   make(map[string]tomb),
	}
	return r
}

// stateOf returns acct's share of the registry, made on first use: accounts
// come and go in the accounts store while the server runs.
func (r *registry) stateOf(acct *account) *acctState {
	st := r.byAcct[acct]
	if st == nil {
		st = &acctState{
			acct:   acct,
			events: make(map[string]map[*eventConn]struct{}),
			inUse:  make(map[string]*leg),
			calls:  make(map[string]*call),
		}
		r.byAcct[acct] = st
	}
	return st
}

// run executes requests one at a time until ctx ends.
func (r *registry) run(ctx context.Context) {
	defer close(r.done)
	tick := time.NewTicker(watchPeriod)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-r.reqs:
			f()
		case now := <-tick.C:
			r.watch(now)
		}
	}
}

// do runs f on the registry goroutine and waits for it. The channel is
// unbuffered, so once f is handed over it is certain to run.
func (r *registry) do(f func()) error {
	finished := make(chan struct{})
	req := func() {
		defer close(finished)
		defer func() {
			// A bug in one request must not take every call down with it.
			if v := recover(); v != nil {
				r.log.Error("registry request panicked", "panic", v, "stack", string(debug.Stack()))
			}
		}()
		f()
	}
	select {
	case r.reqs <- req:
		<-finished
		return nil
	case <-r.done:
		return errStopped
	}
}

func (r *registry) addLeg(l *leg) error {
	if r.closing {
		return errStopped
	}
	r.legs[l] = struct{}{}
	r.stats.callLegs.Add(1)
	return nil
}

// legGone is told that a trunk caller is gone (it hung up, or the server
// closed it): hanging up. WebSocket legs go through socketGone.
func (r *registry) legGone(l *leg) {
	r.forgetLeg(l)
	r.hangup(l)
}

func (r *registry) addEvents(ec *eventConn) error {
	// Draining: an upgrade that passed drainGate just before the drain
	// began is refused here (close 1001), not registered untold.
	if r.closing || r.drain.on {
		return errStopped
	}
	st := r.stateOf(ec.acct)
	set := st.events[ec.number]
	if set == nil {
		set = make(map[*eventConn]struct{})
		st.events[ec.number] = set
	}
	set[ec] = struct{}{}
	r.stats.eventConns.Add(1)
	return nil
}

func (r *registry) removeEvents(ec *eventConn) {
	st := r.stateOf(ec.acct)
	set := st.events[ec.number]
	if _, ok := set[ec]; !ok {
		return
	}
	delete(set, ec)
	if len(set) == 0 {
		delete(st.events, ec.number)
	}
	r.stats.eventConns.Add(-1)
}

func (r *registry) tombstone(c *call, reason string) {
	tb := tomb{acct: c.st.acct, reason: reason}
	for i, l := range c.legs {
		if l != nil && l.resumable {
			tb.tokens[i] = l.token
		}
	}
	r.ended[c.id] = tb
	r.endedOrder = append(r.endedOrder, c.id)
	if len(r.endedOrder) > maxTombstones {
		delete(r.ended, r.endedOrder[0])
		r.endedOrder[0] = ""
		r.endedOrder = r.endedOrder[1:]
	}
}

// shutdown ends every call with end{reason:"shutdown"} and close 1001,
// closes every other connection with 1001 and refuses new ones.
func (r *registry) shutdown() {
	r.closing = true
	if len(r.calls) > 0 {
		r.log.Info("ending calls at shutdown", "calls", len(r.calls))
	}
	for _, c := range r.calls {
		r.finish(c, nil, wire.ReasonShutdown, nil, wire.CloseGoingAway)
	}
	for l := range r.legs {
		if !l.closing {
			l.closing = true
			conn := l.conn
			if !r.spawn(func() { conn.Close(wire.CloseGoingAway, "server shutting down") }) {
				go conn.Close(wire.CloseGoingAway, "server shutting down")
			}
		}
	}
	for _, st := range r.byAcct {
		for _, set := range st.events {
			for ec := range set {
				conn := ec.conn
				if !r.spawn(func() { conn.Close(wire.CloseGoingAway, "server shutting down") }) {
					go conn.Close(wire.CloseGoingAway, "server shutting down")
				}
			}
		}
	}
}

// decline is POST /v1/calls/{id}/decline from acct.
func (r *registry) decline(acct *account, id string) (status int, code wire.Code, msg string) {
	st := r.stateOf(acct)
	c := st.calls[id]
	switch {
	case c == nil && r.ended[id].acct == acct:
		return 409, wire.CodeCallEnded, "the call has already ended"
	case c == nil || c.callee == "":
		return 404, wire.CodeNotFound, "no such ringing call"
	case c.state != stateRinging:
		return 409, wire.CodeAlreadyAnswered, "the call was already answered"
	}
	r.emit(c.event(EventDeclined, wire.ReasonDeclined))
	r.finish(c, nil, wire.ReasonDeclined,
		&wire.Message{Type: wire.TypeDeclined, CallID: c.id, Reason: wire.ReasonDeclined}, wire.CloseNormal)
	return 204, "", ""
}

// ringTimedOut fails a call nobody answered with no_answer.
func (r *registry) ringTimedOut(c *call) {
	if c.state != stateRinging {
		return
	}
	r.finish(c, nil, wire.ReasonNoAnswer, &wire.Message{Type: wire.TypeError, Code: wire.CodeNoAnswer,
		Message: fmt.Sprintf("no answer within %v", r.ringTimeout)}, wire.CloseNormal)
}

// armRingTimer fails c with no_answer unless answered within the ring
// timeout. The timer's goroutine only asks the registry to act.
func (r *registry) armRingTimer(c *call) {
	c.ringTimer = time.AfterFunc(r.ringTimeout, func() {
		_ = r.do(func() { r.ringTimedOut(c) })
	})
}

// emit reports e to the event hook, if any.
func (r *registry) emit(e Event) {
	if r.hook != nil {
		r.hook(e)
	}
}

// post queues m on conn and never blocks: a peer that has let its control
// queue fill is closed by wire.Conn itself.
func post(conn LegConn, m wire.Message) bool {
	return conn.Send(m) == nil
}

// callRecorder takes call detail records: *cdr.Writer.
type callRecorder interface {
	Record(cdr.Record) bool
}

// noPush is the pushSender of a server without push providers.
type noPush struct{}

func (noPush) Send([]devices.Device, wire.PushPayload) {}

package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/onecxi/phone/wire"
)

// Drain timeouts (Config.DrainTimeout).
const (
	// DefaultDrainTimeout is how long a drain lets live calls go on.
	DefaultDrainTimeout = 30 * time.Second
	// NoDrain turns draining off: Serve ends calls as soon as its context
	// ends ("drainTimeout": "0s" in JSON).
	NoDrain time.Duration = -1
)

// MaxDrainDelay bounds Config.DrainDelay.
const MaxDrainDelay = time.Minute

// ErrDrainIncomplete is wrapped by Drain's error when calls were still up as
// the drain ended (its timeout, its context, or Shutdown).
var ErrDrainIncomplete = errors.New("calls still live when the drain ended")

// drainingMessage is the text of every refusal while draining.
const drainingMessage = "the server is draining: it takes no new calls"

// ParseDrainTimeout reads a drain timeout as the configuration's
// drainTimeout and onecxi-server's -drain-timeout spell it: a duration from
// 0 to wire.MaxDrain, where 0 means NoDrain.
func ParseDrainTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%s is not a duration such as \"30s\"", wire.Quote(s))
	case d < 0 || d > wire.MaxDrain:
		return 0, fmt.Errorf("%v is outside 0..%v (0 turns draining off)", d, wire.MaxDrain)
	case d == 0:
		return NoDrain, nil
	}
	return d, nil
}

// Drain is the first half of a graceful stop or restart (LiveKit's
// connection draining is the model). From the moment it is called the
// server takes no new work, and says so:
//
//   - every live call leg and every events connection is sent
//     draining{ms}, ms being how long calls may still go on;
//   - GET /readyz answers 503 shutting_down, so a load balancer stops
//     sending traffic here (GET /healthz, liveness, stays 200);
//   - /v1/events upgrades and POST /v1/devices are refused 503
//     shutting_down, and so are /v1/call upgrades once no app call is
//     ringing; a start that is not the answer of a ringing app call gets
//     error{code:"shutting_down"} (trunk callers: the same, through
//     Inbound);
//
// while live calls go on as before — audio, controls, hang-ups, declines,
// sign-outs (DELETE /v1/devices), and the answer of an app call that was
// ringing when the drain began (what the callee expects: it is ringing).
// Events connections stay open, so ringing devices still hear "end".
//
// In a cluster (WithCluster) it first moves what can move: phones bridged
// here to calls on other nodes are closed with 4010 and resume elsewhere,
// and calls living here between two phones that can resume are handed to
// another node (handover.go); only the calls that stay are told draining.
//
// Drain returns nil once the last call has ended (or moved). It returns an error
// wrapping ErrDrainIncomplete when the configured DrainTimeout passes, ctx
// ends or Shutdown is called with calls still up. It ends no call itself:
// Shutdown, which should follow, ends those left with reason "shutdown" and
// closes the events connections with 1001. With DrainTimeout NoDrain it
// returns nil at once and changes nothing. A second call waits again
// without telling the phones twice.
func (s *Server) Drain(ctx context.Context) error {
	if s.cfg.DrainTimeout < 0 {
		return nil
	}
	if s.shutting.Load() {
		return fmt.Errorf("%w: %w", ErrDrainIncomplete, ErrShuttingDown)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DrainTimeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	left := time.Until(deadline)
	s.draining.Store(true)
	var (
		idle  <-chan struct{}
		calls int
		first bool
	)
	// In a cluster the calls that can move are handed over first
	// (handover.go): only those that stay are told the server drains.
	later := s.bridge != nil
	if err := s.reg.do(func() { idle, calls, first = s.reg.beginDrain(left, later) }); err != nil {
		return fmt.Errorf("%w: %w", ErrDrainIncomplete, ErrShuttingDown)
	}
	if first {
		s.log.Info("draining", "calls", calls, "eventConns", s.stats.eventConns.Load(),
			"timeout", left.Round(time.Millisecond))
		if s.bridge != nil {
			// Phones bridged here to calls on other nodes need not wait
			// for this one: they resume through another node; and calls
			// living here move to other nodes (handover.go). First the
			// load balancer is given time to see /readyz fail.
			if d := s.cfg.DrainDelay; d > 0 {
				s.log.Info("draining: waiting for the load balancer before moving calls", "delay", d)
				select {
				case <-time.After(d):
				case <-s.stopping:
				case <-ctx.Done():
				}
			}
			s.bridge.moveEdges(false)
			s.handOver(ctx)
			left := time.Until(deadline)
			_ = s.reg.do(func() { s.reg.tellCallsDraining(left) })
			s.bridge.tellEdgesDraining(left)
		}
	}
	if s.bridge != nil {
		// Phones bridged here that could not move (they cannot resume)
		// keep their calls, homed elsewhere, as long as this node's own.
		idle = s.bridge.afterEdges(ctx, idle)
	}
	start := time.Now()
	select {
	case <-idle:
	case <-s.stopping:
	case <-ctx.Done():
	}
	select {
	case <-idle: // calls ended on their own, whatever else happened since
		s.log.Info("drained: all calls finished", "after", time.Since(start).Round(time.Millisecond))
		return nil
	default:
	}
	select {
	case <-s.stopping:
		// Shutdown says how many calls it ends.
		s.log.Info("drain cut short by shutdown", "after", time.Since(start).Round(time.Millisecond))
		return fmt.Errorf("%w: cut short by shutdown", ErrDrainIncomplete)
	default:
	}
	live := int(s.stats.activeCalls.Load())
	args := []any{"calls", live, "after", time.Since(start).Round(time.Millisecond)}
	if s.bridge != nil {
		args = append(args, "bridgedPhones", len(s.bridge.edges.all()))
	}
	s.log.Warn("drain timeout: calls still live will be cut", args...)
	return fmt.Errorf("%w: %d after %v: %w", ErrDrainIncomplete, live, time.Since(start).Round(time.Millisecond), ctx.Err())
}

// Draining reports whether Drain has begun.
func (s *Server) Draining() bool { return s.draining.Load() }

// drainGate refuses, while draining, the HTTP requests that would start
// something (see Drain). Everything else passes on to the routes, as do all
// requests once Shutdown has begun (they get its own 503).
func (s *Server) drainGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() && !s.shutting.Load() && s.refusedWhileDraining(r) {
			writeError(w, http.StatusServiceUnavailable, wire.CodeShuttingDown, drainingMessage)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) refusedWhileDraining(r *http.Request) bool {
	switch r.URL.Path {
	case wire.PathEvents:
		return true
	case wire.PathDevices:
		return r.Method == http.MethodPost
	case wire.PathCall:
		// Which kind of call a connection is for is known only at its start,
		// so while an app call rings (its callee may answer) or a call waits
		// for a lost party to resume, the upgrade is let through and the
		// first message decides (registry.start, registry.resume).
		open := false
		_ = s.reg.do(func() { open = s.reg.appCallRinging() || s.reg.legLost() })
		return !open
	}
	return false
}

// drainState is the registry's part of a drain.
type drainState struct {
	on   bool          // new calls are refused
	idle chan struct{} // closed once no call is left, unless shutdown ended them
	done bool          // idle is closed
}

// beginDrain starts the drain: new calls are refused from now on, and every
// live call leg and events connection is told draining{ms: left}. It returns
// a channel closed when no call is left, the number of live calls, and
// whether this call began the drain (a second one tells nobody again).
// With callsLater the calls are not told yet: tellCallsDraining does,
// once those that can move to another node have.
func (r *registry) beginDrain(left time.Duration, callsLater bool) (idle <-chan struct{}, calls int, first bool) {
	if !r.drain.on {
		first = true
		r.drain.on = true
		r.drain.idle = make(chan struct{})
		msg := drainingNotice(left)
		if !callsLater {
			r.tellCallsDraining(left)
		}
		for _, st := range r.byAcct {
			for _, set := range st.events {
				for ec := range set {
					post(ec.conn, msg)
				}
			}
		}
		r.checkDrained()
	}
	return r.drain.idle, len(r.calls), first
}

func drainingNotice(left time.Duration) wire.Message {
	return wire.Message{Type: wire.TypeDraining, MS: min(max(left.Milliseconds(), 1), wire.MaxDrain.Milliseconds())}
}

// tellCallsDraining sends every live call leg draining{ms: left}.
func (r *registry) tellCallsDraining(left time.Duration) {
	msg := drainingNotice(left)
	for _, c := range r.calls {
		for _, l := range c.legs {
			// WebSocket legs only: a trunk's caller has no such message.
			if l != nil && l.sock != nil && !l.closing {
				post(l.sock, msg) // a lost leg gets it when it resumes
			}
		}
	}
}

// checkDrained closes the drain's idle channel once no call is left. Calls
// ended by shutdown do not count: the drain did not finish, it was cut.
func (r *registry) checkDrained() {
	if r.drain.on && !r.drain.done && !r.closing && len(r.calls) == 0 {
		r.drain.done = true
		close(r.drain.idle)
	}
}

// legLost reports whether some call waits for a lost party to resume.
func (r *registry) legLost() bool {
	for _, c := range r.calls {
		for _, l := range c.legs {
			if l != nil && l.lost {
				return true
			}
		}
	}
	return false
}

// appCallRinging reports whether some app call is ringing, that is whether a
// callee might still answer one.
func (r *registry) appCallRinging() bool {
	for _, c := range r.calls {
		if c.state == stateRinging && c.callee != "" {
			return true
		}
	}
	return false
}

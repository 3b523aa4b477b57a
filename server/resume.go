package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/onecxi/phone/wire"
)

// Call resumption (PROTOCOL.md, "Call resumption"). A leg whose client
// named wire.FeatureResume in its upgrade gets a resume token with the
// first reply to its start. When its socket fails — a read error or reset,
// the server's keep-alive, or a close frame with a code other than 1000 or
// 1001 (those are a hang-up) — or when nothing at all has arrived on it for
// wire.MediaTimeout in an answered call, the leg is "lost": the call (and
// the far party) is kept for resumeGrace, the far party is told
// reconnecting, and a resume on a new socket splices that socket into the
// leg (legSocket.attach). If the grace passes, the call ends with
// network_lost for everyone.

// NoResume turns call resumption off (Config.ResumeGrace; "resumeGrace":
// "0s" in JSON): a lost connection ends its call at once.
const NoResume time.Duration = -1

// ParseResumeGrace reads a resume grace as the configuration's resumeGrace
// and onecxi-server's -resume-grace spell it: a duration from 0 to
// wire.MaxResumeGrace, where 0 means NoResume.
func ParseResumeGrace(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%s is not a duration such as \"30s\"", wire.Quote(s))
	case d < 0 || d > wire.MaxResumeGrace:
		return 0, fmt.Errorf("%v is outside 0..%v (0 turns resumption off)", d, wire.MaxResumeGrace)
	case d == 0:
		return NoResume, nil
	}
	return d, nil
}

// watchPeriod is how often the registry looks for silent resumable legs.
const watchPeriod = 500 * time.Millisecond

// tomb is what the registry remembers of an ended call: whose it was, so a
// late decline gets 409 rather than 404, and how it ended for the parties
// that could resume, so a late resume learns why.
type tomb struct {
	acct   *account
	reason string                  // the end reason the parties were sent
	tokens [2]wire.ResumeTokenHash // of resumable legs; zero otherwise
}

// issueResume gives l its resume token, sent before the first reply to its
// start, if its client can resume and the server resumes at all.
func (r *registry) issueResume(l *leg, c *call) {
	if !l.resumable {
		return
	}
	if r.resumeGrace <= 0 || l.sock == nil {
		l.resumable = false // a client that cannot be told a token must not be waited for
		return
	}
	tok := wire.NewResumeToken()
	l.token = wire.HashResumeToken(tok)
	post(l.conn, wire.Message{Type: wire.TypeResumable, CallID: c.id, Token: tok, MS: r.resumeGrace.Milliseconds()})
}

// socketGone is told that conn, a socket of leg l (the leg it started, or
// the one it resumed), has closed with err (nil for a clean close: the
// client hung up, or the server closed it). first is the leg the socket was
// created with.
func (r *registry) socketGone(l, first *leg, conn callSocket, err error) {
	if first != l {
		r.forgetLeg(first) // resumed onto l: first never had a call
	}
	if l.sock != nil && l.call != nil && l.sock.conn() != conn {
		return // a resume replaced this socket: the leg goes on
	}
	c := l.call
	if c != nil && c.state != stateEnded && !l.closing && l.resumable && err != nil {
		l.sock.detach(conn)
		r.lose(l, "socket", err)
		return
	}
	r.forgetLeg(l)
	r.hangupBecause(l, lossReason(err))
}

// lossReason is the end reason of a party that cannot resume when its
// socket closed with err.
func lossReason(err error) string {
	// gorilla/websocket hides a read deadline's os.ErrDeadlineExceeded
	// behind its own net.Error (a timeout), so both are looked for.
	var ne net.Error
	switch {
	case err == nil:
		return wire.ReasonHangup
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return wire.ReasonKeepaliveTimeout
	}
	return wire.ReasonNetworkLost
}

// forgetLeg drops l from the set of live legs.
func (r *registry) forgetLeg(l *leg) {
	if _, ok := r.legs[l]; ok {
		delete(r.legs, l)
		r.stats.callLegs.Add(-1)
	}
}

// lose marks l's connection lost: the call waits for a resume, up to the
// grace, and the far party is told. how is "socket" or "silent".
func (r *registry) lose(l *leg, how string, err error) {
	if l.lost {
		return
	}
	c := l.call
	l.lost = true
	l.lostAt = time.Now()
	l.lostGen++
	gen := l.lostGen
	l.lostTimer = time.AfterFunc(r.resumeGrace, func() {
		_ = r.do(func() { r.graceOver(l, gen) })
	})
	if peer := c.legs[1-l.side]; peer != nil && peer.resumable {
		post(peer.conn, wire.Message{Type: wire.TypeReconnecting, Remote: true})
	}
	args := []any{"party", l.number, "how", how, "grace", r.resumeGrace}
	if err != nil {
		args = append(args, "err", err)
	}
	l.log.Info("call party's connection lost; holding the call for a resume", args...)
	e := c.event(EventConnLost, how)
	e.From = l.number
	r.emit(e)
}

// recovered clears l's lost state: it resumed, or its socket came back to
// life. The far party is told.
// via is the address a resume came from ("" for the same socket).
func (r *registry) recovered(l *leg, resumed bool, via string) {
	if !l.lost {
		return
	}
	l.lost = false
	l.lostGen++
	l.lostTimer.Stop()
	c := l.call
	if peer := c.legs[1-l.side]; peer != nil && peer.resumable {
		post(peer.conn, wire.Message{Type: wire.TypeReconnected, Remote: true})
	}
	typ := EventRecovered
	if resumed {
		typ = EventResumed
	}
	args := []any{"party", l.number, "resumed", resumed, "after", time.Since(l.lostAt).Round(time.Millisecond)}
	if via != "" {
		args = append(args, "via", via)
	}
	l.log.Info("call party is back", args...)
	e := c.event(typ, "")
	e.From = l.number
	r.emit(e)
}

// graceOver ends l's call if l is still lost since loss number gen.
func (r *registry) graceOver(l *leg, gen uint64) {
	c := l.call
	if !l.lost || l.lostGen != gen || c == nil || c.state == stateEnded {
		return
	}
	l.log.Info("call party did not come back in time", "party", l.number, "grace", r.resumeGrace)
	r.finish(c, nil, wire.ReasonNetworkLost, nil, wire.CloseNormal)
}

// resume handles resume{callId, token}, the first message on first's new
// socket. It returns the leg the socket now carries, or nil when the resume
// was refused (first is answered and closed). With bridge set, a call this
// node never had is not refused: resume reports it is elsewhere, for the
// socket to look for it in the cluster (callSock.bridgeOut).
func (r *registry) resume(first *leg, m wire.Message, bridge bool) (to *leg, elsewhere bool) {
	conn := first.sock.conn()
	refuse := func(code wire.Code, msg string) (*leg, bool) {
		first.refuseResume(code, msg)
		return nil, false
	}
	if r.closing {
		return refuse(wire.CodeShuttingDown, "the server is shutting down")
	}
	h := wire.HashResumeToken(m.Token)
	st := r.stateOf(first.acct)
	c := st.calls[m.CallID]
	if c == nil {
		if tb, ok := r.ended[m.CallID]; ok && tb.acct == first.acct &&
			(wire.SameResumeToken(tb.tokens[0], h) || wire.SameResumeToken(tb.tokens[1], h)) {
			// Ended while this party was away: it learns how, as it would
			// have had it been there.
			first.closing = true
			first.log.Info("resume of an ended call", "callId", m.CallID, "reason", tb.reason)
			post(first.conn, wire.Message{Type: wire.TypeEnd, Reason: tb.reason})
			first.conn.Close(wire.CloseNormal, tb.reason)
			return nil, false
		}
		if bridge {
			if _, ok := r.ended[m.CallID]; !ok {
				return nil, true
			}
		}
		first.log.Info("resume refused: no such call", "callId", wire.Quote(m.CallID))
		return refuse(wire.CodeNotFound, "no call to resume")
	}
	var l *leg
	for _, x := range c.legs {
		if x != nil && x.resumable && wire.SameResumeToken(x.token, h) {
			l = x
		}
	}
	if l == nil {
		first.log.Info("resume refused: wrong token", "callId", c.id)
		return refuse(wire.CodeNotFound, "no call to resume")
	}
	if l.closing || !l.sock.attach(conn, wire.Message{Type: wire.TypeResumed, CallID: c.id, State: c.state.String()}) {
		return refuse(wire.CodeCallEnded, "the call has ended")
	}
	r.forgetLeg(first)
	first.closing = true // its own leg is done; the socket now carries l
	l.resumes++
	l.attachedAt = time.Now()
	if l.lost {
		r.recovered(l, true, first.remote)
	} else {
		// The client gave up on a socket the server still thought alive.
		l.log.Info("call party resumed on a new connection", "party", l.number, "via", first.remote)
		e := c.event(EventResumed, "")
		e.From = l.number
		r.emit(e)
	}
	if first.via != "" {
		l.via = first.via
	}
	return l, false
}

// refuseResume answers a resume that cannot be taken with error{code} and
// closes the socket.
func (first *leg) refuseResume(code wire.Code, msg string) {
	first.closing = true
	post(first.conn, wire.Message{Type: wire.TypeError, Code: code, Message: msg})
	first.conn.Close(wire.CloseNormal, string(code))
}

// watch finds answered calls' resumable legs from which nothing has arrived
// for wire.MediaTimeout (the client pings every second), and ones that
// came back to life on the same socket.
func (r *registry) watch(now time.Time) {
	for _, c := range r.calls {
		if c.state != stateActive {
			continue
		}
		for _, l := range c.legs {
			if l == nil || !l.resumable || l.closing {
				continue
			}
			conn := l.sock.conn()
			if conn == nil {
				continue // lost, waiting for a resume
			}
			heard := latest(conn.LastRead(), c.answeredAt, l.attachedAt)
			silent := now.Sub(heard) > wire.MediaTimeout
			switch {
			case silent:
				l.backSince = time.Time{}
				if !l.lost {
					l.sock.suspectSilent(true)
					r.lose(l, "silent", nil)
				}
			case l.lost && l.backSince.IsZero():
				// Heard again on the same socket: back only if it stays so
				// past the next look, not for the burst of stale data a
				// dead connection's last bytes can be.
				l.backSince = now
			case l.lost && now.Sub(l.backSince) >= watchPeriod:
				l.backSince = time.Time{}
				l.sock.suspectSilent(false)
				r.recovered(l, false, "")
			}
		}
	}
}

// hangupBecause ends l's call because l is gone for reason: it hung up, or
// (a party that cannot resume) its connection failed.
func (r *registry) hangupBecause(l *leg, reason string) {
	l.closing = true
	if c := l.call; c != nil && c.state != stateEnded {
		r.finish(c, l, reason, nil, wire.CloseNormal)
	}
}

// latest returns the latest of ts.
func latest(ts ...time.Time) time.Time {
	var t time.Time
	for _, x := range ts {
		if x.After(t) {
			t = x
		}
	}
	return t
}

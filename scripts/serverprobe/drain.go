package main

import (
	"fmt"
	"time"

	"github.com/onecxi/phone/wire"
)

// defaultDrainTimeout is onecxi-server's drain timeout when neither its
// configuration nor -drain-timeout sets one (server.DefaultDrainTimeout;
// the probe does not link the server, it runs it).
const defaultDrainTimeout = 30 * time.Second

// drainCallEndsFirst: SIGTERM during an echo call; the call goes on through
// the drain, and the server exits once the client hangs up.
func drainCallEndsFirst(s *session) error {
	c, st, sig, err := s.drainCall(defaultDrainTimeout)
	if err != nil {
		return err
	}
	defer c.close()
	defer st.stop()
	if err := s.echoGoesOn(c, time.Now().Add(s.cfg.drainStream)); err != nil {
		return err
	}
	if !s.srv.running() {
		return fmt.Errorf("the server exited during the drain with the call still up (%s)", s.srv.exitStatus())
	}
	hung, err := s.hangup(c, st)
	if err != nil {
		return err
	}
	if err := s.exits(hung, "the hang-up"); err != nil {
		return err
	}
	return s.loggedAll(sig, `msg=draining calls=1 `, `msg="drained: all calls finished"`, `msg="call ended" .*reason=hangup`)
}

// drainCutShort: a second SIGTERM during the drain ends the call with
// end{reason:"shutdown"} and the server exits.
func drainCutShort(s *session) error {
	c, st, sig, err := s.drainCall(defaultDrainTimeout)
	if err != nil {
		return err
	}
	defer c.close()
	defer st.stop()
	if err := s.echoGoesOn(c, sig.Add(s.cfg.secondSignal)); err != nil {
		return err
	}
	sig2, err := s.sigterm(fmt.Sprintf("a second SIGTERM, %s after the first", ms(time.Since(sig))))
	if err != nil {
		return err
	}
	if err := s.shutdownEnd(c, st, sig2, "the second SIGTERM"); err != nil {
		return err
	}
	if err := s.exits(sig2, "the second SIGTERM"); err != nil {
		return err
	}
	return s.loggedAll(sig, `msg="second signal: cutting the drain short"`, `msg="drain cut short by shutdown"`,
		`msg="ending calls at shutdown" calls=1`, `msg="call ended" .*reason=shutdown`)
}

// drainTimesOut: the call stays up; the server ends it with
// end{reason:"shutdown"} when its drain timeout passes.
func drainTimesOut(s *session) error {
	c, st, sig, err := s.drainCall(s.cfg.drainTimeout)
	if err != nil {
		return err
	}
	defer c.close()
	defer st.stop()
	// Stop watching a little before the server should cut the call: the
	// end is expected next.
	if err := s.echoGoesOn(c, sig.Add(s.cfg.drainTimeout-300*time.Millisecond)); err != nil {
		return err
	}
	if err := s.shutdownEnd(c, st, sig, "the SIGTERM"); err != nil {
		return err
	}
	if err := s.exits(sig, "the SIGTERM"); err != nil {
		return err
	}
	return s.loggedAll(sig, `msg="drain timeout: calls still live will be cut" calls=1`, `msg="call ended" .*reason=shutdown`)
}

// drainCall starts an echo call and sends the server SIGTERM: it returns
// the call, its tone streamer and when the signal went, once the drain's
// signs (draining{ms}, /readyz 503, refused upgrades) were seen.
func (s *session) drainCall(timeout time.Duration) (*call, *streamer, time.Time, error) {
	c, st, _, err := s.echoCall(false)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	sig, err := s.sigterm("SIGTERM")
	if err == nil {
		err = s.drainSigns(c, sig, timeout)
	}
	if err != nil {
		st.stop()
		c.close()
		return nil, nil, time.Time{}, err
	}
	return c, st, sig, nil
}

// loggedAll expects each of wants (regular expressions) in the server's log
// after since.
func (s *session) loggedAll(since time.Time, wants ...string) error {
	for _, want := range wants {
		if err := s.logged(since, want); err != nil {
			return err
		}
	}
	return nil
}

// shutdownEnd expects the server to end c with end{reason:"shutdown"} and
// close 1001, after ref (said as what).
func (s *session) shutdownEnd(c *call, st *streamer, ref time.Time, what string) error {
	m, err := c.expectWithin(wire.TypeEnd, s.cfg.drainTimeout+waitMsg)
	st.stop()
	if err != nil {
		return err
	}
	s.tl.at(m.at, "call receives %s, %s after %s", describe(m.Message), ms(m.at.Sub(ref)), what)
	if m.Reason != wire.ReasonShutdown {
		return fmt.Errorf("end reason %q, want %q", m.Reason, wire.ReasonShutdown)
	}
	code, closed, err := c.waitClosed()
	if err != nil {
		return err
	}
	s.tl.at(closed, "the server closes the call's socket: %d", code)
	if code != wire.CloseGoingAway {
		return fmt.Errorf("call socket closed %d after end{shutdown}, want %d", code, wire.CloseGoingAway)
	}
	return nil
}

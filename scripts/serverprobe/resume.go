package main

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/onecxi/phone/wire"
)

// resumeScenario: an echo call that can resume loses its TCP connection
// cfg.resets times and resumes each time at once on a new socket; then it
// loses it for good, and the server gives up after its resume grace.
func resumeScenario(s *session) error {
	c, st, tok, err := s.echoCall(true)
	if err != nil {
		return err
	}
	cur := c
	defer func() {
		st.stop()
		cur.close()
	}()
	if want := s.cfg.resumeGrace.Milliseconds(); tok.MS != want {
		return fmt.Errorf("resumable ms %d, want the server's -resume-grace, %d", tok.MS, want)
	}

	// The server logs two lines a reset: they are summed up, not shown.
	s.srv.log.follow(nil)
	begin := time.Now()
	var handshakes, gaps, silences []time.Duration
	skipped, lossy := 0, 0
	for i := range s.cfg.resets {
		// At a random point of the 20 ms frame clock: dropping always
		// just after a frame went out would make every gap the same.
		if err := s.sleep(s.cfg.settle + rand.N(wire.FrameMillis*time.Millisecond)); err != nil {
			return err
		}
		r, err := s.reset(cur, st, tok.CallID, tok.Token)
		if err != nil {
			s.srv.log.follow(s.tl.server)
			return fmt.Errorf("reset %d of %d: %w", i+1, s.cfg.resets, err)
		}
		cur = r.call
		handshakes, gaps, silences = append(handshakes, r.handshake), append(gaps, r.gap), append(silences, r.silence)
		skipped += r.skipped
		if r.skipped > 0 {
			lossy++
		}
	}
	end := time.Now()
	s.srv.log.follow(s.tl.server)
	s.tl.span(begin, end, "%d resets, %v–%v apart: the client closes the TCP connection (no close frame), dials a new socket and sends resume{callId, token} at once",
		s.cfg.resets, s.cfg.settle, s.cfg.settle+wire.FrameMillis*time.Millisecond)
	s.tl.note("%-45s %s", "handshake, drop → resumed received:", summarize(handshakes))
	s.tl.note("%-45s %s", "audio gap, drop → first echoed frame:", summarize(gaps))
	s.tl.note("%-45s %s", "echo spacing across the reset (20 ms: none):", summarize(silences))
	s.tl.note("(the spacing is from the last echoed frame on the old socket to the first on the new; frames are 20 ms apart)")
	s.tl.note("frames the client could not send, their tick falling between the sockets: %d, in %d of %d resets", skipped, lossy, s.cfg.resets)
	s.resetLog(begin, end)

	m := cur.mark()
	if err := s.sleep(s.cfg.echoFor); err != nil {
		return err
	}
	frames, samples := cur.since(m)
	rate := float64(frames) / time.Since(m.at).Seconds()
	share := toneShare(samples)
	s.tl.at(time.Now(), "after the last resume: %d Hz echoed back (share %.2f), %.1f frames a second", toneFreq, share, rate)
	if share < minShare || rate < minFramesPerSec {
		return fmt.Errorf("after the last resume the echo is not the tone: share %.2f, %.1f frames a second", share, rate)
	}
	return s.notResumed(cur, st, tok.CallID, tok.Token)
}

// resetResult is what one drop and resume measured.
type resetResult struct {
	call      *call         // the new socket
	handshake time.Duration // drop → resumed received
	gap       time.Duration // drop → the first echoed frame on the new socket
	silence   time.Duration // the last echoed frame on the old socket → the first on the new
	skipped   int           // frames not sent, their tick falling between the sockets
}

// reset drops old's connection and resumes the call on a new socket.
func (s *session) reset(old *call, st *streamer, callID, token string) (resetResult, error) {
	st.use(nil)
	skipped := st.skipped.Load()
	drop := old.drop()
	nc, err := s.srv.ep.dial(s.ctx, true)
	if err != nil {
		return resetResult{}, fmt.Errorf("dial to resume: %w", err)
	}
	fail := func(err error) (resetResult, error) {
		nc.close()
		return resetResult{}, err
	}
	if err := nc.send(wire.Message{Type: wire.TypeResume, CallID: callID, Token: token}); err != nil {
		return fail(err)
	}
	m, err := nc.expect(wire.TypeResumed)
	if err != nil {
		return fail(err)
	}
	if m.CallID != callID || m.State != "active" {
		return fail(fmt.Errorf("got %s, want call %s active", describe(m.Message), callID))
	}
	st.use(nc)
	r := resetResult{call: nc, handshake: m.at.Sub(drop), skipped: int(st.skipped.Load() - skipped)}
	first, err := nc.firstFrame()
	if err != nil {
		return fail(fmt.Errorf("after resumed: %w", err))
	}
	select {
	case <-old.done:
	case <-time.After(waitMsg):
		return fail(fmt.Errorf("the dropped socket's reader still runs %v later", waitMsg))
	}
	r.gap, r.silence = first.Sub(drop), first.Sub(old.lastFrame())
	return r, nil
}

// backAfter reads the server's own lost → back time from its "call party is
// back" line.
var backAfter = regexp.MustCompile(`after=(\S+)`)

// resetLog sums up what the server logged during the resets: how many of
// each line, and its own lost → back times.
func (s *session) resetLog(begin, end time.Time) {
	counts := map[string]int{}
	var back []time.Duration
	for _, l := range s.srv.log.since(begin) {
		if l.at.After(end) {
			break
		}
		counts[l.msg]++
		if l.msg == "call party is back" {
			if m := backAfter.FindStringSubmatch(l.attrs); m != nil {
				if d, err := time.ParseDuration(m[1]); err == nil {
					back = append(back, d)
				}
			}
		}
	}
	msgs := make([]string, 0, len(counts))
	for m := range counts {
		msgs = append(msgs, m)
	}
	sort.Slice(msgs, func(i, j int) bool {
		if counts[msgs[i]] != counts[msgs[j]] {
			return counts[msgs[i]] > counts[msgs[j]]
		}
		return msgs[i] < msgs[j]
	})
	var parts []string
	for _, m := range msgs {
		parts = append(parts, fmt.Sprintf("%d× %q", counts[m], m))
	}
	s.tl.note("server log during the resets: %s", strings.Join(parts, ", "))
	if len(back) > 0 {
		s.tl.note("server's own lost → back (its log's after=, whole ms): %s", summarize(back))
	}
}

var (
	logGaveUp     = regexp.MustCompile(`call party did not come back in time`)
	logNetworkEnd = regexp.MustCompile(`msg="call ended" .*reason=network_lost`)
	logLateResume = regexp.MustCompile(`msg="resume of an ended call" .*reason=network_lost`)
)

// notResumed drops the call's connection for good: the server must end the
// call network_lost once its grace has passed, and tell a late resume so.
func (s *session) notResumed(c *call, st *streamer, callID, token string) error {
	st.stop()
	drop := c.drop()
	s.tl.at(drop, "the client drops the TCP connection again and does not resume")
	grace := s.cfg.resumeGrace
	gaveUp, err := s.srv.log.wait(logGaveUp, drop, grace+waitMsg)
	if err != nil {
		return err
	}
	ended, err := s.srv.log.wait(logNetworkEnd, drop, waitMsg)
	if err != nil {
		return err
	}
	s.tl.at(ended.at, "the server gave up %s after the drop and ended the call network_lost (grace %v)", ms(gaveUp.at.Sub(drop)), grace)
	if gaveUp.at.Sub(drop) < grace {
		return fmt.Errorf("the server gave up %s after the drop, before its %v grace", ms(gaveUp.at.Sub(drop)), grace)
	}

	late, err := s.srv.ep.dial(s.ctx, true)
	if err != nil {
		return fmt.Errorf("dial for a late resume: %w", err)
	}
	defer late.close()
	at := time.Now()
	if err := late.send(wire.Message{Type: wire.TypeResume, CallID: callID, Token: token}); err != nil {
		return err
	}
	m, err := late.expect(wire.TypeEnd)
	if err != nil {
		return fmt.Errorf("a late resume: %w", err)
	}
	s.tl.at(m.at, "a late resume{callId, token} gets %s, %s after it was sent", describe(m.Message), ms(m.at.Sub(at)))
	if m.Reason != wire.ReasonNetworkLost {
		return fmt.Errorf("a late resume got end reason %q, want %q", m.Reason, wire.ReasonNetworkLost)
	}
	code, closed, err := late.waitClosed()
	if err != nil {
		return err
	}
	s.tl.at(closed, "the server closes that socket: %d", code)
	if _, err := s.srv.log.wait(logLateResume, at, waitMsg); err != nil {
		return err
	}

	sig, err := s.sigterm("SIGTERM, no call left")
	if err != nil {
		return err
	}
	return s.exits(sig, "the SIGTERM")
}

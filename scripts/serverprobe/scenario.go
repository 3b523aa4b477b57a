package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/onecxi/phone/wire"
)

// config holds the scenarios' durations; the test shortens them.
type config struct {
	resets       int           // resume: drops and resumes
	echoFor      time.Duration // tone streamed before the echo is checked
	drainStream  time.Duration // drain: how long the echo is watched during the drain
	secondSignal time.Duration // cut: from the first SIGTERM to the second
	drainTimeout time.Duration // timeout: the server's -drain-timeout
	resumeGrace  time.Duration // resume: the server's -resume-grace
	settle       time.Duration // resume: audio on the resumed socket before the next drop
}

func defaultConfig() config {
	return config{
		resets:       50,
		echoFor:      time.Second,
		drainStream:  3 * time.Second,
		secondSignal: 3 * time.Second,
		drainTimeout: 2 * time.Second,
		resumeGrace:  3 * time.Second,
		settle:       200 * time.Millisecond,
	}
}

// scenario is one run of a fresh server.
type scenario struct {
	name, title string
	args        []string // the server's flags besides -listen
	run         func(*session) error
}

func scenarios(cfg config) []scenario {
	return []scenario{
		{name: "drain", title: "SIGTERM during a call, the call ends first (default drain timeout, 30 s)", run: drainCallEndsFirst},
		{name: "cut", title: fmt.Sprintf("the drain cut short by a second SIGTERM %v in", cfg.secondSignal), run: drainCutShort},
		{name: "timeout", title: fmt.Sprintf("the drain times out (-drain-timeout %v), the call stays up", cfg.drainTimeout),
			args: []string{"-drain-timeout", cfg.drainTimeout.String()}, run: drainTimesOut},
		{name: "resume", title: fmt.Sprintf("call resumption: %d abrupt drops resumed at once, then one not resumed (-resume-grace %v)", cfg.resets, cfg.resumeGrace),
			args: []string{"-resume-grace", cfg.resumeGrace.String()}, run: resumeScenario},
	}
}

// session is a scenario running: its server, client side and timeline.
type session struct {
	ctx context.Context
	cfg config
	srv *serverProc
	tl  *timeline
}

// runScenario starts a server for s, runs s against it, and stops it. A
// failure carries the server's whole log.
func runScenario(ctx context.Context, bin string, cfg config, s scenario, out io.Writer) error {
	fmt.Fprintf(out, "== %s: %s ==\n", s.name, s.title)
	fmt.Fprintf(out, "server: %s\n", strings.Join(append([]string{filepath.Base(bin), "-listen", "127.0.0.1:0"}, s.args...), " "))
	srv, err := startServer(ctx, bin, s.args...)
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Fprintf(out, "server: pid %d at %s, /readyz 200 %s after the start; times below are from the client's start\n",
		srv.cmd.Process.Pid, srv.ep.base, ms(srv.readyAt.Sub(srv.started)))
	ss := &session{ctx: ctx, cfg: cfg, srv: srv, tl: newTimeline(out)}
	srv.log.follow(ss.tl.server)
	err = s.run(ss)
	srv.log.follow(nil)
	ss.tl.flush()
	if err != nil {
		return fmt.Errorf("%w\nserver log:\n%s", err, srv.log.text())
	}
	return nil
}

// sleep waits d unless the probe is interrupted.
func (s *session) sleep(d time.Duration) error {
	select {
	case <-s.ctx.Done():
		return s.ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// echoCall places an inbound call to the echo DID (naming the resume
// feature if resume), streams the tone, and checks that the echo is the
// tone and /readyz says 200. For a resuming call it also returns the
// resumable message, which must come before answered.
func (s *session) echoCall(resume bool) (*call, *streamer, received, error) {
	var tok received
	c, err := s.srv.ep.dial(s.ctx, resume)
	if err != nil {
		return nil, nil, tok, err
	}
	fail := func(err error) (*call, *streamer, received, error) {
		c.close()
		return nil, nil, tok, err
	}
	if err := c.send(wire.Message{Type: wire.TypeStart, Kind: wire.KindInbound, To: "90000", RegisteredNumber: "1001"}); err != nil {
		return fail(err)
	}
	if resume {
		if tok, err = c.expect(wire.TypeResumable); err != nil {
			return fail(fmt.Errorf("a call with %s: %s: %w", wire.HeaderFeatures, wire.FeatureResume, err))
		}
		s.tl.at(tok.at, "call receives %s", describe(tok.Message))
	}
	ans, err := c.expect(wire.TypeAnswered)
	if err != nil {
		return fail(err)
	}
	s.tl.at(ans.at, "call to the echo DID 90000 receives %s; the client streams %d Hz, 20 ms frames", describe(ans.Message), toneFreq)
	st := startStreamer(c, resume)
	if err := s.sleep(s.cfg.echoFor); err != nil {
		st.stop()
		return fail(err)
	}
	share, at, err := c.hears(toneFreq)
	if err != nil {
		st.stop()
		return fail(err)
	}
	code, _, err := s.srv.ep.get(wire.PathReady)
	if err != nil || code != http.StatusOK {
		st.stop()
		return fail(fmt.Errorf("/readyz during the call: %d %v", code, err))
	}
	s.tl.at(at, "%d Hz echoed back (share %.2f); /readyz 200", toneFreq, share)
	return c, st, tok, nil
}

// sigterm signals the server and puts it on the timeline.
func (s *session) sigterm(what string) (time.Time, error) {
	at, err := s.srv.sigterm()
	if err != nil {
		return at, fmt.Errorf("SIGTERM: %w", err)
	}
	s.tl.at(at, "%s", what)
	return at, nil
}

// drainSigns checks what a client sees when the drain begins: draining{ms}
// on its call (ms about want), /readyz 503 shutting_down while /healthz
// stays 200, and a new /v1/call upgrade refused 503.
func (s *session) drainSigns(c *call, sig time.Time, want time.Duration) error {
	m, err := c.expect(wire.TypeDraining)
	if err != nil {
		return fmt.Errorf("after SIGTERM: %w", err)
	}
	s.tl.at(m.at, "call receives %s, %s after the SIGTERM", describe(m.Message), ms(m.at.Sub(sig)))
	if got := time.Duration(m.MS) * time.Millisecond; got > want || got < want-time.Second {
		return fmt.Errorf("draining ms %d, want about %d", m.MS, want.Milliseconds())
	}
	deadline := time.Now().Add(waitMsg)
	for {
		code, body, err := s.srv.ep.get(wire.PathReady)
		at := time.Now()
		if err != nil {
			return fmt.Errorf("/readyz during the drain: %w", err)
		}
		if code == http.StatusServiceUnavailable {
			if body.Code != wire.CodeShuttingDown {
				return fmt.Errorf("/readyz 503 with code %q, want %q", body.Code, wire.CodeShuttingDown)
			}
			s.tl.at(at, "/readyz %d {\"code\":%q,\"message\":%q}", code, body.Code, body.Message)
			hc, _, err := s.srv.ep.get(wire.PathHealth)
			if err != nil || hc != http.StatusOK {
				return fmt.Errorf("/healthz during the drain: %d %v, want 200", hc, err)
			}
			s.tl.at(time.Now(), "/healthz %d (live)", hc)
			break
		}
		if at.After(deadline) {
			return fmt.Errorf("/readyz still %d %v after the draining message", code, waitMsg)
		}
		time.Sleep(10 * time.Millisecond)
	}
	nc, err := s.srv.ep.dial(s.ctx, false)
	at := time.Now()
	var r *refusal
	switch {
	case err == nil:
		nc.close()
		return errors.New("a new /v1/call upgrade was accepted during the drain")
	case !errors.As(err, &r):
		return fmt.Errorf("a new /v1/call upgrade during the drain: %w", err)
	case r.status != http.StatusServiceUnavailable || r.body.Code != wire.CodeShuttingDown:
		return fmt.Errorf("a new /v1/call upgrade during the drain: %w, want 503 %s", r, wire.CodeShuttingDown)
	}
	s.tl.at(at, "a new /v1/call upgrade: %d %s", r.status, r.body.Code)
	return nil
}

// Audio that counts as "the echo goes on": per second, at least this many
// frames (50 are sent) and the tone share minShare.
const minFramesPerSec = 40

// echoGoesOn watches the echo until until, second by second, and fails if
// some second has too few frames or not the tone.
func (s *session) echoGoesOn(c *call, until time.Time) error {
	start := c.mark()
	var secs float64 // watched, summed over the windows
	minRate, minTone := -1.0, 1.0
	for time.Until(until) > 10*time.Millisecond {
		m := c.mark()
		if err := s.sleep(min(time.Second, time.Until(until))); err != nil {
			return err
		}
		frames, samples := c.since(m)
		d := time.Since(m.at).Seconds()
		rate, share := float64(frames)/d, toneShare(samples)
		if rate < minFramesPerSec || share < minShare {
			return fmt.Errorf("the echo faltered %.1f–%.1fs: %d frames in %.2f s, %d Hz share %.2f",
				s.tl.secs(m.at), s.tl.secs(time.Now()), frames, d, toneFreq, share)
		}
		secs += d
		if minRate < 0 || rate < minRate {
			minRate = rate
		}
		minTone = min(minTone, share)
	}
	frames, samples := c.since(start)
	s.tl.span(start.at, time.Now(), "the echo goes on: %d frames, %.1f a second (each second ≥ %.1f), %d Hz share %.2f (each second ≥ %.2f)",
		frames, float64(frames)/secs, minRate, toneFreq, toneShare(samples), minTone)
	return nil
}

// hangup sends end{reason:"hangup"} and waits for the server to close the
// socket with 1000.
func (s *session) hangup(c *call, st *streamer) (time.Time, error) {
	st.stop()
	at := time.Now()
	if err := c.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup}); err != nil {
		return at, fmt.Errorf("hang up: %w", err)
	}
	s.tl.at(at, "the client hangs up: {\"type\":\"end\",\"reason\":\"hangup\"}")
	code, closed, err := c.waitClosed()
	if err != nil {
		return at, err
	}
	s.tl.at(closed, "the server closes the call's socket: %d", code)
	if code != wire.CloseNormal {
		return at, fmt.Errorf("call socket closed %d after the hang-up, want %d", code, wire.CloseNormal)
	}
	return at, nil
}

// exits waits for the server to exit 0 and puts it on the timeline, the
// time since ref said as since.
func (s *session) exits(ref time.Time, since string) error {
	if err := s.srv.waitExit(); err != nil {
		return err
	}
	s.tl.at(s.srv.exitAt, "the process exits: %s, %s after %s", s.srv.exitStatus(), ms(s.srv.exitAt.Sub(ref)), since)
	if s.srv.exitCode != 0 {
		return fmt.Errorf("onecxi-server ended with %s, want exit code 0", s.srv.exitStatus())
	}
	return nil
}

// logged checks the server logged a line matching the regular expression
// want since t.
func (s *session) logged(t time.Time, want string) error {
	re := regexp.MustCompile(want)
	for _, l := range s.srv.log.since(t) {
		if re.MatchString(l.raw) {
			return nil
		}
	}
	return fmt.Errorf("the server did not log a line matching %s", want)
}

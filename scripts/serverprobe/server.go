package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/onecxi/phone/wire"
)

// Bounds on the server process.
const (
	waitReady = 15 * time.Second // from exec to /readyz 200
	waitExit  = 10 * time.Second // from the moment it should exit
)

// buildServer builds cmd/onecxi-server into dir and returns the binary.
func buildServer(ctx context.Context, dir string) (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(dir, "onecxi-server")
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", bin, "github.com/onecxi/phone/cmd/onecxi-server")
	var msg bytes.Buffer
	cmd.Stdout, cmd.Stderr = &msg, &msg
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/onecxi-server (run serverprobe from inside the repository, or pass -server): %v\n%s", err, msg.Bytes())
	}
	return bin, nil
}

// serverProc is one running onecxi-server.
type serverProc struct {
	cmd     *exec.Cmd
	ep      endpoint // its URL and the demo credentials
	log     *serverLog
	started time.Time
	readyAt time.Time // /readyz first answered 200

	exited   chan struct{} // closed once the process has exited
	exitAt   time.Time
	exitCode int // -1: killed by a signal
	exitErr  error
}

// startServer runs bin with the demo configuration on 127.0.0.1 with a port
// the kernel picks, reads the URL and the API key it prints, and waits for
// /readyz 200.
func startServer(ctx context.Context, bin string, args ...string) (*serverProc, error) {
	s := &serverProc{log: newServerLog(), exited: make(chan struct{})}
	demo := newDemoReader()
	s.cmd = exec.Command(bin, append([]string{"-listen", "127.0.0.1:0"}, args...)...)
	s.cmd.Stdout = demo
	s.cmd.Stderr = s.log
	s.started = time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		err := s.cmd.Wait()
		s.exitAt = time.Now()
		s.exitCode, s.exitErr = s.cmd.ProcessState.ExitCode(), err
		close(s.exited)
	}()
	fail := func(err error) (*serverProc, error) {
		s.stop()
		return nil, fmt.Errorf("%w\nserver output:\n%s", err, s.log.text())
	}
	select {
	case ep := <-demo.found:
		s.ep = ep
	case <-s.exited:
		return fail(fmt.Errorf("onecxi-server exited (%s) before printing its URL and API key", s.exitStatus()))
	case <-time.After(waitReady):
		return fail(fmt.Errorf("onecxi-server printed no URL and API key within %v", waitReady))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	deadline := time.Now().Add(waitReady)
	for {
		if code, _, err := s.ep.get(wire.PathReady); err == nil && code == http.StatusOK {
			s.readyAt = time.Now()
			return s, nil
		}
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("/readyz did not answer 200 within %v", waitReady))
		}
		select {
		case <-s.exited:
			return fail(fmt.Errorf("onecxi-server exited (%s) before /readyz answered 200", s.exitStatus()))
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// sigterm sends SIGTERM and returns when it did.
func (s *serverProc) sigterm() (time.Time, error) {
	at := time.Now()
	return at, s.cmd.Process.Signal(syscall.SIGTERM)
}

func (s *serverProc) running() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// waitExit waits up to waitExit for the process to exit.
func (s *serverProc) waitExit() error {
	select {
	case <-s.exited:
		return nil
	case <-time.After(waitExit):
		return fmt.Errorf("onecxi-server still running %v after it should have exited", waitExit)
	}
}

// exitStatus says how the process ended.
func (s *serverProc) exitStatus() string {
	if s.exitCode >= 0 {
		return fmt.Sprintf("exit code %d", s.exitCode)
	}
	return s.exitErr.Error()
}

// stop ends the process if it still runs: SIGTERM twice (a drain cut
// short), then SIGKILL, and waits for it.
func (s *serverProc) stop() {
	for _, sig := range []os.Signal{syscall.SIGTERM, syscall.SIGTERM, os.Kill} {
		if !s.running() {
			return
		}
		_ = s.cmd.Process.Signal(sig)
		select {
		case <-s.exited:
			return
		case <-time.After(3 * time.Second):
		}
	}
	<-s.exited
}

// demoReader reads the server's stdout and finds the demo server's URL,
// account and API key (cmd/onecxi-server printDemo).
type demoReader struct {
	mu    sync.Mutex
	buf   []byte
	ep    endpoint
	sent  bool
	found chan endpoint
}

func newDemoReader() *demoReader { return &demoReader{found: make(chan endpoint, 1)} }

var demoField = regexp.MustCompile(`(?m)^\s*(server URL|account|API key):\s+(\S+)\s*$`)

func (d *demoReader) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sent {
		return len(p), nil
	}
	d.buf = append(d.buf, p...)
	for _, m := range demoField.FindAllSubmatch(d.buf, -1) {
		switch string(m[1]) {
		case "server URL":
			d.ep.base = string(m[2])
		case "account":
			d.ep.account = string(m[2])
		case "API key":
			d.ep.key = string(m[2])
		}
	}
	if d.ep.base != "" && d.ep.account != "" && d.ep.key != "" {
		d.sent = true
		d.found <- d.ep
	}
	return len(p), nil
}

// logLine is one line of the server's log (slog's text format on stderr),
// with when the probe read it.
type logLine struct {
	at    time.Time
	raw   string
	level string // INFO, WARN, …
	msg   string
	attrs string // the rest: key=value …
}

var slogLine = regexp.MustCompile(`^time=\S+ level=(\S+) msg=("(?:[^"\\]|\\.)*"|\S+) ?(.*)$`)

func parseLogLine(at time.Time, raw string) logLine {
	l := logLine{at: at, raw: raw, msg: raw}
	if m := slogLine.FindStringSubmatch(raw); m != nil {
		l.level, l.msg, l.attrs = m[1], strings.Trim(m[2], `"`), m[3]
	}
	return l
}

// String is the line as the timeline shows it: level (unless INFO),
// message and attributes.
func (l logLine) String() string {
	s := l.msg
	if a := connAttrs.ReplaceAllString(l.attrs, ""); a != "" {
		s += " " + a
	}
	if l.level != "" && l.level != "INFO" {
		s = l.level + " " + s
	}
	return s
}

// relevantLog picks the lines worth showing in a timeline: drain, shutdown,
// call life and resumption.
var relevantLog = regexp.MustCompile(`(?i)drain|shut|signal|call started|call ended|ending calls|connection lost|is back|resum|come back`)

// connAttrs are the attributes every line about a connection has, left
// out of the timeline: the probe is the only client.
var connAttrs = regexp.MustCompile(`\b(account|remote)=\S+ ?`)

// serverLog collects the server's stderr line by line, stamping each with
// the time it was read, and shows the relevant ones as they come.
type serverLog struct {
	mu      sync.Mutex
	partial []byte
	lines   []logLine
	changed chan struct{} // closed and replaced on every new line
	show    func(logLine) // nil: show nothing; called under mu, it must not call back
}

func newServerLog() *serverLog { return &serverLog{changed: make(chan struct{})} }

func (s *serverLog) Write(p []byte) (int, error) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		l := parseLogLine(now, string(s.partial[:i]))
		s.partial = s.partial[i+1:]
		s.lines = append(s.lines, l)
		// Shown before anyone waiting for the line sees it, so the
		// timeline has the server's line before what the probe makes of it.
		if s.show != nil && (relevantLog.MatchString(l.msg) || l.level == "WARN" || l.level == "ERROR") {
			s.show(l)
		}
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return len(p), nil
}

// follow shows every relevant line from now on with f (nil: none).
func (s *serverLog) follow(f func(logLine)) {
	s.mu.Lock()
	s.show = f
	s.mu.Unlock()
}

// since returns the lines read at or after t.
func (s *serverLog) since(t time.Time) []logLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []logLine
	for _, l := range s.lines {
		if !l.at.Before(t) {
			out = append(out, l)
		}
	}
	return out
}

// wait returns the first line read at or after t whose text matches re,
// waiting up to within for it.
func (s *serverLog) wait(re *regexp.Regexp, t time.Time, within time.Duration) (logLine, error) {
	timeout := time.After(within)
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		for _, l := range s.since(t) {
			if re.MatchString(l.raw) {
				return l, nil
			}
		}
		select {
		case <-changed:
		case <-timeout:
			return logLine{}, fmt.Errorf("the server logged no line matching %s within %v", re, within)
		}
	}
}

// text is everything the server has logged.
func (s *serverLog) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, l := range s.lines {
		b.WriteString(l.raw)
		b.WriteByte('\n')
	}
	b.Write(s.partial)
	return b.String()
}

// get asks GET path (wire.PathHealth, wire.PathReady) and returns the
// status and the error body.
func (e endpoint) get(path string) (int, wire.HTTPError, error) {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(e.base + path)
	if err != nil {
		return 0, wire.HTTPError{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var he wire.HTTPError
	if resp.StatusCode != http.StatusOK {
		if err := jsonDecode(body, &he); err != nil {
			return resp.StatusCode, he, fmt.Errorf("%s %d with a body that is not an error object: %q", path, resp.StatusCode, body)
		}
	}
	return resp.StatusCode, he, nil
}

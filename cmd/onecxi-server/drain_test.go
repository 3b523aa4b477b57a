package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/wire"
)

// Bounds on waiting, not assertions about speed.
const (
	waitMsg   = 5 * time.Second
	waitAudio = 10 * time.Second
	tick      = 10 * time.Millisecond
)

// drainServer is onecxi-server running in-process (runDraining) with a
// configuration of one account, acme, whose DID 90000 is the echo.
type drainServer struct {
	t      *testing.T
	url    string
	key    string
	stderr *servertest.SyncBuffer
	signal context.CancelFunc // the first SIGTERM
	cut    context.CancelFunc // the second
	done   chan struct{}      // closed when run has returned
	code   int                // run's exit code, once done
}

func startDrainServer(t *testing.T, args ...string) *drainServer {
	t.Helper()
	key := server.GenerateKey()
	cfg := `{"listen":"127.0.0.1:0","accounts":[{"name":"acme","apiKeyHashes":["` + server.HashKey(key) +
		`"],"dids":{"90000":"echo"}}]}`
	path := filepath.Join(t.TempDir(), "config.json")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	ctx, signal := context.WithCancel(t.Context())
	cut, cutDrain := context.WithCancel(t.Context())
	s := &drainServer{t: t, key: key, stderr: &servertest.SyncBuffer{}, signal: signal, cut: cutDrain, done: make(chan struct{})}
	var stdout servertest.SyncBuffer
	go func() {
		defer close(s.done)
		s.code = runDraining(ctx, cut, append([]string{"-config", path}, args...), nil, &stdout, s.stderr)
	}()
	t.Cleanup(func() {
		signal()
		cutDrain()
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			t.Error("onecxi-server did not stop")
		}
	})
	re := regexp.MustCompile(`url=(http://\S+)`)
	var m []string
	require.Eventually(t, func() bool {
		m = re.FindStringSubmatch(s.stderr.String())
		return m != nil
	}, waitMsg, tick, "serving log line: %s", s.stderr.String())
	s.url = m[1]
	return s
}

// exited waits for run's exit code.
func (s *drainServer) exited() int {
	s.t.Helper()
	select {
	case <-s.done:
		return s.code
	case <-time.After(waitMsg):
		s.t.Fatalf("onecxi-server still running after %v; log:\n%s", waitMsg, s.stderr.String())
		return -1
	}
}

func (s *drainServer) running() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

func (s *drainServer) get(path string) (int, wire.HTTPError) {
	s.t.Helper()
	resp, err := http.Get(s.url + path)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	var e wire.HTTPError
	_ = json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e
}

// echoCall is a call to the echo DID that sends a tone and records what
// comes back.
type echoCall struct {
	t     *testing.T
	conn  *wire.Conn
	msgs  chan wire.Message
	done  chan struct{}
	close int // close code from the server, once done

	mu      sync.Mutex
	samples []int16
	frames  int

	out      servertest.Frames
	stopTone func() // ends the tone, once it has started
}

func (s *drainServer) echoCall(freq float64) *echoCall {
	s.t.Helper()
	h := http.Header{}
	wire.SetCredentials(h, "acme", s.key)
	d := websocket.Dialer{Subprotocols: []string{wire.Subprotocol}, HandshakeTimeout: waitMsg}
	ws, resp, err := d.Dial(strings.Replace(s.url, "http", "ws", 1)+wire.PathCall, h)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	require.NoError(s.t, err)
	c := &echoCall{t: s.t, msgs: make(chan wire.Message, 64), done: make(chan struct{}), stopTone: func() {}}
	ws.SetCloseHandler(func(code int, _ string) error {
		c.close = code
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
		return nil
	})
	c.conn = wire.NewConn(ws, nil)
	go func() {
		defer close(c.done)
		_ = c.conn.Run(context.Background(), wire.Handlers{
			OnMessage: func(m wire.Message) { c.msgs <- m },
			OnAudio: func(raw []byte) {
				f, err := wire.DecodeAudio(raw, nil)
				if err != nil {
					return
				}
				c.mu.Lock()
				c.samples = append(c.samples, f.Samples...)
				c.frames++
				c.mu.Unlock()
			},
		})
	}()
	s.t.Cleanup(func() {
		c.stopTone()
		c.conn.Close(wire.CloseGoingAway, "test over")
		<-c.done
	})
	require.NoError(s.t, c.conn.Send(wire.Message{Type: wire.TypeStart, Kind: wire.KindInbound, To: "90000", RegisteredNumber: "1001"}))
	c.expect(wire.TypeAnswered)
	c.out.From(1)
	c.stopTone = servertest.StreamTone(freq, c.done, func(samples []int16) { c.conn.SendAudio(c.out.Next(samples)) })
	return c
}

func (c *echoCall) expect(typ wire.Type) wire.Message {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		require.Equal(c.t, typ, m.Type, "got %+v", m)
		return m
	case <-time.After(waitMsg):
		c.t.Fatalf("no %s within %v", typ, waitMsg)
		return wire.Message{}
	}
}

// hears reports whether the last 200 ms that came back are mostly freq.
func (c *echoCall) hears(freq float64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.samples[max(0, len(c.samples)-1600):]
	return len(s) == 1600 && dsp.ToneShare(s, freq) > 0.5
}

func (c *echoCall) received() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames
}

func (c *echoCall) waitClosed() int {
	c.t.Helper()
	select {
	case <-c.done:
		return c.close
	case <-time.After(waitMsg):
		c.t.Fatalf("call still open after %v", waitMsg)
		return 0
	}
}

// TestSIGTERMKeepsALiveCallUntilItEnds is issue 13's "the server restarted
// with drain keeps a live call until it ends": SIGTERM (run's context
// ending) during an echo call, the call's audio goes on, and the server
// exits once the caller hangs up.
func TestSIGTERMKeepsALiveCallUntilItEnds(t *testing.T) {
	s := startDrainServer(t)
	c := s.echoCall(440)
	require.Eventually(t, func() bool { return c.hears(440) }, waitAudio, tick, "echo before SIGTERM")

	s.signal()
	d := c.expect(wire.TypeDraining)
	assert.InDelta(t, server.DefaultDrainTimeout.Milliseconds(), d.MS, 1000)
	status, e := s.get(wire.PathReady)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, wire.CodeShuttingDown, e.Code)
	status, _ = s.get(wire.PathHealth)
	assert.Equal(t, http.StatusOK, status, "liveness stays 200 during the drain")

	// A second of audio after the notice still comes back.
	after := c.received()
	require.Eventually(t, func() bool { return c.received() >= after+50 && c.hears(440) }, waitAudio, tick,
		"echo during the drain")
	assert.True(t, s.running(), "the server waits for the call")

	c.stopTone()
	require.NoError(t, c.conn.Send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup}))
	assert.Equal(t, wire.CloseNormal, c.waitClosed())
	assert.Equal(t, exitOK, s.exited())
	log := s.stderr.String()
	assert.Regexp(t, `msg=draining calls=1 `, log)
	assert.Contains(t, log, "drained: all calls finished")
	assert.NotContains(t, log, "ending calls at shutdown")
}

func TestSecondSignalCutsTheDrainShort(t *testing.T) {
	s := startDrainServer(t)
	c := s.echoCall(440)
	s.signal()
	c.expect(wire.TypeDraining)
	s.cut()
	m := c.expect(wire.TypeEnd)
	assert.Equal(t, wire.ReasonShutdown, m.Reason)
	assert.Equal(t, wire.CloseGoingAway, c.waitClosed())
	assert.Equal(t, exitOK, s.exited())
	log := s.stderr.String()
	assert.Contains(t, log, "second signal: cutting the drain short")
	assert.Contains(t, log, "drain cut short by shutdown")
	assert.Contains(t, log, `msg="ending calls at shutdown" calls=1`)
}

func TestDrainTimeoutFlagEndsTheCallWithShutdown(t *testing.T) {
	s := startDrainServer(t, "-drain-timeout", "300ms")
	c := s.echoCall(440)
	began := time.Now()
	s.signal()
	assert.LessOrEqual(t, c.expect(wire.TypeDraining).MS, int64(300))
	assert.Equal(t, wire.ReasonShutdown, c.expect(wire.TypeEnd).Reason)
	assert.GreaterOrEqual(t, time.Since(began), 300*time.Millisecond)
	assert.Equal(t, wire.CloseGoingAway, c.waitClosed())
	assert.Equal(t, exitOK, s.exited())
	assert.Regexp(t, `drain timeout: calls still live will be cut" calls=1 `, s.stderr.String())
}

func TestDrainTimeoutZeroEndsCallsAtOnce(t *testing.T) {
	s := startDrainServer(t, "-drain-timeout", "0")
	c := s.echoCall(440)
	s.signal()
	assert.Equal(t, wire.ReasonShutdown, c.expect(wire.TypeEnd).Reason, "no draining notice first")
	assert.Equal(t, exitOK, s.exited())
	assert.NotContains(t, s.stderr.String(), "msg=draining")
}

func TestDrainTimeoutFlagErrors(t *testing.T) {
	for _, v := range []string{"soon", "-1s", "2h"} {
		var stdout, stderr servertest.SyncBuffer
		code := run(t.Context(), []string{"-drain-timeout", v}, nil, &stdout, &stderr)
		assert.Equal(t, exitUsage, code, v)
		assert.Contains(t, stderr.String(), "drain-timeout", v)
	}
}

package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/wire"
)

const reasonControlRate = "control message rate exceeded"

func TestParseConfigLimitsErrors(t *testing.T) {
	t.Parallel()
	account := `"accounts":[{"name":"a","apiKeyHashes":["` + goodHash + `"]}]`
	tests := []struct {
		name   string
		limits string
		want   []string
	}{
		{"calls per account below -1", `"callsPerAccount":-2`, []string{"limits.callsPerAccount:", "-2"}},
		{"events per account below -1", `"eventConnsPerAccount":-100`, []string{"limits.eventConnsPerAccount:"}},
		{"control rate below -1", `"controlPerSecond":-5`, []string{"limits.controlPerSecond:"}},
		{"control burst off", `"controlBurst":-1`, []string{"limits.controlBurst:"}},
		{"auth failures below -1", `"authFailures":-7`, []string{"limits.authFailures:"}},
		{"auth window not a duration", `"authWindow":"a while"`, []string{"limits.authWindow:", "a while"}},
		{"auth back-off negative", `"authBackoff":"-1s"`, []string{"limits.authBackoff:"}},
		{"auth back-off cap huge", `"authBackoffMax":"48h"`, []string{"limits.authBackoffMax:"}},
		{"auth back-off over its cap", `"authBackoff":"10m"`, []string{"limits.authBackoff:", "authBackoffMax"}},
		{"auth back-off over a given cap", `"authBackoff":"2s","authBackoffMax":"1s"`, []string{"limits.authBackoff:"}},
		{"wrong type", `"callsPerAccount":"many"`, []string{"callsPerAccount"}},
		{"unknown field", `"callsPerTenant":5`, []string{`unknown field "callsPerTenant"`}},
		{"several at once", `"callsPerAccount":-9,"authWindow":"-1m"`, []string{"limits.callsPerAccount:", "limits.authWindow:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := server.ParseConfig([]byte(`{"limits":{` + tt.limits + `},` + account + `}`))
			require.Error(t, err)
			assert.ErrorIs(t, err, server.ErrInvalidConfig)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestLimitsValidate(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig()
	cfg.Limits = server.Limits{EventConnsPerAccount: -3, ControlBurst: -1, AuthBackoffMax: -time.Second}
	_, err := server.New(cfg)
	require.ErrorIs(t, err, server.ErrInvalidConfig)
	for _, w := range []string{"limits.eventConnsPerAccount", "limits.controlBurst", "limits.authBackoffMax"} {
		assert.Contains(t, err.Error(), w)
	}
}

func TestParseConfigLimits(t *testing.T) {
	t.Parallel()
	account := `"accounts":[{"name":"a","apiKeyHashes":["` + goodHash + `"]}]`
	tests := []struct {
		name   string
		limits string
		want   server.Limits
	}{
		{"defaults", ``, server.Limits{CallsPerAccount: 500, EventConnsPerAccount: 2000, ControlPerSecond: 20, ControlBurst: 40,
			AuthFailures: 5, AuthWindow: time.Minute, AuthBackoff: time.Second, AuthBackoffMax: 5 * time.Minute}},
		{"zero is the default", `,"limits":{"callsPerAccount":0,"authWindow":""}`, server.Limits{CallsPerAccount: 500,
			EventConnsPerAccount: 2000, ControlPerSecond: 20, ControlBurst: 40,
			AuthFailures: 5, AuthWindow: time.Minute, AuthBackoff: time.Second, AuthBackoffMax: 5 * time.Minute}},
		{"set", `,"limits":{"callsPerAccount":50,"eventConnsPerAccount":60,"controlPerSecond":5,"controlBurst":8,` +
			`"authFailures":3,"authWindow":"30s","authBackoff":"2s","authBackoffMax":"1m"}`,
			server.Limits{CallsPerAccount: 50, EventConnsPerAccount: 60, ControlPerSecond: 5, ControlBurst: 8,
				AuthFailures: 3, AuthWindow: 30 * time.Second, AuthBackoff: 2 * time.Second, AuthBackoffMax: time.Minute}},
		{"off", `,"limits":{"callsPerAccount":-1,"eventConnsPerAccount":-1,"controlPerSecond":-1,"authFailures":-1}`,
			server.Limits{CallsPerAccount: -1, EventConnsPerAccount: -1, ControlPerSecond: -1, ControlBurst: 40,
				AuthFailures: -1, AuthWindow: time.Minute, AuthBackoff: time.Second, AuthBackoffMax: 5 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := server.ParseConfig([]byte(`{` + account + tt.limits + `}`))
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.Limits)
		})
	}
}

// dialFrom returns a dialer whose connections come from ip: another
// loopback address stands for another client. Where the system cannot send
// from it (127.0.0.2 and up need no set-up on Linux), the test is skipped.
func (h *harness) dialFrom(ip string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	h.t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: waitMsg}
	probe, err := d.Dial("tcp", strings.TrimPrefix(h.base, "http://"))
	if err != nil {
		h.t.Skipf("cannot connect from %s: %v", ip, err)
	}
	probe.Close()
	return d.DialContext
}

// authCheckFrom is POST /v1/auth/check from ip with the given credentials.
func (h *harness) authCheckFrom(ip, account, key string, forwardedFor ...string) *http.Response {
	h.t.Helper()
	client := &http.Client{Timeout: waitMsg, Transport: &http.Transport{DialContext: h.dialFrom(ip)}}
	req, err := http.NewRequest(http.MethodPost, h.base+wire.PathAuthCheck, nil)
	require.NoError(h.t, err)
	wire.SetCredentials(req.Header, account, key)
	for _, f := range forwardedFor {
		req.Header.Add("X-Forwarded-For", f)
	}
	resp, err := client.Do(req)
	require.NoError(h.t, err)
	resp.Body.Close()
	client.CloseIdleConnections()
	return resp
}

// syncClock is a clock tests move by hand, safe for the server's
// goroutines.
type syncClock struct {
	mu sync.Mutex
	t  time.Time
}

func newSyncClock() *syncClock { return &syncClock{t: time.Unix(1_700_000_000, 0)} }

func (c *syncClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *syncClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func requireTooMany(t *testing.T, resp *http.Response, retryAfter int) {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, strconv.Itoa(retryAfter), resp.Header.Get("Retry-After"))
}

func TestAuthBackoff(t *testing.T) {
	t.Parallel()
	clk := newSyncClock()
	h := newHarness(t, harnessOpts{options: []server.Option{server.WithAuthClock(clk.Now)}})
	const here, there = "127.0.0.1", "127.0.0.2"
	acme, globex := h.keys["acme"], h.keys["globex"]

	for range server.DefaultAuthFailures {
		require.Equal(t, http.StatusUnauthorized, h.authCheckFrom(here, "acme", globex).StatusCode)
	}
	// The address and the account are in a 1 s back-off: the right key
	// does not unlock either early.
	resp, e := h.request(http.MethodPost, wire.PathAuthCheck, "acme")
	requireTooMany(t, resp, 1)
	assert.Equal(t, wire.CodeTooManyRequests, e.Code)
	requireTooMany(t, h.authCheckFrom(here, "globex", globex), 1)
	requireTooMany(t, h.authCheckFrom(there, "acme", acme), 1)
	// Another address for another account is not held back.
	assert.Equal(t, http.StatusOK, h.authCheckFrom(there, "globex", globex).StatusCode)
	// WebSocket upgrades are refused before any WebSocket exists.
	_, resp, err := h.dialRaw(wire.PathEvents+"?registeredNumber=1002", h.creds("acme"), []string{wire.Subprotocol})
	require.Error(t, err)
	requireTooMany(t, resp, 1)

	// Once it ends, the right key works; a success forgives nothing, so the
	// next failure starts a back-off twice as long, and so on to the cap.
	clk.Advance(time.Second)
	require.Equal(t, http.StatusOK, h.authCheckFrom(here, "acme", acme).StatusCode)
	for _, want := range []int{2, 4, 8, 16, 32, 64, 128, 256, 300, 300} {
		require.Equal(t, http.StatusUnauthorized, h.authCheckFrom(here, "acme", globex).StatusCode)
		requireTooMany(t, h.authCheckFrom(here, "acme", acme), want)
		clk.Advance(time.Duration(want-1) * time.Second)
		requireTooMany(t, h.authCheckFrom(here, "acme", acme), 1)
		clk.Advance(time.Second)
	}

	// A quiet window after the last back-off forgives all: five failures
	// again before the next.
	clk.Advance(server.DefaultAuthWindow)
	require.Equal(t, http.StatusOK, h.authCheckFrom(here, "acme", acme).StatusCode)
	for range server.DefaultAuthFailures - 1 {
		require.Equal(t, http.StatusUnauthorized, h.authCheckFrom(here, "acme", globex).StatusCode)
	}
	require.Equal(t, http.StatusOK, h.authCheckFrom(here, "acme", acme).StatusCode)
}

// Failures from one address for one account hold back that address and
// that account only.
func TestAuthBackoffSparesOtherAccountsAndAddresses(t *testing.T) {
	t.Parallel()
	clk := newSyncClock()
	h := newHarness(t, harnessOpts{options: []server.Option{server.WithAuthClock(clk.Now)}})
	for range 20 {
		resp := h.authCheckFrom("127.0.0.2", "globex", "ocx_wrong")
		require.Contains(t, []int{http.StatusUnauthorized, http.StatusTooManyRequests}, resp.StatusCode)
	}
	requireTooMany(t, h.authCheckFrom("127.0.0.2", "globex", "ocx_wrong"), 1)
	assert.Equal(t, http.StatusOK, h.authCheckFrom("127.0.0.1", "acme", h.keys["acme"]).StatusCode)
	a := h.call("A", "acme", inbound("90000", "1001"))
	a.expect(wire.TypeAnswered)
	requireTooMany(t, h.authCheckFrom("127.0.0.1", "globex", h.keys["globex"]), 1)
}

// Behind a trusted load balancer the back-off holds back the client its
// X-Forwarded-For names, not the balancer (and so every other client);
// the header of a peer that is not trusted changes nothing.
func TestAuthBackoffBehindATrustedProxy(t *testing.T) {
	t.Parallel()
	clk := newSyncClock()
	h := newHarness(t, harnessOpts{options: []server.Option{server.WithAuthClock(clk.Now)},
		mutate: func(c *server.Config) { c.TrustedProxies = []string{"127.0.0.2"} }})
	const proxy, direct = "127.0.0.2", "127.0.0.3"
	// An untrusted peer cannot pick whose address it is: its failures
	// count against itself, whatever header it sends.
	for i := range server.DefaultAuthFailures {
		require.Equal(t, http.StatusUnauthorized, h.authCheckFrom(direct, "acme", "ocx_wrong", fmt.Sprintf("198.51.100.%d", i)).StatusCode)
	}
	requireTooMany(t, h.authCheckFrom(direct, "globex", h.keys["globex"], "198.51.100.99"), 1)
	clk.Advance(server.DefaultAuthWindow + time.Second) // all forgiven

	for range server.DefaultAuthFailures {
		require.Equal(t, http.StatusUnauthorized, h.authCheckFrom(proxy, "globex", "ocx_wrong", "203.0.113.9").StatusCode)
	}
	requireTooMany(t, h.authCheckFrom(proxy, "globex", h.keys["globex"], "203.0.113.9"), 1)
	assert.Equal(t, http.StatusOK, h.authCheckFrom(proxy, "acme", h.keys["acme"], "198.51.100.4").StatusCode,
		"another client behind the same balancer is not held back")
	requireTooMany(t, h.authCheckFrom(proxy, "acme", h.keys["acme"], "203.0.113.9"), 1)
}

func TestAuthBackoffOff(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{mutate: func(c *server.Config) { c.Limits.AuthFailures = server.NoLimit }})
	for range 3 * server.DefaultAuthFailures {
		require.Equal(t, http.StatusUnauthorized, h.authCheckFrom("127.0.0.1", "acme", "ocx_wrong").StatusCode)
	}
	assert.Equal(t, http.StatusOK, h.authCheckFrom("127.0.0.1", "acme", h.keys["acme"]).StatusCode)
}

// logCapture is a slog handler that keeps every record.
type logCapture struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *logCapture) WithGroup(string) slog.Handler            { return c }
func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, r.Clone())
	return nil
}

// records returns the records with message msg.
func (c *logCapture) records(msg string) []slog.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []slog.Record
	for _, r := range c.recs {
		if r.Message == msg {
			out = append(out, r)
		}
	}
	return out
}

func (c *logCapture) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, r := range c.recs {
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
			return true
		})
		b.WriteByte('\n')
	}
	return b.String()
}

func attr(r slog.Record, key string) slog.Value {
	var v slog.Value
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value
			return false
		}
		return true
	})
	return v
}

func TestAuthFailureLogIsSampled(t *testing.T) {
	t.Parallel()
	const (
		failed  = "authentication failed"
		again   = "authentication failed again"
		backoff = "authentication back-off"
		dropped = "authentication log lines suppressed"
	)
	type lines struct{ failed, again, backoffs, dropped int }
	tests := []struct {
		name    string
		limits  server.Limits
		account func(i int) string // of the i-th of 100 failures in an instant
		flood   lines
		// After a minute's pause and one failure more as account(0): the
		// lines added, what the summary counts and the budget line.
		after         lines
		againFailures int64
		droppedLines  int64
	}{
		{name: "one address, one account", limits: server.Limits{AuthFailures: server.NoLimit},
			account: func(int) string { return "acme" },
			flood:   lines{failed: 1}, after: lines{again: 1}, againFailures: 100},
		{name: "one address, a new account name each time", limits: server.Limits{AuthFailures: server.NoLimit},
			account: func(i int) string { return fmt.Sprint("guess", i) },
			flood:   lines{failed: 20}, after: lines{again: 1, dropped: 1}, againFailures: 1, droppedLines: 80},
		{name: "with the back-off", limits: server.Limits{},
			account: func(int) string { return "acme" },
			// Five reach the check, the rest are refused 429 unlogged.
			flood: lines{failed: 1, backoffs: 2}, after: lines{again: 1, backoffs: 2}, againFailures: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logs := &logCapture{}
			clk := newSyncClock()
			h := newHarness(t, harnessOpts{mutate: func(c *server.Config) { c.Limits = tt.limits },
				options: []server.Option{server.WithLogger(slog.New(logs)), server.WithAuthClock(clk.Now)}})
			const key = "ocx_the-wrong-key-0123456789"
			count := func() lines {
				return lines{len(logs.records(failed)), len(logs.records(again)),
					len(logs.records(backoff+" for a client address")) + len(logs.records(backoff+" for an account")),
					len(logs.records(dropped))}
			}
			for i := range 100 {
				resp := h.authCheckFrom("127.0.0.1", tt.account(i), key)
				require.Contains(t, []int{http.StatusUnauthorized, http.StatusTooManyRequests}, resp.StatusCode)
			}
			require.Equal(t, tt.flood, count(), logs.text())

			clk.Advance(time.Minute)
			require.Equal(t, http.StatusUnauthorized, h.authCheckFrom("127.0.0.1", tt.account(0), key).StatusCode)
			got := count()
			require.Equal(t, tt.after, lines{got.failed - tt.flood.failed, got.again - tt.flood.again,
				got.backoffs - tt.flood.backoffs, got.dropped - tt.flood.dropped}, logs.text())
			// The summary counts every failure since the pair's last line.
			assert.Equal(t, tt.againFailures, attr(logs.records(again)[0], "failures").Int64())
			if tt.droppedLines > 0 {
				assert.Equal(t, tt.droppedLines, attr(logs.records(dropped)[0], "lines").Int64())
			}
			assert.NotContains(t, logs.text(), key[:len(key)-4], "keys are never logged")
		})
	}
}

func TestEventConnsPerAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{mutate: func(c *server.Config) { c.Limits.EventConnsPerAccount = 3 }})
	var evs []*client
	for i := range 3 {
		evs = append(evs, h.eventsFor(fmt.Sprint("ev", i), "acme", "1002"))
	}
	path := wire.PathEvents + "?registeredNumber=1002"
	_, resp, err := h.dialRaw(path, h.creds("acme"), []string{wire.Subprotocol})
	require.Error(t, err)
	requireTooMany(t, resp, 5)
	var e wire.HTTPError
	require.NoError(t, jsonBody(resp, &e))
	assert.Equal(t, wire.CodeTooManyRequests, e.Code)
	assert.Contains(t, e.Message, "events connections")

	// Another account has its own.
	h.eventsFor("globex", "globex", "1002")

	// The count recovers when a connection closes.
	evs[0].conn.Close(wire.CloseNormal, "")
	evs[0].waitClosed()
	require.Eventually(t, func() bool {
		ws, resp, err := h.dialRaw(path, h.creds("acme"), []string{wire.Subprotocol})
		if err != nil {
			require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
			return false
		}
		ws.Close()
		return true
	}, waitMsg, tick)
}

func jsonBody(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// The cap is exact however many upgrades race, and comes back whole once
// they close.
func TestEventConnsPerAccountUnderConcurrency(t *testing.T) {
	t.Parallel()
	const limit, tries = 10, 40
	h := newHarness(t, harnessOpts{mutate: func(c *server.Config) { c.Limits.EventConnsPerAccount = limit }})
	// race dials tries connections at once and closes those that opened.
	race := func() (opened, refused int) {
		var wg sync.WaitGroup
		var open, tooMany atomic.Int32
		var mu sync.Mutex
		var conns []*websocket.Conn
		for range tries {
			wg.Go(func() {
				ws, resp, err := h.dialRaw(wire.PathEvents+"?registeredNumber=1002", h.creds("acme"), []string{wire.Subprotocol})
				if err != nil {
					if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
						tooMany.Add(1)
					}
					return
				}
				open.Add(1)
				mu.Lock()
				conns = append(conns, ws)
				mu.Unlock()
			})
		}
		wg.Wait()
		for _, ws := range conns {
			ws.Close()
		}
		return int(open.Load()), int(tooMany.Load())
	}
	opened, refused := race()
	require.Equal(t, limit, opened)
	require.Equal(t, tries-limit, refused)
	// Once the connections are gone, the whole cap again (and never more).
	require.Eventually(t, func() bool {
		opened, refused := race()
		require.LessOrEqual(t, opened, limit)
		require.Equal(t, tries, opened+refused)
		return opened == limit
	}, waitMsg, 50*time.Millisecond)
}

func TestCallsPerAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{mutate: func(c *server.Config) { c.Limits.CallsPerAccount = 2 }})
	a1 := h.call("A1", "acme", inbound("90000", "1001"))
	a1.expect(wire.TypeAnswered)
	a2 := h.call("A2", "acme", inbound("90050", "1002"))
	a2.expect(wire.TypeAnswered)

	a3 := h.call("A3", "acme", inbound("90000", "1003"))
	e := a3.expectError(wire.CodeTooManyRequests)
	assert.Contains(t, e.Message, "account")
	a3.waitClosed()
	rejected := h.events.waitFor(t, server.EventRejected, "")
	assert.Equal(t, string(wire.CodeTooManyRequests), rejected.Reason)

	// Another account has its own.
	g := h.call("G", "globex", inbound("90000", "1001"))
	g.expect(wire.TypeAnswered)

	// The count recovers when a call ends.
	a1.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
	a1.waitClosed()
	require.Eventually(t, func() bool { return h.srv.Stats().ActiveCalls == 2 }, waitMsg, tick)
	a4 := h.call("A4", "acme", inbound("90000", "1004"))
	a4.expect(wire.TypeAnswered)
}

// An account's call connections (started or not) are bounded at twice its
// calls, before any WebSocket exists.
func TestCallConnsPerAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{mutate: func(c *server.Config) { c.Limits.CallsPerAccount = 2 }})
	var legs []*client
	for i := range 4 {
		legs = append(legs, h.connect(fmt.Sprint("L", i), wire.PathCall, "acme"))
	}
	_, resp, err := h.dialRaw(wire.PathCall, h.creds("acme"), []string{wire.Subprotocol})
	require.Error(t, err)
	requireTooMany(t, resp, 5)
	var e wire.HTTPError
	require.NoError(t, jsonBody(resp, &e))
	assert.Equal(t, wire.CodeTooManyRequests, e.Code)

	g := h.call("G", "globex", inbound("90000", "1001"))
	g.expect(wire.TypeAnswered)

	legs[0].conn.Close(wire.CloseNormal, "")
	legs[0].waitClosed()
	require.Eventually(t, func() bool {
		ws, _, err := h.dialRaw(wire.PathCall, h.creds("acme"), []string{wire.Subprotocol})
		if err == nil {
			ws.Close()
		}
		return err == nil
	}, waitMsg, tick)
}

// rawClient is a bare WebSocket that reports each reply (a message or a
// pong) and, at the end, the close the server sent.
type rawClient struct {
	ws      *websocket.Conn
	replies chan wire.Message
	done    chan struct{}
	err     error // why reading stopped, once done is closed
}

func (h *harness) rawClient(path, account string) *rawClient {
	h.t.Helper()
	ws, resp, err := h.dialRaw(path, h.creds(account), []string{wire.Subprotocol})
	require.NoError(h.t, err)
	resp.Body.Close()
	c := &rawClient{ws: ws, replies: make(chan wire.Message, 1024), done: make(chan struct{})}
	ws.SetPongHandler(func(string) error {
		c.replies <- wire.Message{Type: wire.TypePong}
		return nil
	})
	go func() {
		defer close(c.done)
		for {
			kind, b, err := ws.ReadMessage()
			if err != nil {
				c.err = err
				return
			}
			if kind != websocket.TextMessage {
				continue
			}
			m, _ := wire.Decode(b)
			c.replies <- m
		}
	}()
	h.t.Cleanup(func() { ws.Close(); <-c.done })
	return c
}

func (c *rawClient) next(t *testing.T) wire.Message {
	t.Helper()
	select {
	case m := <-c.replies:
		return m
	case <-time.After(waitMsg):
		t.Fatalf("no reply within %v", waitMsg)
		return wire.Message{}
	}
}

// floodUntilClosed sends one message at a time, each after the reply to
// the last, until the server closes; it returns how many were sent and the
// close. Waiting for replies leaves nothing unread when the server closes.
func (c *rawClient) floodUntilClosed(t *testing.T, send func() error) (int, *websocket.CloseError) {
	t.Helper()
	closed := func() *websocket.CloseError {
		select {
		case <-c.done:
		case <-time.After(waitMsg):
			t.Fatalf("still open %v after the last message", waitMsg)
		}
		var ce *websocket.CloseError
		require.ErrorAs(t, c.err, &ce)
		return ce
	}
	for n := 1; n <= 1000; n++ {
		if err := send(); err != nil {
			return n, closed()
		}
		select {
		case <-c.replies:
		case <-c.done:
			return n, closed()
		case <-time.After(waitMsg):
			t.Fatalf("no reply to message %d within %v", n, waitMsg)
		}
	}
	t.Fatal("still open after 1000 messages")
	return 0, nil
}

func TestControlMessageRate(t *testing.T) {
	t.Parallel()
	const burst = 10
	h := newHarness(t, harnessOpts{mutate: func(c *server.Config) {
		c.Limits.ControlPerSecond, c.Limits.ControlBurst = 1, burst
	}})
	ping := func(c *rawClient) func() error {
		return func() error { return c.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping","ts":1}`)) }
	}
	wsPing := func(c *rawClient) func() error {
		return func() error { return c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)) }
	}
	bad := func(c *rawClient) func() error {
		return func() error {
			return c.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"status","ref":1,"colour":1}`))
		}
	}
	status := func(c *rawClient) func() error {
		return func() error { return c.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"status","ref":2}`)) }
	}
	events := func(t *testing.T) (*rawClient, int) {
		c := h.rawClient(wire.PathEvents+"?registeredNumber=1002", "acme")
		require.Equal(t, wire.TypeHello, c.next(t).Type)
		return c, 0
	}
	var number atomic.Int32 // parallel calls, each its own number
	echoCall := func(t *testing.T) (*rawClient, int) {
		c := h.rawClient(wire.PathCall, "acme")
		start := fmt.Sprintf(`{"type":"start","kind":"inbound","to":"90000","registeredNumber":"%d"}`, 4000+number.Add(1))
		require.NoError(t, c.ws.WriteMessage(websocket.TextMessage, []byte(start)))
		require.Equal(t, wire.TypeAnswered, c.next(t).Type)
		return c, 1 // start counts
	}
	tests := []struct {
		name string
		open func(t *testing.T) (*rawClient, int)
		send func(*rawClient) func() error
	}{
		{"events: ping messages", events, ping},
		{"events: WebSocket pings", events, wsPing},
		{"events: malformed messages", events, bad},
		{"call: status requests", echoCall, status},
		{"call: ping messages", echoCall, ping},
		{"call: WebSocket pings", echoCall, wsPing},
		{"call: malformed messages", echoCall, bad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, used := tt.open(t)
			n, ce := c.floodUntilClosed(t, tt.send(c))
			assert.Equal(t, wire.ClosePolicy, ce.Code)
			assert.Equal(t, reasonControlRate, ce.Text)
			// The burst, and what trickled in meanwhile at 1/s.
			assert.GreaterOrEqual(t, used+n, burst+1)
			assert.Less(t, used+n, burst+1+int(waitMsg/time.Second))
		})
	}
}

// A call leg over the rate has hung up: the far party gets the normal end.
func TestControlMessageRateHangsUpTheLeg(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, b, callID := connectAB(t, h)
	for i := range server.DefaultControlBurst + 5 {
		if a.conn.Send(wire.Message{Type: wire.TypeStatus, Ref: uint32(i + 1)}) != nil {
			break
		}
	}
	assert.Equal(t, wire.ClosePolicy, a.waitClosed())
	assert.Equal(t, wire.ReasonRemote, b.expectSkipping(wire.TypeEnd).Reason)
	assert.Equal(t, wire.CloseNormal, b.waitClosed())
	assert.Equal(t, wire.ReasonHangup, h.events.waitFor(t, server.EventEnded, callID).Reason)
	require.Eventually(t, func() bool { return h.srv.Stats().ActiveCalls == 0 }, waitMsg, tick)
}

// Audio frames are not control messages: a leg sending them as fast as it
// can keeps its call.
func TestAudioDoesNotCountAsControl(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{mutate: func(c *server.Config) {
		c.Limits.ControlPerSecond, c.Limits.ControlBurst = 1, 2
	}})
	a := h.call("A", "acme", inbound("90000", "1001"))
	a.expect(wire.TypeAnswered)
	samples := make([]int16, wire.FrameSamples)
	sent := 0
	for sent < 2000 {
		if a.conn.SendAudio(wire.AudioFrame{Seq: uint32(seqA + sent), Timestamp: uint32(sent * wire.FrameSamples), Samples: samples}) {
			sent++
		} else {
			time.Sleep(time.Millisecond) // the client's own queue is full
		}
	}
	a.send(wire.Message{Type: wire.TypeStatus, Ref: 1})
	st := a.expectSkipping(wire.TypeStatus)
	assert.Equal(t, "active", st.State)
	require.Eventually(t, func() bool { return h.srv.Stats().FramesRelayed > 0 }, waitMsg, tick)
	assert.Zero(t, a.close.Load(), "still open")
}

// A busy tenant cannot slow another tenant's calls: while acme holds every
// events connection it may, sends control messages at the rate limit on
// each of them and on a call, and hammers authentication with wrong keys
// from another address, globex sets up an echo call promptly and hears its
// tone both ways.
func TestBusyTenantDoesNotSlowAnother(t *testing.T) {
	t.Parallel()
	const conns = 50
	h := newHarness(t, harnessOpts{mutate: func(c *server.Config) { c.Limits.EventConnsPerAccount = conns }})
	dialAttacker := h.dialFrom("127.0.0.2")

	// acme: every events connection it may have, and one more refused.
	var evs []*client
	for i := range conns {
		evs = append(evs, h.eventsFor(fmt.Sprint("acme-ev", i), "acme", fmt.Sprint(3000+i)))
	}
	_, resp, err := h.dialRaw(wire.PathEvents+"?registeredNumber=1002", h.creds("acme"), []string{wire.Subprotocol})
	require.Error(t, err)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	acmeCall := h.call("acme-call", "acme", inbound("90050", "1001"))
	acmeCall.expect(wire.TypeAnswered)

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var controls, authRefused, authFailed atomic.Int64
	flood := func(c *client, m wire.Message) {
		wg.Go(func() {
			// At the rate limit: one message per 1/ControlPerSecond.
			tk := time.NewTicker(time.Second / server.DefaultControlPerSecond)
			defer tk.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-c.msgs: // drain replies
				case <-tk.C:
					if c.conn.Send(m) == nil {
						controls.Add(1)
					}
				}
			}
		})
	}
	for _, ev := range evs {
		flood(ev, wire.Message{Type: wire.TypePing, TS: 1})
	}
	flood(acmeCall, wire.Message{Type: wire.TypeStatus, Ref: 1})
	for range 4 {
		wg.Go(func() {
			client := &http.Client{Timeout: waitMsg, Transport: &http.Transport{DialContext: dialAttacker}}
			defer client.CloseIdleConnections()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.base+wire.PathAuthCheck, nil)
				wire.SetCredentials(req.Header, "acme", "ocx_guess")
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusTooManyRequests:
					authRefused.Add(1)
				case http.StatusUnauthorized:
					authFailed.Add(1)
				}
			}
		})
	}
	defer func() { stop(); wg.Wait() }()
	require.Eventually(t, func() bool { return authRefused.Load() > 0 && controls.Load() > conns }, waitMsg, tick)

	// globex: its set-up succeeds within a generous bound, and its audio
	// flows both ways.
	assert.Equal(t, http.StatusOK, h.authCheckFrom("127.0.0.1", "globex", h.keys["globex"]).StatusCode)
	began := time.Now()
	g := h.call("globex", "globex", inbound("90000", "1001"))
	g.expect(wire.TypeAnswered)
	setup := time.Since(began)
	assert.Less(t, setup, 3*time.Second, "set-up took %v", setup)
	stopTone := g.streamTone(1004, seqA)
	defer stopTone()
	require.Eventually(t, func() bool { return g.hears(1004) }, waitAudio, tick, "globex hears its echo")
	// And goes on hearing it: another second of echo, still the tone.
	heard := len(g.serverFrames())
	require.Eventually(t, func() bool { return len(g.serverFrames()) >= heard+50 && g.hears(1004) }, waitAudio, tick,
		"globex's audio during the flood")

	stop()
	wg.Wait()
	// acme was held to its limits without being cut off: at the rate its
	// connections stayed open.
	assert.Positive(t, authFailed.Load())
	assert.Positive(t, authRefused.Load())
	for _, ev := range evs {
		select {
		case <-ev.done:
			t.Fatalf("%s was closed at the rate limit", ev.name)
		default:
		}
	}
	t.Logf("globex set-up %v during %d acme control messages, %d failed and %d refused authentications",
		setup, controls.Load(), authFailed.Load(), authRefused.Load())
}

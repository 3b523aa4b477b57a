package server_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/server/trunk"
	"github.com/onecxi/phone/wire"
)

// Generous bounds for things that arrive asynchronously. They are limits on
// waiting, not assertions about speed.
const (
	waitMsg   = 5 * time.Second
	waitAudio = 10 * time.Second
	tick      = 10 * time.Millisecond
)

// Sequence-number bases that tell, at the receiver, who generated a frame:
// the server starts its own at 0.
const (
	seqA = 1_000_000
	seqB = 2_000_000
)

// harness is a real server on 127.0.0.1:0 with two accounts:
//
//	acme:   DIDs 90000 echo, 90050 ivr, 90100 app:1002
//	globex: DID 90000 echo
type harness struct {
	t      *testing.T
	srv    *server.Server
	base   string // http(s)://127.0.0.1:port
	ws     string // ws(s)://127.0.0.1:port
	trunk  *trunk.Simulated
	keys   map[string]string
	tls    *tls.Config // client side, when serving TLS
	events *eventLog
}

type harnessOpts struct {
	mutate  func(*server.Config)
	options []server.Option
	tls     bool
	keys    map[string]string // the accounts' API keys (nodes of one cluster share them); nil: fresh ones
}

func testLogger() *slog.Logger {
	if os.Getenv("ONECXI_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func testConfig() (server.Config, map[string]string) {
	keys := map[string]string{"acme": server.GenerateKey(), "globex": server.GenerateKey()}
	cfg := server.Config{
		Listen:      "127.0.0.1:0",
		Environment: server.EnvDevelopment,
		RingTimeout: 10 * time.Second,
		Accounts: []server.Account{
			{Name: "acme", APIKeyHashes: []string{server.HashKey(keys["acme"])},
				DIDs: map[string]string{"90000": "echo", "90050": "ivr", "90100": "app:1002"}},
			{Name: "globex", APIKeyHashes: []string{server.HashKey(keys["globex"])},
				DIDs: map[string]string{"90000": "echo"}},
		},
		Trunk: server.TrunkConfig{Type: server.TrunkSimulated, AnswerDelay: 50 * time.Millisecond,
			Mode: trunk.ModeEcho, Busy: []string{"5550100"}},
	}
	return cfg, keys
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	cfg, keys := testConfig()
	if o.keys != nil {
		keys = o.keys
		for i, a := range cfg.Accounts {
			cfg.Accounts[i].APIKeyHashes = []string{server.HashKey(keys[a.Name])}
		}
	}
	h := &harness{t: t, keys: keys, events: &eventLog{}}
	if o.tls {
		certFile, keyFile, pool := selfSignedCert(t)
		cfg.TLSCert, cfg.TLSKey = certFile, keyFile
		h.tls = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	if o.mutate != nil {
		o.mutate(&cfg)
	}
	sim, err := trunk.NewSimulated(cfg.Trunk.Simulated(), testLogger())
	require.NoError(t, err)
	h.trunk = sim
	opts := append([]server.Option{
		server.WithLogger(testLogger()),
		server.WithEventHook(h.events.add),
		server.WithTrunk(sim),
	}, o.options...)
	h.srv, err = server.New(cfg, opts...)
	require.NoError(t, err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	scheme := "http"
	if o.tls {
		scheme = "https"
	}
	h.base = scheme + "://" + ln.Addr().String()
	h.ws = strings.Replace(h.base, "http", "ws", 1)
	served := make(chan error, 1)
	go func() { served <- h.srv.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, h.srv.Shutdown(ctx))
		require.NoError(t, <-served)
		sim.Wait()
	})
	return h
}

// httpClient talks to the harness (trusting its certificate under TLS).
func (h *harness) httpClient() *http.Client {
	return &http.Client{Timeout: waitMsg, Transport: &http.Transport{TLSClientConfig: h.tls}}
}

// request sends an HTTP request with account's credentials (none for "").
func (h *harness) request(method, path, account string) (*http.Response, wire.HTTPError) {
	h.t.Helper()
	return h.requestBody(method, path, account, nil)
}

// requestBody is request with a body; an error reply is decoded.
func (h *harness) requestBody(method, path, account string, body io.Reader) (*http.Response, wire.HTTPError) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+path, body)
	require.NoError(h.t, err)
	if account != "" {
		wire.SetCredentials(req.Header, account, h.keys[account])
	}
	resp, err := h.httpClient().Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	var e wire.HTTPError
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		_ = json.Unmarshal(b, &e)
	}
	return resp, e
}

// dialRaw opens a WebSocket with the given headers and subprotocols.
func (h *harness) dialRaw(path string, header http.Header, subprotocols []string) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{Subprotocols: subprotocols, HandshakeTimeout: waitMsg, TLSClientConfig: h.tls}
	return d.Dial(h.ws+path, header)
}

func (h *harness) creds(account string) http.Header {
	hd := http.Header{}
	wire.SetCredentials(hd, account, h.keys[account])
	return hd
}

// client is a raw protocol client on wire.Conn that records everything it
// receives.
type client struct {
	t     *testing.T
	name  string
	conn  *wire.Conn
	ws    *websocket.Conn // under conn: drop closes its TCP connection
	msgs  chan wire.Message
	done  chan struct{}
	close atomic.Int32 // close code the server sent

	// skipPongs: pongs (answers to keepAlive's pings) are not recorded.
	skipPongs atomic.Bool

	mu         sync.Mutex
	samples    []int16
	frames     []frameInfo
	lastServer time.Time // when the last frame the server generated arrived

	out servertest.Frames // numbers what it sends
}

type frameInfo struct {
	seq    uint32
	marker bool
	energy float64
}

// connect opens path as account and starts the client's reader.
func (h *harness) connect(name, path, account string) *client {
	h.t.Helper()
	return h.connectWith(name, path, h.creds(account))
}

// connectWith is connect with the upgrade's headers given.
func (h *harness) connectWith(name, path string, header http.Header) *client {
	h.t.Helper()
	ws, resp, err := h.dialRaw(path, header, []string{wire.Subprotocol})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	require.NoError(h.t, err, "dial %s", path)
	c := &client{t: h.t, name: name, ws: ws, msgs: make(chan wire.Message, 256), done: make(chan struct{})}
	ws.SetCloseHandler(func(code int, _ string) error {
		c.close.Store(int32(code))
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
		return nil
	})
	c.conn = wire.NewConn(ws, testLogger())
	go func() {
		defer close(c.done)
		_ = c.conn.Run(context.Background(), wire.Handlers{
			OnMessage: func(m wire.Message) {
				if m.Type == wire.TypePong && c.skipPongs.Load() {
					return
				}
				c.msgs <- m
			},
			OnAudio: c.onAudio,
		})
	}()
	h.t.Cleanup(func() {
		c.conn.Close(wire.CloseGoingAway, "test over")
		<-c.done
	})
	return c
}

// call opens /v1/call and sends start.
func (h *harness) call(name, account string, start wire.Message) *client {
	h.t.Helper()
	return h.callAs(name, account, start, false)
}

// callAs is call by a client that can resume (it names wire.FeatureResume
// on the upgrade) or not.
func (h *harness) callAs(name, account string, start wire.Message, resumable bool) *client {
	h.t.Helper()
	hd := h.creds(account)
	if resumable {
		hd.Set(wire.HeaderFeatures, wire.FeatureResume)
	}
	c := h.connectWith(name, wire.PathCall, hd)
	start.Type = wire.TypeStart
	c.send(start)
	return c
}

// eventsFor opens /v1/events for number and waits for hello.
func (h *harness) eventsFor(name, account, number string) *client {
	h.t.Helper()
	c := h.connect(name, wire.PathEvents+"?"+wire.QueryRegisteredNumber+"="+number, account)
	c.expect(wire.TypeHello)
	return c
}

func (c *client) onAudio(raw []byte) {
	f, err := wire.DecodeAudio(raw, nil)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.samples = append(c.samples, f.Samples...)
	c.frames = append(c.frames, frameInfo{seq: f.Seq, marker: f.Flags&wire.FlagMarker != 0, energy: dsp.Energy(f.Samples)})
	if f.Seq < seqA {
		c.lastServer = time.Now()
	}
}

func (c *client) send(m wire.Message) {
	c.t.Helper()
	require.NoError(c.t, c.conn.Send(m), "%s: send %s", c.name, m.Type)
}

// next returns the next control message.
func (c *client) next() wire.Message {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-time.After(waitMsg):
		c.t.Fatalf("%s: no message within %v", c.name, waitMsg)
		return wire.Message{}
	}
}

// expect returns the next message, which must be of type typ.
func (c *client) expect(typ wire.Type) wire.Message {
	c.t.Helper()
	m := c.next()
	require.Equal(c.t, typ, m.Type, "%s: got %+v", c.name, m)
	return m
}

// expectSkipping returns the next message of type typ, skipping others
// (audio-related hold notices, pongs).
func (c *client) expectSkipping(typ wire.Type) wire.Message {
	c.t.Helper()
	deadline := time.After(waitMsg)
	for {
		select {
		case m := <-c.msgs:
			if m.Type == typ {
				return m
			}
		case <-deadline:
			c.t.Fatalf("%s: no %s within %v", c.name, typ, waitMsg)
		}
	}
}

// expectError returns the next message, which must be an error with code.
func (c *client) expectError(code wire.Code) wire.Message {
	c.t.Helper()
	m := c.expect(wire.TypeError)
	require.Equal(c.t, code, m.Code, "%s: %s", c.name, m.Message)
	return m
}

// waitClosed waits until the connection has closed and returns the close
// code the server sent.
func (c *client) waitClosed() int {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(waitMsg):
		c.t.Fatalf("%s: connection still open after %v", c.name, waitMsg)
	}
	return int(c.close.Load())
}

// streamTone sends a tone at freq in 20 ms frames, paced in real time, with
// sequence numbers from seqBase, until the returned stop is called.
func (c *client) streamTone(freq float64, seqBase uint32) (stop func()) {
	c.out.From(seqBase)
	return servertest.StreamTone(freq, c.done, c.sendFrame)
}

func (c *client) sendFrame(samples []int16) {
	c.conn.SendAudio(c.out.Next(samples))
}

// recent returns the last n received samples (fewer if fewer arrived).
func (c *client) recent(n int) []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.samples[max(0, len(c.samples)-n):]
	return append([]int16(nil), s...)
}

func (c *client) allSamples() []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int16(nil), c.samples...)
}

// framesFrom counts received frames whose sequence numbers lie in
// [base, base+1e6): those generated by the client that used base.
func (c *client) framesFrom(base uint32) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, f := range c.frames {
		if f.seq >= base && f.seq < base+1_000_000 {
			n++
		}
	}
	return n
}

// serverFrames returns the received frames the server generated.
func (c *client) serverFrames() []frameInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []frameInfo
	for _, f := range c.frames {
		if f.seq < seqA {
			out = append(out, f)
		}
	}
	return out
}

// serverQuiet returns how many frames the server generated, and whether
// none of them arrived in the last d.
func (c *client) serverQuiet(d time.Duration) (n int, quiet bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.frames {
		if f.seq < seqA {
			n++
		}
	}
	return n, time.Since(c.lastServer) >= d
}

// hears reports whether the last 200 ms received are mostly freq.
func (c *client) hears(freq float64) bool {
	s := c.recent(1600)
	return len(s) == 1600 && dsp.ToneShare(s, freq) > 0.5
}

// eventLog records the server's events.
type eventLog struct {
	mu     sync.Mutex
	events []server.Event
}

func (l *eventLog) add(e server.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// find returns the first event of typ for callID ("" matches any).
func (l *eventLog) find(typ, callID string) (server.Event, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.Type == typ && (callID == "" || e.CallID == callID) {
			return e, true
		}
	}
	return server.Event{}, false
}

func (l *eventLog) waitFor(t *testing.T, typ, callID string) server.Event {
	t.Helper()
	var e server.Event
	require.Eventually(t, func() bool {
		var ok bool
		e, ok = l.find(typ, callID)
		return ok
	}, waitMsg, tick, "no %s event for %q", typ, callID)
	return e
}

// peerClosed reports whether err is the peer closing with code.
func peerClosed(err error, code int) bool {
	var ce *websocket.CloseError
	return errors.As(err, &ce) && ce.Code == code
}

package callcore

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/onecxi/phone/wire"
)

const (
	testAccount = "acme"
	testAPIKey  = "sk_test_0123456789"
)

// fakeServer is a tiny server speaking PROTOCOL.md, enough to test the SDK
// alone: credentials, call WebSockets that answer start, ack refs and echo
// audio, an events WebSocket the test pushes into, and decline.
type fakeServer struct {
	t   *testing.T
	srv *httptest.Server

	// onStart replies to a start message; the default answers at once.
	onStart func(fc *fakeCall, m wire.Message)
	// onControl replies to mute/hold/dtmf/status; the default acks (and
	// answers status with the call's state).
	onControl func(fc *fakeCall, m wire.Message)
	// onPing answers a ping; the default pongs at once.
	onPing func(fc *fakeCall, m wire.Message)
	// echo sends every received audio frame back.
	echo bool
	// revoked makes every request unauthorized from now on.
	revoked atomic.Bool
	// noHello closes events connections without registering them.
	noHello atomic.Bool
	// refuseEvents answers that many events upgrades 429 with
	// Retry-After: retryAfter seconds.
	refuseEvents atomic.Int32
	retryAfter   atomic.Int32

	mu       sync.Mutex
	calls    []*fakeCall
	events   []*wire.Conn
	eventTry []time.Time // every events upgrade request
	declines []string
	devices  []wire.DeviceRegistration // every registration, in order
	upgrades int
}

// registrations returns the device registrations received so far.
func (fs *fakeServer) registrations() []wire.DeviceRegistration {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]wire.DeviceRegistration(nil), fs.devices...)
}

// fakeCall is one call WebSocket on the server side.
type fakeCall struct {
	conn *wire.Conn
	id   string

	mu       sync.Mutex
	start    wire.Message
	msgs     []wire.Message // every control message received
	frames   []wire.AudioFrame
	muted    bool
	held     bool
	closedCh chan struct{}
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	fs := &fakeServer{t: t, echo: true}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+wire.PathHealth, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("POST "+wire.PathAuthCheck, func(w http.ResponseWriter, r *http.Request) {
		if !fs.authorized(w, r) {
			return
		}
		_ = json.NewEncoder(w).Encode(wire.AuthCheckResponse{Account: testAccount, Protocol: wire.Version, Server: "fake"})
	})
	mux.HandleFunc("GET "+wire.PathCall, fs.handleCall)
	mux.HandleFunc("GET "+wire.PathEvents, fs.handleEvents)
	mux.HandleFunc("POST "+wire.PathCallsPrefix+"{id}"+wire.DeclineSuffix, func(w http.ResponseWriter, r *http.Request) {
		if !fs.authorized(w, r) {
			return
		}
		fs.mu.Lock()
		fs.declines = append(fs.declines, r.PathValue("id"))
		fs.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST "+wire.PathDevices, func(w http.ResponseWriter, r *http.Request) {
		if !fs.authorized(w, r) {
			return
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, wire.MaxRegistrationB+1))
		reg, err := wire.ParseDeviceRegistration(b)
		if err != nil {
			writeHTTPError(w, http.StatusBadRequest, wire.CodeInvalidInput, err.Error())
			return
		}
		fs.mu.Lock()
		fs.devices = append(fs.devices, reg)
		fs.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	fs.srv = httptest.NewServer(mux)
	t.Cleanup(fs.close)
	return fs
}

func (fs *fakeServer) close() {
	fs.mu.Lock()
	conns := slices.Clone(fs.events)
	for _, c := range fs.calls {
		conns = append(conns, c.conn)
	}
	fs.mu.Unlock()
	for _, c := range conns {
		c.Close(wire.CloseGoingAway, "test over")
	}
	fs.srv.CloseClientConnections()
	fs.srv.Close()
}

func (fs *fakeServer) URL() string { return fs.srv.URL }

func writeHTTPError(w http.ResponseWriter, status int, code wire.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(wire.HTTPError{Code: code, Message: msg})
}

func (fs *fakeServer) authorized(w http.ResponseWriter, r *http.Request) bool {
	acct, key, ok := wire.Credentials(r.Header)
	if !ok || acct != testAccount || key != testAPIKey || fs.revoked.Load() {
		writeHTTPError(w, http.StatusUnauthorized, wire.CodeUnauthorized, "bad account or API key")
		return false
	}
	return true
}

func (fs *fakeServer) upgrade(w http.ResponseWriter, r *http.Request) *wire.Conn {
	if !fs.authorized(w, r) {
		return nil
	}
	if !slices.Contains(websocket.Subprotocols(r), wire.Subprotocol) {
		writeHTTPError(w, http.StatusUpgradeRequired, wire.CodeUnsupported, "offer "+wire.Subprotocol)
		return nil
	}
	up := websocket.Upgrader{Subprotocols: []string{wire.Subprotocol}}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return nil
	}
	fs.mu.Lock()
	fs.upgrades++
	fs.mu.Unlock()
	return wire.NewConn(ws, discardLogger())
}

func (fs *fakeServer) handleCall(w http.ResponseWriter, r *http.Request) {
	conn := fs.upgrade(w, r)
	if conn == nil {
		return
	}
	fs.mu.Lock()
	fc := &fakeCall{conn: conn, id: fmt.Sprintf("c_%d", len(fs.calls)+1), closedCh: make(chan struct{})}
	fs.calls = append(fs.calls, fc)
	fs.mu.Unlock()
	defer close(fc.closedCh)
	_ = conn.Run(r.Context(), wire.Handlers{
		OnMessage: func(m wire.Message) { fs.onMessage(fc, m) },
		OnAudio: func(raw []byte) {
			f, err := wire.DecodeAudio(raw, nil)
			if err != nil {
				return
			}
			fc.mu.Lock()
			fc.frames = append(fc.frames, f)
			fc.mu.Unlock()
			if fs.echo {
				conn.SendAudioRaw(raw)
			}
		},
	})
}

func (fs *fakeServer) onMessage(fc *fakeCall, m wire.Message) {
	fc.mu.Lock()
	fc.msgs = append(fc.msgs, m)
	first := fc.start.Type == ""
	if first && m.Type == wire.TypeStart {
		fc.start = m
	}
	fc.mu.Unlock()
	switch m.Type {
	case wire.TypeStart:
		if !first {
			_ = fc.conn.Send(wire.Message{Type: wire.TypeError, Code: wire.CodeBadRequest, Message: "second start"})
			return
		}
		if fs.onStart != nil {
			fs.onStart(fc, m)
			return
		}
		_ = fc.conn.Send(wire.Message{Type: wire.TypeAnswered, CallID: fc.id})
	case wire.TypeMute, wire.TypeHold, wire.TypeDTMF, wire.TypeStatus:
		fc.mu.Lock()
		switch m.Type {
		case wire.TypeMute:
			fc.muted = *m.On
		case wire.TypeHold:
			fc.held = *m.On
		}
		fc.mu.Unlock()
		if fs.onControl != nil {
			fs.onControl(fc, m)
			return
		}
		fc.ack(m)
	case wire.TypeEnd:
		fc.conn.Close(wire.CloseNormal, "")
	case wire.TypePing:
		if fs.onPing != nil {
			fs.onPing(fc, m)
			return
		}
		_ = fc.conn.Send(wire.Message{Type: wire.TypePong, TS: m.TS})
	}
}

// ack answers a control request as the reference server would.
func (fc *fakeCall) ack(m wire.Message) {
	if m.Type == wire.TypeStatus {
		fc.mu.Lock()
		st := wire.Message{Type: wire.TypeStatus, Ref: m.Ref, CallID: fc.id, State: "active", Muted: fc.muted, Held: fc.held}
		fc.mu.Unlock()
		_ = fc.conn.Send(st)
		return
	}
	_ = fc.conn.Send(wire.Message{Type: wire.TypeAck, Ref: m.Ref})
}

func (fs *fakeServer) handleEvents(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	fs.eventTry = append(fs.eventTry, time.Now())
	fs.mu.Unlock()
	if fs.refuseEvents.Add(-1) >= 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(fs.retryAfter.Load())))
		writeHTTPError(w, http.StatusTooManyRequests, wire.CodeTooManyRequests, "back off")
		return
	}
	fs.refuseEvents.Store(0)
	if !wire.ValidNumber(r.URL.Query().Get(wire.QueryRegisteredNumber)) {
		writeHTTPError(w, http.StatusBadRequest, wire.CodeInvalidInput, "registeredNumber")
		return
	}
	conn := fs.upgrade(w, r)
	if conn == nil {
		return
	}
	fs.mu.Lock()
	fs.events = append(fs.events, conn)
	fs.mu.Unlock()
	if fs.noHello.Load() {
		conn.Close(wire.CloseInternal, "no registration")
	} else {
		_ = conn.Send(wire.Message{Type: wire.TypeHello})
	}
	_ = conn.Run(r.Context(), wire.Handlers{OnMessage: func(m wire.Message) {
		if m.Type == wire.TypePing {
			_ = conn.Send(wire.Message{Type: wire.TypePong, TS: m.TS})
		}
	}})
}

// eventTries returns the times of every events upgrade request so far.
func (fs *fakeServer) eventTries() []time.Time {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]time.Time(nil), fs.eventTry...)
}

// lastCall waits for the newest call WebSocket.
func (fs *fakeServer) lastCall(t *testing.T) *fakeCall {
	t.Helper()
	var fc *fakeCall
	waitFor(t, func() bool {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		if len(fs.calls) == 0 {
			return false
		}
		fc = fs.calls[len(fs.calls)-1]
		return true
	}, "a call WebSocket")
	return fc
}

func (fs *fakeServer) callCount() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.calls)
}

// eventConns returns the open events WebSockets.
func (fs *fakeServer) eventConns() []*wire.Conn {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []*wire.Conn
	for _, c := range fs.events {
		select {
		case <-c.Done():
		default:
			out = append(out, c)
		}
	}
	return out
}

func (fs *fakeServer) declined() []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return slices.Clone(fs.declines)
}

// messages returns the control messages of type typ the call received.
func (fc *fakeCall) messages(typ wire.Type) []wire.Message {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	var out []wire.Message
	for _, m := range fc.msgs {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

func (fc *fakeCall) frameCount() int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return len(fc.frames)
}

func (fc *fakeCall) framesSnapshot() []wire.AudioFrame {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return slices.Clone(fc.frames)
}

func (fc *fakeCall) closed() bool {
	select {
	case <-fc.closedCh:
		return true
	default:
		return false
	}
}

// waitFor polls cond (Eventually without testify's extra goroutine per tick).
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder is a CallProgressCallback that records every event as a line.
type recorder struct {
	mu     sync.Mutex
	events []string
	status []CallStatus
	errs   []error
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
}

func (r *recorder) OnCallStatusChanged(s CallStatus) {
	r.mu.Lock()
	r.status = append(r.status, s)
	r.mu.Unlock()
	r.add("status:" + s.State.String())
}
func (r *recorder) OnCallStarted(t CallType, did, reg string) {
	r.add(fmt.Sprintf("started:%s:%s:%s", t, did, reg))
}
func (r *recorder) OnCallEnded(t CallType, did string) { r.add(fmt.Sprintf("ended:%s:%s", t, did)) }
func (r *recorder) OnCallError(err error, t CallType) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
	r.add(fmt.Sprintf("error:%s:%s", KindOf(err).String(), t))
}
func (r *recorder) OnWebSocketStatusChanged(c bool) { r.add(fmt.Sprintf("ws:%t", c)) }
func (r *recorder) OnListeningChanged(c bool)       { r.add(fmt.Sprintf("listening:%t", c)) }
func (r *recorder) OnCallDeclined(t CallType, from string) {
	r.add(fmt.Sprintf("declined:%s:%s", t, from))
}

func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// without returns the lines not starting with prefix.
func (r *recorder) without(prefix string) []string {
	var out []string
	for _, l := range r.lines() {
		if !strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func (r *recorder) has(line string) bool { return slices.Contains(r.lines(), line) }

func (r *recorder) lastStatus() CallStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.status) == 0 {
		return CallStatus{}
	}
	return r.status[len(r.status)-1]
}

func (r *recorder) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}

// flush waits until the SDK's queued callbacks have been delivered.
func flush(s *SDK) {
	if err := s.FlushCallbacks(context.Background()); err != nil {
		panic(err)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

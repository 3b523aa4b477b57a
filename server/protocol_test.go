package server_test

import (
	"net/http"

	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/wire"
)

// rawConn is a bare gorilla connection, for sending what wire.Conn refuses
// to: oversize and malformed messages.
type rawConn struct {
	t  *testing.T
	ws *websocket.Conn
}

func (h *harness) raw(account string) *rawConn {
	h.t.Helper()
	ws, resp, err := h.dialRaw(wire.PathCall, h.creds(account), []string{wire.Subprotocol})
	require.NoError(h.t, err)
	resp.Body.Close()
	require.Equal(h.t, wire.Subprotocol, ws.Subprotocol())
	h.t.Cleanup(func() { ws.Close() })
	return &rawConn{t: h.t, ws: ws}
}

func (r *rawConn) write(kind int, b []byte) {
	r.t.Helper()
	require.NoError(r.t, r.ws.WriteMessage(kind, b))
}

func (r *rawConn) writeJSON(m wire.Message) {
	r.t.Helper()
	b, err := wire.Encode(m)
	require.NoError(r.t, err)
	r.write(websocket.TextMessage, b)
}

// read returns the next control message, skipping audio frames.
func (r *rawConn) read() (wire.Message, error) {
	r.t.Helper()
	_ = r.ws.SetReadDeadline(time.Now().Add(waitMsg))
	for {
		kind, b, err := r.ws.ReadMessage()
		if err != nil {
			return wire.Message{}, err
		}
		if kind == websocket.TextMessage {
			m, err := wire.Decode(b)
			require.NoError(r.t, err, "server sent %s", b)
			return m, nil
		}
	}
}

func (r *rawConn) expect(typ wire.Type) wire.Message {
	r.t.Helper()
	m, err := r.read()
	require.NoError(r.t, err)
	require.Equal(r.t, typ, m.Type, "got %+v", m)
	return m
}

// expectClose reads until the server closes and returns its close code.
func (r *rawConn) expectClose() int {
	r.t.Helper()
	for {
		_, err := r.read()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		require.ErrorAs(r.t, err, &ce)
		return ce.Code
	}
}

func TestOversizeMessageCloses1009(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		kind int
		size int
	}{
		{"text", websocket.TextMessage, wire.MaxMessage + 1},
		{"binary", websocket.BinaryMessage, wire.MaxMessage + 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{})
			r := h.raw("acme")
			r.writeJSON(wire.Message{Type: wire.TypeStart, Kind: wire.KindInbound, To: "90000", RegisteredNumber: "1001"})
			r.expect(wire.TypeAnswered)
			r.write(tt.kind, make([]byte, tt.size))
			assert.Equal(t, websocket.CloseMessageTooBig, r.expectClose())
		})
	}
}

func TestMalformedMessagesAfterStartAreBadRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	r := h.raw("acme")
	r.writeJSON(wire.Message{Type: wire.TypeStart, Kind: wire.KindInbound, To: "90000", RegisteredNumber: "1001"})
	r.expect(wire.TypeAnswered)
	for _, bad := range []string{
		`{"type":"mute"`,                 // not JSON
		`{"type":"mute","ref":1}`,        // missing on
		`{"type":"dtmf","digit":"x"}`,    // bad digit
		`{"type":"teleport"}`,            // unknown type
		`{"type":"ping","colour":"red"}`, // unknown field
		`{"type":"answered","callId":"c"}`,
	} {
		r.write(websocket.TextMessage, []byte(bad))
		m := r.expect(wire.TypeError)
		assert.Equal(t, wire.CodeBadRequest, m.Code, bad)
	}
	// Malformed audio is dropped and counted, never answered (PROTOCOL.md):
	// the pong is the next thing the server says.
	r.write(websocket.BinaryMessage, []byte{0xB2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}) // wrong magic
	r.write(websocket.BinaryMessage, make([]byte, wire.MaxAudioMessage+2))          // longer than any frame
	// The connection is still usable.
	r.writeJSON(wire.Message{Type: wire.TypePing, TS: 42})
	assert.Equal(t, int64(42), r.expect(wire.TypePong).TS)
	assert.Equal(t, uint64(2), h.srv.Stats().FramesMalformed)
	r.writeJSON(wire.Message{Type: wire.TypeStart, Kind: wire.KindInbound, To: "90000", RegisteredNumber: "1001"})
	assert.Equal(t, wire.CodeBadRequest, r.expect(wire.TypeError).Code, "a second start")
}

// A control message may be as long as PROTOCOL.md allows (4 KiB), although
// an audio frame may not.
func TestTextMessagesUpToTheDocumentedLimitAreRead(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	r := h.raw("acme")
	r.writeJSON(wire.Message{Type: wire.TypeStart, Kind: wire.KindInbound, To: "90000", RegisteredNumber: "1001"})
	r.expect(wire.TypeAnswered)
	ping := []byte(`{"type":"ping","ts":7}`)
	padded := append(append([]byte{}, ping[:len(ping)-1]...), []byte(strings.Repeat(" ", wire.MaxTextMessage-len(ping)))...)
	padded = append(padded, '}')
	require.Len(t, padded, wire.MaxTextMessage)
	r.write(websocket.TextMessage, padded)
	assert.Equal(t, int64(7), r.expect(wire.TypePong).TS)
}

// Request headers are bounded as PROTOCOL.md says: a larger request is
// answered 431 and nothing else happens.
func TestOversizeHeadersAre431(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	req, err := http.NewRequest(http.MethodGet, h.base+wire.PathHealth, nil)
	require.NoError(t, err)
	req.Header.Set("X-Filler", strings.Repeat("a", 2*wire.MaxHeaderBytes))
	resp, err := h.httpClient().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
}

func TestBadFirstMessageClosesTheCall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  string
	}{
		{"not JSON", `hello`},
		{"not start", `{"type":"ping","ts":1}`},
		{"start with a bad number", `{"type":"start","kind":"inbound","to":"9x","registeredNumber":"1001"}`},
		{"start with an unknown kind", `{"type":"start","kind":"conference","to":"1","registeredNumber":"1001"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{})
			r := h.raw("acme")
			r.write(websocket.TextMessage, []byte(tt.msg))
			m := r.expect(wire.TypeError)
			assert.Equal(t, wire.CodeBadRequest, m.Code)
			assert.Equal(t, wire.ClosePolicy, r.expectClose())
		})
	}
}

func TestNoStartInTimeCloses4003(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{options: []server.Option{server.WithStartTimeout(200 * time.Millisecond)}})
	r := h.raw("acme")
	assert.Equal(t, wire.CloseStartTimeout, r.expectClose())
}

func TestEventsConnection(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	ev := h.eventsFor("E", "acme", "1002")
	require.Eventually(t, func() bool { return h.srv.Stats().EventConns == 1 }, waitMsg, tick)
	ev.send(wire.Message{Type: wire.TypePing, TS: 7})
	assert.Equal(t, int64(7), ev.expect(wire.TypePong).TS)
	ev.send(wire.Message{Type: wire.TypeStatus, Ref: 1})
	e := ev.expect(wire.TypeError)
	assert.Equal(t, wire.CodeBadRequest, e.Code)
	assert.Equal(t, uint32(1), e.Ref)
	ev.conn.Close(wire.CloseNormal, "")
	require.Eventually(t, func() bool { return h.srv.Stats().EventConns == 0 }, waitMsg, tick)
}

func TestTLS(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{tls: true})
	require.True(t, strings.HasPrefix(h.base, "https://"))
	resp, err := h.httpClient().Get(h.base + wire.PathHealth)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)

	require.True(t, strings.HasPrefix(h.ws, "wss://"))
	a := h.call("A", "acme", inbound("90000", "1001"))
	a.expect(wire.TypeAnswered)
	stop := a.streamTone(440, seqA)
	defer stop()
	require.Eventually(t, func() bool { return a.hears(440) }, waitAudio, tick)
}

func TestEventHookSeesAStartRejected(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a := h.call("A", "acme", inbound("55555", "1001"))
	a.expectError(wire.CodeNotFound)
	e := h.events.waitFor(t, server.EventRejected, "")
	b, _ := json.Marshal(e)
	assert.Equal(t, string(wire.CodeNotFound), e.Reason, "%s", b)
	assert.Equal(t, "acme", e.Account)
}

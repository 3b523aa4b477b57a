package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/wire"
)

const waitInternal = 5 * time.Second

// wsPair returns the two ends of a fresh WebSocket: the server's and the
// client's.
func wsPair(t *testing.T) (srv, cli *websocket.Conn) {
	t.Helper()
	got := make(chan *websocket.Conn, 1)
	up := websocket.Upgrader{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ws, err := up.Upgrade(w, r, nil); err == nil {
			got <- ws
		}
	}))
	t.Cleanup(hs.Close)
	cli, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	require.NoError(t, err)
	resp.Body.Close()
	select {
	case srv = <-got:
	case <-time.After(waitInternal):
		t.Fatal("no upgrade")
	}
	t.Cleanup(func() { cli.Close(); srv.Close() })
	return srv, cli
}

// testConn wraps the server end of a fresh WebSocket in a wire.Conn, not
// yet running; run starts it. cli is the client end.
type testConn struct {
	*wire.Conn
	cli  *websocket.Conn
	done chan struct{}
}

func newTestConn(t *testing.T) *testConn {
	t.Helper()
	srv, cli := wsPair(t)
	c := &testConn{Conn: wire.NewConn(srv, slog.New(slog.NewTextHandler(io.Discard, nil))), cli: cli, done: make(chan struct{})}
	t.Cleanup(func() {
		c.Close(wire.CloseGoingAway, "test over")
		select {
		case <-c.done:
		case <-time.After(waitInternal):
			t.Error("connection still running")
		}
	})
	return c
}

// run starts the connection's reader and writer.
func (c *testConn) run() *testConn {
	go func() {
		defer close(c.done)
		_ = c.Run(context.Background(), wire.Handlers{})
	}()
	return c
}

// read returns the next control message the client end receives, or the
// close code if the server end closes.
func (c *testConn) read(t *testing.T) (wire.Message, int) {
	t.Helper()
	_ = c.cli.SetReadDeadline(time.Now().Add(waitInternal))
	for {
		kind, b, err := c.cli.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			require.ErrorAs(t, err, &ce)
			return wire.Message{}, ce.Code
		}
		if kind == websocket.TextMessage {
			m, err := wire.Decode(b)
			require.NoError(t, err)
			return m, 0
		}
	}
}

func (c *testConn) expect(t *testing.T, typ wire.Type) wire.Message {
	t.Helper()
	m, code := c.read(t)
	require.Zero(t, code, "closed instead of %s", typ)
	require.Equal(t, typ, m.Type, "%+v", m)
	return m
}

func ping(ts int) wire.Message { return wire.Message{Type: wire.TypePing, TS: int64(ts)} }

func audioFrame(t *testing.T) []byte {
	t.Helper()
	b, err := wire.AppendAudio(wire.AudioBuffer(), wire.AudioFrame{Seq: 1, Samples: make([]int16, wire.FrameSamples)})
	require.NoError(t, err)
	return b
}

func TestLegSocketKeepsControlsWhileLost(t *testing.T) {
	t.Parallel()
	c1 := newTestConn(t).run()
	s := newLegSocket(c1.Conn)
	assert.Same(t, c1.Conn, s.conn())
	require.True(t, s.detach(c1.Conn))
	assert.False(t, s.detach(c1.Conn), "no longer the current socket")
	assert.Nil(t, s.conn())

	assert.False(t, s.SendAudioRaw(audioFrame(t)), "audio toward a lost leg is dropped")
	const extra = 5
	for i := range maxPending + extra {
		require.NoError(t, s.Send(ping(i)))
	}
	require.Len(t, s.pending, maxPending, "bounded")
	assert.Equal(t, int64(extra), s.pending[0].TS, "the oldest are dropped")

	// The new socket gets the first message, then every kept one in order,
	// even before its writer runs: they fit in its control queue.
	c2 := newTestConn(t)
	require.True(t, s.attach(c2.Conn, wire.Message{Type: wire.TypeResumed, CallID: "c_1", State: "active"}))
	c2.run()
	assert.Equal(t, "c_1", c2.expect(t, wire.TypeResumed).CallID)
	for i := extra; i < maxPending+extra; i++ {
		assert.Equal(t, int64(i), c2.expect(t, wire.TypePing).TS)
	}
	assert.Empty(t, s.pending)
	assert.Same(t, c2.Conn, s.conn())

	// From now on messages and audio go straight to it.
	require.NoError(t, s.Send(ping(999)))
	assert.Equal(t, int64(999), c2.expect(t, wire.TypePing).TS)
	assert.True(t, s.SendAudioRaw(audioFrame(t)))
}

func TestLegSocketAttachReplacesALiveSocket(t *testing.T) {
	t.Parallel()
	c1 := newTestConn(t).run()
	c2 := newTestConn(t).run()
	s := newLegSocket(c1.Conn)
	require.True(t, s.attach(c2.Conn, wire.Message{Type: wire.TypeResumed, CallID: "c_1", State: "ringing"}))
	assert.Equal(t, "ringing", c2.expect(t, wire.TypeResumed).State)
	_, code := c1.read(t)
	assert.Equal(t, wire.CloseReplaced, code, "the old socket is closed")
	assert.False(t, s.detach(c1.Conn), "the old socket is no longer the leg's")
}

func TestLegSocketClose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		lost bool
	}{
		{"attached", false},
		{"lost, with messages kept", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c1 := newTestConn(t).run()
			s := newLegSocket(c1.Conn)
			if tt.lost {
				s.detach(c1.Conn)
				require.NoError(t, s.Send(ping(1)))
			}
			s.Close(wire.CloseNormal, "over")
			assert.Empty(t, s.pending)
			assert.ErrorIs(t, s.Send(ping(2)), wire.ErrClosed)
			if !tt.lost {
				_, code := c1.read(t)
				assert.Equal(t, wire.CloseNormal, code)
			}
			c2 := newTestConn(t).run()
			assert.False(t, s.attach(c2.Conn, wire.Message{Type: wire.TypeResumed, CallID: "c_1", State: "active"}),
				"a leg that is over takes no socket")
			assert.ErrorIs(t, s.Send(ping(3)), wire.ErrClosed)
		})
	}
}

func TestLossReason(t *testing.T) {
	t.Parallel()
	// A real read deadline passing, as wire.Conn's reader reports it: its
	// keep-alive (PongWait) is such a deadline.
	srv, _ := wsPair(t)
	require.NoError(t, srv.SetReadDeadline(time.Now().Add(10*time.Millisecond)))
	_, _, deadlineErr := srv.NextReader()
	require.Error(t, deadlineErr)

	tests := []struct {
		name string
		err  error
		want string
	}{
		{"clean close", nil, wire.ReasonHangup},
		{"deadline", fmt.Errorf("wire: read: %w", os.ErrDeadlineExceeded), wire.ReasonKeepaliveTimeout},
		{"deadline in a net.OpError", fmt.Errorf("wire: read: %w",
			&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}), wire.ReasonKeepaliveTimeout},
		{"websocket read deadline", fmt.Errorf("wire: read: %w", deadlineErr), wire.ReasonKeepaliveTimeout},
		{"abnormal closure", fmt.Errorf("wire: peer closed with 1006 %q: %w", io.ErrUnexpectedEOF.Error(), wire.ErrClosed),
			wire.ReasonNetworkLost},
		{"reset", fmt.Errorf("wire: read: %w", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}),
			wire.ReasonNetworkLost},
		{"write failed", fmt.Errorf("wire: connection aborted, write failed: %w", wire.ErrClosed), wire.ReasonNetworkLost},
		{"other", errors.New("boom"), wire.ReasonNetworkLost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, lossReason(tt.err), "%v", tt.err)
		})
	}
}

// TestLegSocketSuspectKeepsCopies: while a socket is only suspected dead
// (silent), control messages go out on it and a copy is kept: delivered on
// the socket a resume brings, forgotten if the same socket comes back.
func TestLegSocketSuspectKeepsCopies(t *testing.T) {
	t.Parallel()
	for _, resumed := range []bool{true, false} {
		t.Run(fmt.Sprintf("resumed=%v", resumed), func(t *testing.T) {
			t.Parallel()
			c1 := newTestConn(t).run()
			s := newLegSocket(c1.Conn)
			s.suspectSilent(true)
			require.NoError(t, s.Send(ping(1)))
			assert.Equal(t, int64(1), c1.expect(t, wire.TypePing).TS, "still sent on the suspect socket")
			require.Len(t, s.pending, 1, "and kept")
			if !resumed {
				s.suspectSilent(false)
				assert.Empty(t, s.pending, "the socket came back: it had them")
				require.NoError(t, s.Send(ping(2)))
				assert.Empty(t, s.pending)
				return
			}
			c2 := newTestConn(t)
			require.True(t, s.attach(c2.Conn, wire.Message{Type: wire.TypeResumed, CallID: "c_1", State: "active"}))
			c2.run()
			c2.expect(t, wire.TypeResumed)
			assert.Equal(t, int64(1), c2.expect(t, wire.TypePing).TS, "delivered again after the resume")
			require.NoError(t, s.Send(ping(3)))
			assert.Equal(t, int64(3), c2.expect(t, wire.TypePing).TS)
			assert.Empty(t, s.pending, "not suspect any more")
		})
	}
}

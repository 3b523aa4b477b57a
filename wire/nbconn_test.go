package wire

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tcpPair returns a wrapped client end and the raw server end of a loopback
// TCP connection, with small buffers so a peer that does not read fills them
// after a few KiB.
func tcpPair(t *testing.T) (*nbConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	peer := (<-accepted).(*net.TCPConn)
	require.NoError(t, peer.SetReadBuffer(4096))
	require.NoError(t, c.(*net.TCPConn).SetWriteBuffer(4096))
	t.Cleanup(func() { _ = c.Close(); _ = peer.Close() })
	nb, ok := WrapConn(c).(*nbConn)
	require.True(t, ok, "a TCP connection is wrapped on this platform")
	return nb, peer
}

func TestWrapConnLeavesOtherConnectionsAlone(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	assert.Equal(t, a, WrapConn(a))
	assert.Nil(t, findNB(a))
}

// pattern is n bytes that reveal any loss, duplication or reordering.
func pattern(from, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((from + i) % 251)
	}
	return b
}

func TestNBConnNeverBlocksAndKeepsOrder(t *testing.T) {
	nb, peer := tcpPair(t)
	var kicks atomic.Int32
	nb.start(func() { kicks.Add(1) })

	// The peer reads nothing, so the socket fills and the rest is kept.
	const chunk = 1000
	written := 0
	for !nb.Busy() {
		n, err := nb.Write(pattern(written, chunk))
		require.NoError(t, err)
		require.Equal(t, chunk, n)
		written += chunk
		require.Less(t, written, 64<<20, "the socket never filled")
	}
	assert.Equal(t, int32(1), kicks.Load(), "Flush is asked for once")
	for range 5 { // kept behind the pending bytes, not written around them
		_, err := nb.Write(pattern(written, chunk))
		require.NoError(t, err)
		written += chunk
	}

	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(peer, int64(written)))
		got <- b
	}()
	require.NoError(t, nb.Flush())
	assert.False(t, nb.Busy())
	assert.Equal(t, pattern(0, written), <-got)
}

func TestNBConnFailsWhenThePeerStopsReadingForGood(t *testing.T) {
	nb, _ := tcpPair(t)
	nb.start(func() {})
	var err error
	for i := 0; err == nil && i < 1<<16; i++ {
		_, err = nb.Write(make([]byte, 1000))
	}
	assert.ErrorIs(t, err, errPendingFull)
}

func TestNBConnHonoursAPassedWriteDeadline(t *testing.T) {
	nb, _ := tcpPair(t)
	nb.start(func() {})
	require.NoError(t, nb.SetWriteDeadline(time.Now().Add(-time.Second)))
	_, err := nb.Write([]byte("late"))
	var ne net.Error
	require.True(t, errors.As(err, &ne), "got %v", err)
	assert.True(t, ne.Timeout())
	// Cleared, writes work again (a zero deadline is always passed down).
	require.NoError(t, nb.SetWriteDeadline(time.Time{}))
	_, err = nb.Write([]byte("now"))
	assert.NoError(t, err)
}

func TestNBConnBeforeStartIsAPlainConnection(t *testing.T) {
	nb, peer := tcpPair(t)
	go func() { _, _ = nb.Write([]byte("handshake")) }()
	b := make([]byte, 9)
	_, err := io.ReadFull(peer, b)
	require.NoError(t, err)
	assert.Equal(t, "handshake", string(b))
	assert.False(t, nb.Busy())
}

// TestConnFastPathSurvivesASlowPeer: frames sent to a peer that has stopped
// reading never block the sender (they are written directly while the socket
// takes them, then queued, then dropped), the connection stays up, and once
// the peer reads again everything it gets is whole and in order.
func TestConnFastPathSurvivesASlowPeer(t *testing.T) {
	up := websocket.Upgrader{Subprotocols: []string{Subprotocol}}
	serverConn := make(chan *Conn, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := NewConn(ws, nil)
		serverConn <- c
		_ = c.Run(context.Background(), Handlers{})
	}))
	srv.Listener = WrapListener(smallSendBuffers{srv.Listener})
	srv.Start()
	t.Cleanup(srv.Close)

	d := websocket.Dialer{Subprotocols: []string{Subprotocol}, NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			err = c.(*net.TCPConn).SetReadBuffer(4096)
		}
		return c, err
	}}
	peer, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)
	defer peer.Close()
	c := <-serverConn
	require.NotNil(t, c.nb, "the wrapped listener gives the fast path")
	require.Eventually(t, func() bool { return c.writing.Load() }, 5*time.Second, time.Millisecond)

	const frames = 3000
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := range frames {
			c.SendAudio(AudioFrame{Seq: uint32(i), Samples: make([]int16, FrameSamples)})
		}
	}()
	select {
	case <-sent:
	case <-time.After(time.Minute):
		t.Fatal("SendAudioRaw blocked on a peer that does not read")
	}
	st := c.Stats()
	assert.Positive(t, st.AudioDropped, "a peer that does not read loses frames")
	assert.Positive(t, st.AudioSent)
	select {
	case <-c.Done():
		t.Fatal("a slow peer lost the call")
	default:
	}

	// The peer reads again: what was sent arrives whole and in order.
	var seqs []uint32
	readDone := make(chan error, 1)
	go func() {
		for {
			kind, b, err := peer.ReadMessage()
			if err != nil {
				readDone <- err
				return
			}
			if kind != websocket.BinaryMessage {
				continue
			}
			f, err := DecodeAudio(b, nil)
			if err != nil {
				readDone <- err
				return
			}
			seqs = append(seqs, f.Seq)
		}
	}()
	require.Eventually(t, func() bool {
		st := c.Stats()
		return st.AudioSent+st.AudioDropped == frames
	}, time.Minute, time.Millisecond, "every frame is sent or dropped")
	c.Close(CloseNormal, "done")
	err = <-readDone
	require.True(t, websocket.IsCloseError(err, CloseNormal), "a clean close after the frames, got %v", err)
	assert.Len(t, seqs, int(c.Stats().AudioSent))
	for i := 1; i < len(seqs); i++ {
		require.Greater(t, seqs[i], seqs[i-1], "frames arrive in order")
	}
}

// smallSendBuffers gives accepted connections a small send buffer.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		err = c.(*net.TCPConn).SetWriteBuffer(4096)
	}
	return c, err
}

package wire

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pair returns a client Conn connected to a server whose Conn is handed to
// serve on the server's goroutine.
func pair(t *testing.T, serve func(*Conn)) *websocket.Conn {
	t.Helper()
	up := websocket.Upgrader{Subprotocols: []string{Subprotocol}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		serve(NewConn(ws, nil))
	}))
	t.Cleanup(srv.Close)
	d := websocket.Dialer{Subprotocols: []string{Subprotocol}}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

func TestConnDeliversMessagesAndAudioInOrder(t *testing.T) {
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	raw := pair(t, func(c *Conn) {
		defer close(done)
		_ = c.Run(context.Background(), Handlers{
			OnMessage: func(m Message) {
				mu.Lock()
				got = append(got, string(m.Type))
				mu.Unlock()
				if m.Type == TypeEnd {
					c.Close(CloseNormal, "bye")
				}
			},
			OnAudio: func(b []byte) {
				f, err := DecodeAudio(b, nil)
				if assert.NoError(t, err) {
					mu.Lock()
					got = append(got, "audio")
					mu.Unlock()
					assert.Equal(t, uint32(5), f.Seq)
				}
			},
		})
	})
	client := NewConn(raw, nil)
	go func() { _ = client.Run(context.Background(), Handlers{}) }()
	require.NoError(t, client.Send(Message{Type: TypePing, TS: 1}))
	require.True(t, client.SendAudio(AudioFrame{Seq: 5, Samples: make([]int16, FrameSamples)}))
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 2 }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, client.Send(Message{Type: TypeEnd, Reason: ReasonHangup}))
	<-done
	mu.Lock()
	assert.Equal(t, []string{"ping", "audio", "end"}, got)
	mu.Unlock()
	select {
	case <-client.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("client did not see the server's close")
	}
	assert.ErrorIs(t, client.Send(Message{Type: TypeEnd}), ErrClosed)
}

func TestConnClosesOnOversizeMessage(t *testing.T) {
	result := make(chan error, 1)
	raw := pair(t, func(c *Conn) { result <- c.Run(context.Background(), Handlers{}) })
	require.NoError(t, raw.WriteMessage(websocket.BinaryMessage, make([]byte, MaxMessage+1)))
	_, _, err := raw.ReadMessage()
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, CloseTooLarge, ce.Code)
	assert.Error(t, <-result)
}

func TestConnReportsBadMessagesAndStaysOpen(t *testing.T) {
	bad := make(chan error, 4)
	badAudio := make(chan error, 4)
	good := make(chan Message, 1)
	conn := make(chan *Conn, 1)
	raw := pair(t, func(c *Conn) {
		conn <- c
		_ = c.Run(context.Background(), Handlers{
			OnMessage:    func(m Message) { good <- m },
			OnBadMessage: func(err error) { bad <- err },
			OnBadAudio:   func(err error) { badAudio <- err },
		})
	})
	require.NoError(t, raw.WriteMessage(websocket.TextMessage, []byte(`{"type":"nope"}`)))
	require.NoError(t, raw.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}))
	// Longer than any audio frame, within the read limit: dropped, read to
	// its end, and the connection goes on.
	require.NoError(t, raw.WriteMessage(websocket.BinaryMessage, make([]byte, MaxAudioMessage+1)))
	require.NoError(t, raw.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping","ts":2}`)))
	assert.ErrorIs(t, <-bad, ErrMalformed)
	assert.ErrorIs(t, <-badAudio, ErrMalformed)
	assert.ErrorIs(t, <-badAudio, ErrMalformed)
	m := <-good
	assert.Equal(t, int64(2), m.TS)
	assert.Empty(t, bad, "malformed audio is not a bad control message")
	assert.Equal(t, uint64(2), (<-conn).Stats().AudioMalformed)
}

// A frame of exactly the largest audio size fills the pooled buffer to the
// last byte: it is read whole, not mistaken for an oversize message.
func TestConnReadsTheLargestAudioFrame(t *testing.T) {
	got := make(chan int, 1)
	raw := pair(t, func(c *Conn) {
		_ = c.Run(context.Background(), Handlers{OnAudio: func(b []byte) { got <- len(b) }})
	})
	frame, err := AppendAudio(nil, AudioFrame{Samples: make([]int16, MaxFrameSamples)})
	require.NoError(t, err)
	require.Len(t, frame, MaxAudioMessage)
	require.NoError(t, raw.WriteMessage(websocket.BinaryMessage, frame))
	select {
	case n := <-got:
		assert.Equal(t, MaxAudioMessage, n)
	case <-time.After(5 * time.Second):
		t.Fatal("the frame was not delivered")
	}
}

func TestSlowPeerLosesAudioNotTheCall(t *testing.T) {
	ready := make(chan *Conn, 1)
	raw := pair(t, func(c *Conn) {
		ready <- c
		_ = c.Run(context.Background(), Handlers{})
	})
	server := <-ready
	// The client never reads: the server's writes back up into the socket
	// buffers and then its audio queue, which must drop rather than block.
	frame := AudioFrame{Samples: make([]int16, MaxFrameSamples)}
	for range 20000 {
		server.SendAudio(frame)
	}
	assert.NotZero(t, server.Stats().AudioDropped, "frames were dropped")
	require.NoError(t, server.Send(Message{Type: TypeEnd}), "control still accepted")
	// Now read: the connection is intact and the end message arrives.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		kind, b, err := raw.ReadMessage()
		require.NoError(t, err)
		if kind == websocket.TextMessage {
			m, err := Decode(b)
			require.NoError(t, err)
			assert.Equal(t, TypeEnd, m.Type)
			return
		}
	}
	t.Fatal("end message never arrived")
}

func TestConnStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	raw := pair(t, func(c *Conn) { result <- c.Run(ctx, Handlers{}) })
	cancel()
	assert.NoError(t, <-result)
	_, _, err := raw.ReadMessage()
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, CloseGoingAway, ce.Code)
}

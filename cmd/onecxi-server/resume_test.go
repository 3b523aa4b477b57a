package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/wire"
)

func TestResumeGraceFlagErrors(t *testing.T) {
	for _, v := range []string{"soon", "-1s", "11m", "30", ""} {
		var stdout, stderr servertest.SyncBuffer
		code := run(t.Context(), []string{"-resume-grace", v}, nil, &stdout, &stderr)
		assert.Equal(t, exitUsage, code, v)
		assert.Contains(t, stderr.String(), "resume-grace", v)
	}
}

// TestResumeGraceFlag: -resume-grace sets the grace a resumable call is
// told (resumable.ms), and 0 turns resumption off.
func TestResumeGraceFlag(t *testing.T) {
	tests := []struct {
		args []string
		ms   int64 // resumable.ms; 0: no resumable message
	}{
		{nil, wire.DefaultResumeGrace.Milliseconds()},
		{[]string{"-resume-grace", "2m"}, 120_000},
		{[]string{"-resume-grace", "0"}, 0},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append([]string{"flags"}, tt.args...), " "), func(t *testing.T) {
			s := startDrainServer(t, tt.args...)
			h := http.Header{}
			wire.SetCredentials(h, "acme", s.key)
			h.Set(wire.HeaderFeatures, wire.FeatureResume)
			d := websocket.Dialer{Subprotocols: []string{wire.Subprotocol}, HandshakeTimeout: waitMsg}
			ws, resp, err := d.Dial(strings.Replace(s.url, "http", "ws", 1)+wire.PathCall, h)
			if resp != nil && resp.Body != nil {
				resp.Body.Close()
			}
			require.NoError(t, err)
			defer ws.Close()
			b, err := wire.Encode(wire.Message{Type: wire.TypeStart, Kind: wire.KindInbound, To: "90000",
				RegisteredNumber: "1001"})
			require.NoError(t, err)
			require.NoError(t, ws.WriteMessage(websocket.TextMessage, b))
			read := func() wire.Message {
				_ = ws.SetReadDeadline(time.Now().Add(waitMsg))
				for {
					kind, b, err := ws.ReadMessage()
					require.NoError(t, err)
					if kind == websocket.TextMessage {
						m, err := wire.Decode(b)
						require.NoError(t, err)
						return m
					}
				}
			}
			m := read()
			if tt.ms == 0 {
				assert.Equal(t, wire.TypeAnswered, m.Type, "%+v", m)
				return
			}
			require.Equal(t, wire.TypeResumable, m.Type, "%+v", m)
			assert.Equal(t, tt.ms, m.MS)
			assert.Equal(t, wire.TypeAnswered, read().Type)
		})
	}
}

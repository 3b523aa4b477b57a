package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/cdr"
	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/wire"
)

// A real server on each database: accounts and keys changed in the
// database while it runs, and the record of a call written there.
func TestServerOnTheDatabase(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t, d.url(t))
			seedKey := server.GenerateKey()
			cfg := server.Config{Listen: "127.0.0.1:0", NodeID: "db-node", Database: "set",
				Accounts: []server.Account{{Name: "acme", APIKeyHashes: []string{server.HashKey(seedKey)},
					DIDs: map[string]string{"90000": "echo"}}}}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			srv, url := servertest.StartServer(t, cfg, server.WithLogger(log),
				server.WithAccountStore(db.Accounts()), server.WithCallRecords(db.Calls()), server.WithDeviceStore(db.Devices()))

			check := func(account, key string) int { return servertest.AuthCheck(t, url, account, key) }
			assert.Equal(t, http.StatusOK, check("acme", seedKey), "seeded from the configuration")

			key := server.GenerateKey()
			_, err := db.Accounts().AddKey(ctx, "acme", sha256.Sum256([]byte(key)))
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, check("acme", key), "a key added at run time signs in")
			_, err = db.Accounts().Revoke(ctx, "acme", "")
			require.NoError(t, err)
			assert.Equal(t, http.StatusUnauthorized, check("acme", key), "revoked")
			assert.Equal(t, http.StatusUnauthorized, check("acme", seedKey), "revoked")

			// A fresh key for an echo call, whose record lands in the database.
			key = server.GenerateKey()
			_, err = db.Accounts().AddKey(ctx, "acme", sha256.Sum256([]byte(key)))
			require.NoError(t, err)

			// A device registered through the server is in the database.
			req, err := http.NewRequest(http.MethodPost, url+wire.PathDevices,
				strings.NewReader(`{"deviceId":"desk-1","registeredNumber":"1001","platform":"desktop"}`))
			require.NoError(t, err)
			wire.SetCredentials(req.Header, "acme", key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Less(t, resp.StatusCode, 300)
			devs, err := db.Devices().ByNumber(ctx, "acme", "1001")
			require.NoError(t, err)
			require.Len(t, devs, 1)
			assert.Equal(t, "desk-1", devs[0].DeviceID)

			callID := echoCall(t, url, "acme", key)
			require.NoError(t, srv.Shutdown(ctx), "shutdown writes what is queued")
			recs, err := db.Calls().List(ctx, cdr.Query{Account: "acme"})
			require.NoError(t, err)
			require.Len(t, recs, 1)
			r := recs[0]
			assert.Equal(t, callID, r.CallID)
			assert.Equal(t, "inbound", r.Kind)
			assert.Equal(t, "1001", r.From)
			assert.Equal(t, "90000", r.To)
			assert.Equal(t, "db-node", r.Node)
			assert.False(t, r.Answer.IsZero())
			assert.Equal(t, wire.ReasonHangup, r.Reason)
		})
	}
}

// echoCall places a call to the echo DID 90000, hangs it up once answered
// and returns its ID.
func echoCall(t *testing.T, url, account, key string) string {
	t.Helper()
	h := http.Header{}
	wire.SetCredentials(h, account, key)
	d := websocket.Dialer{Subprotocols: []string{wire.Subprotocol}, HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.Dial(strings.Replace(url, "http", "ws", 1)+wire.PathCall, h)
	require.NoError(t, err)
	resp.Body.Close()
	defer ws.Close()
	require.NoError(t, ws.WriteJSON(wire.Message{Type: wire.TypeStart, Kind: wire.KindInbound, To: "90000", RegisteredNumber: "1001"}))
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(5*time.Second)))
	for {
		typ, b, err := ws.ReadMessage()
		require.NoError(t, err)
		if typ != websocket.TextMessage {
			continue
		}
		m, err := wire.Decode(b)
		require.NoError(t, err)
		require.NotEqual(t, wire.TypeError, m.Type, "%+v", m)
		if m.Type == wire.TypeAnswered {
			require.NoError(t, ws.WriteJSON(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup}))
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return m.CallID
				}
			}
		}
	}
}

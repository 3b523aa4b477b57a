package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/wire"
)

// maxReply bounds what the server says about one bad input.
const maxReply = 200

// hugeValue is 1 MiB of digits ending in a letter: not a number, not a name,
// not a duration.
var hugeValue = strings.Repeat("7", 1<<20-1) + "x"

// assertQuotesShort checks that msg is short, says what it keeps, and
// carries no more of the input than QuoteRunes characters.
func assertQuotesShort(t *testing.T, msg, keep string) {
	t.Helper()
	assert.Less(t, len(msg), maxReply, "%s", wire.Quote(msg))
	assert.Contains(t, msg, keep)
	assert.NotContains(t, msg, strings.Repeat("7", wire.QuoteRunes+1), "at most QuoteRunes characters of the input")
}

// A control message may be 4 KiB (a bigger one closes the connection, with
// nothing echoed): a value filling it is answered with a short error naming
// the field.
func TestWebSocketErrorsQuoteShort(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	long := strings.Repeat("7", wire.MaxTextMessage-200)
	tests := []struct {
		name, path, json, keep string
	}{
		{"start to", wire.PathCall, `{"type":"start","kind":"app_to_app","to":"` + long + `x","registeredNumber":"1001"}`, "to "},
		{"start kind", wire.PathCall, `{"type":"start","kind":"` + long + `","to":"1002","registeredNumber":"1001"}`, "kind"},
		{"unknown type", wire.PathCall, `{"type":"` + long + `"}`, "unknown type"},
		{"unknown field", wire.PathCall, `{"type":"start","` + long + `":1}`, "unknown field"},
		{"number field", wire.PathCall, `{"type":"ping","ref":` + long + `}`, "cannot unmarshal number"},
		{"events: unknown type", wire.PathEvents + "?" + wire.QueryRegisteredNumber + "=1001", `{"type":"` + long + `"}`, "unknown type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.LessOrEqual(t, len(tt.json), wire.MaxTextMessage)
			ws, resp, err := h.dialRaw(tt.path, h.creds("acme"), []string{wire.Subprotocol})
			require.NoError(t, err)
			resp.Body.Close()
			defer ws.Close()
			require.NoError(t, ws.SetReadDeadline(time.Now().Add(waitMsg)))
			require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(tt.json)))
			for {
				_, b, err := ws.ReadMessage()
				require.NoError(t, err, "the server answers before it closes")
				var m wire.Message
				require.NoError(t, json.Unmarshal(b, &m))
				if m.Type == wire.TypeHello {
					continue
				}
				require.Equal(t, wire.TypeError, m.Type)
				assert.Equal(t, wire.CodeBadRequest, m.Code)
				assertQuotesShort(t, m.Message, tt.keep)
				return
			}
		})
	}

}

// HTTP requests with huge fields get short answers, and the log line of a
// failed authentication quotes the account name and path short.
func TestHTTPErrorsQuoteShort(t *testing.T) {
	var logs servertest.SyncBuffer
	h := newHarness(t, harnessOpts{options: []server.Option{
		server.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
	}})
	long := strings.Repeat("7", wire.MaxRegistrationB-200)

	t.Run("registration platform", func(t *testing.T) {
		body := `{"deviceId":"d1","registeredNumber":"1001","platform":"` + long + `"}`
		resp, e := h.requestBody("POST", wire.PathDevices, "acme", strings.NewReader(body))
		assert.Equal(t, 400, resp.StatusCode)
		assertQuotesShort(t, e.Message, "platform")
	})
	t.Run("registration number", func(t *testing.T) {
		body := `{"deviceId":"d1","registeredNumber":"` + long + `x","platform":"desktop"}`
		resp, e := h.requestBody("POST", wire.PathDevices, "acme", strings.NewReader(body))
		assert.Equal(t, 400, resp.StatusCode)
		assertQuotesShort(t, e.Message, "registeredNumber")
	})
	t.Run("registration unknown field", func(t *testing.T) {
		resp, e := h.requestBody("POST", wire.PathDevices, "acme", strings.NewReader(`{"`+long+`":1}`))
		assert.Equal(t, 400, resp.StatusCode)
		assertQuotesShort(t, e.Message, "unknown field")
	})
	t.Run("events query", func(t *testing.T) {
		q := url.Values{wire.QueryRegisteredNumber: {long[:4000]}, wire.QueryDeviceID: {"d1"}}
		_, resp, err := h.dialRaw(wire.PathEvents+"?"+q.Encode(), h.creds("acme"), []string{wire.Subprotocol})
		require.Error(t, err)
		defer resp.Body.Close()
		var e wire.HTTPError
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
		assertQuotesShort(t, e.Message, wire.QueryRegisteredNumber)
	})
	t.Run("authentication", func(t *testing.T) {
		path := wire.PathAuthCheck + "?x=" + long[:4000]
		account := strings.Repeat("7", 8000)
		resp, e := h.requestBody("POST", path, "", nil)
		assert.Equal(t, 401, resp.StatusCode)
		assert.Less(t, len(e.Message), maxReply)

		hd := h.creds("acme")
		wire.SetCredentials(hd, account, "ocx_wrong")
		_, resp2, err := h.dialRaw(wire.PathCall+"?x="+long[:4000], hd, []string{wire.Subprotocol})
		require.Error(t, err)
		resp2.Body.Close()
		require.Eventually(t, func() bool { return strings.Contains(logs.String(), "authentication failed") }, waitMsg, tick)
		for _, line := range strings.Split(logs.String(), "\n") {
			assert.Less(t, len(line), 500, "%s", wire.Quote(line))
		}
	})
}

// TestPush and Inbound (a SIP call's DID) name a huge number short.
func TestServerMethodsQuoteShort(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	_, err := h.srv.Inbound(context.Background(), server.InboundCall{DID: hugeValue}, newTrunkCaller(t))
	require.ErrorIs(t, err, server.ErrNoRoute)
	assertQuotesShort(t, err.Error(), "inbound call to")
}

// A configuration with one huge bad value is refused with a short error
// that names the field.
func TestConfigErrorsQuoteShort(t *testing.T) {
	account := func(extra string) string {
		return `{"name":"a","apiKeyHashes":["` + goodHash + `"]` + extra + `}`
	}
	with := func(top, acct string) string { return `{` + top + `"accounts":[` + account(acct) + `]}` }
	tests := []struct {
		name, json, keep string
	}{
		{"listen", with(`"listen":"`+hugeValue+`",`, ``), "listen"},
		{"listen port", with(`"listen":"1.2.3.4:`+hugeValue+`",`, ``), "listen"},
		{"environment", with(`"environment":"`+hugeValue+`",`, ``), "environment"},
		{"ringTimeout", with(`"ringTimeout":"`+hugeValue+`",`, ``), "ringTimeout"},
		{"maxCalls", with(`"maxCalls":`+strings.Repeat("7", 1<<20)+`,`, ``), "maxCalls"},
		{"unknown field", with(`"`+hugeValue+`":1,`, ``), "unknown field"},
		{"account name", `{"accounts":[{"name":"` + hugeValue + `","apiKeyHashes":["` + goodHash + `"]}]}`, "accounts[0].name"},
		{"key hash", `{"accounts":[{"name":"a","apiKeyHashes":["` + hugeValue + `"]}]}`, "apiKeyHashes[0]"},
		{"DID", with(``, `,"dids":{"`+hugeValue+`":"echo"}`), "dids["},
		{"route", with(``, `,"dids":{"9":"`+hugeValue+`"}`), "route"},
		{"app route", with(``, `,"dids":{"9":"app:`+hugeValue+`"}`), "registered number"},
		{"trunk type", with(`"trunk":{"type":"`+hugeValue+`"},`, ``), "trunk.type"},
		{"trunk mode", with(`"trunk":{"mode":"tone:`+hugeValue+`"},`, ``), "trunk.mode"},
		{"trunk answerDelay", with(`"trunk":{"answerDelay":"`+hugeValue+`"},`, ``), "trunk.answerDelay"},
		{"trunk busy", with(`"trunk":{"busy":["`+hugeValue+`"]},`, ``), "trunk.busy[0]"},
		{"apns keyId", with(`"push":{"apns":{"keyFile":"k.p8","keyId":"`+hugeValue+`","teamId":"ABCDE12345","bundleId":"com.example.phone"}},`, ``), "push.apns.keyId"},
		{"apns host", with(`"push":{"apns":{"keyFile":"k.p8","keyId":"ABCDE12345","teamId":"ABCDE12345","bundleId":"com.example.phone","host":"`+hugeValue+`"}},`, ``), "push.apns.host"},
		{"fcm projectId", with(`"push":{"fcm":{"projectId":"`+hugeValue+`","credentialsFile":"c.json"}},`, ``), "push.fcm.projectId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := server.ParseConfig([]byte(tt.json))
			require.ErrorIs(t, err, server.ErrInvalidConfig)
			assertQuotesShort(t, err.Error(), tt.keep)
		})
	}

	t.Run("file", func(t *testing.T) {
		_, err := server.LoadConfig("/nonexistent/" + hugeValue)
		require.Error(t, err)
		assertQuotesShort(t, err.Error(), "load config")
	})
	t.Run("TLS files", func(t *testing.T) {
		cfg, _ := testConfig()
		cfg.TLSCert, cfg.TLSKey = "/nonexistent/"+hugeValue, "/nonexistent/"+hugeValue
		_, err := server.New(cfg)
		require.Error(t, err)
		assert.Less(t, len(err.Error()), 2*maxReply, "%s", wire.Quote(err.Error()))
		assert.Contains(t, err.Error(), "load TLS certificate")
	})
	t.Run("device database", func(t *testing.T) {
		cfg, _ := testConfig()
		cfg.DeviceDB = hugeValue
		_, err := server.New(cfg)
		require.Error(t, err)
		assertQuotesShort(t, err.Error(), "deviceDb")
	})
}

package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/wire"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	resp, err := h.httpClient().Get(h.base + wire.PathHealth)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	b, _ := io.ReadAll(resp.Body)
	assert.JSONEq(t, `{"status":"ok"}`, string(b))
}

func TestAuthCheck(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	tests := []struct {
		name    string
		header  http.Header
		status  int
		account string
	}{
		{"good key", h.creds("acme"), http.StatusOK, "acme"},
		{"other account's good key", h.creds("globex"), http.StatusOK, "globex"},
		{"wrong key", header("acme", h.keys["globex"]), http.StatusUnauthorized, ""},
		{"unknown account", header("initech", h.keys["acme"]), http.StatusUnauthorized, ""},
		{"no headers", http.Header{}, http.StatusUnauthorized, ""},
		{"account only", http.Header{wire.HeaderAccount: {"acme"}}, http.StatusUnauthorized, ""},
		{"key only", http.Header{wire.HeaderAuth: {"Bearer " + h.keys["acme"]}}, http.StatusUnauthorized, ""},
		{"not bearer", http.Header{wire.HeaderAccount: {"acme"}, wire.HeaderAuth: {"Basic " + h.keys["acme"]}}, http.StatusUnauthorized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, h.base+wire.PathAuthCheck, nil)
			require.NoError(t, err)
			req.Header = tt.header
			resp, err := h.httpClient().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			if tt.status == http.StatusOK {
				var ok wire.AuthCheckResponse
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&ok))
				assert.Equal(t, tt.account, ok.Account)
				assert.Equal(t, wire.Version, ok.Protocol)
				assert.NotEmpty(t, ok.Server)
				return
			}
			var e wire.HTTPError
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
			assert.Equal(t, wire.CodeUnauthorized, e.Code)
			assert.NotEmpty(t, e.Message)
		})
	}
}

func header(account, key string) http.Header {
	h := http.Header{}
	wire.SetCredentials(h, account, key)
	return h
}

func TestHTTPErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	tests := []struct {
		name, method, path, account string
		status                      int
		code                        wire.Code
	}{
		{"unknown path", http.MethodGet, "/nope", "", http.StatusNotFound, wire.CodeNotFound},
		{"wrong method", http.MethodGet, wire.PathAuthCheck, "acme", http.StatusMethodNotAllowed, wire.CodeBadRequest},
		{"call without credentials", http.MethodGet, wire.PathCall, "", http.StatusUnauthorized, wire.CodeUnauthorized},
		{"call without upgrade", http.MethodGet, wire.PathCall, "acme", http.StatusBadRequest, wire.CodeBadRequest},
		{"events without credentials", http.MethodGet, wire.PathEvents + "?registeredNumber=1", "", http.StatusUnauthorized, wire.CodeUnauthorized},
		{"decline without credentials", http.MethodPost, wire.DeclinePath("c_x"), "", http.StatusUnauthorized, wire.CodeUnauthorized},
		{"decline unknown call", http.MethodPost, wire.DeclinePath("c_x"), "acme", http.StatusNotFound, wire.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := h.request(tt.method, tt.path, tt.account)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.code, body.Code)
			assert.NotEmpty(t, body.Message)
		})
	}
}

func TestWebSocketUpgradeRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	tests := []struct {
		name         string
		path         string
		header       http.Header
		subprotocols []string
		status       int
		code         wire.Code
	}{
		{"call without subprotocol", wire.PathCall, h.creds("acme"), nil, http.StatusUpgradeRequired, wire.CodeUnsupported},
		{"call with another version", wire.PathCall, h.creds("acme"), []string{"onecxi.v2"}, http.StatusUpgradeRequired, wire.CodeUnsupported},
		{"events without subprotocol", wire.PathEvents + "?registeredNumber=1001", h.creds("acme"), nil, http.StatusUpgradeRequired, wire.CodeUnsupported},
		{"call with a wrong key", wire.PathCall, header("acme", "ocx_wrong"), []string{wire.Subprotocol}, http.StatusUnauthorized, wire.CodeUnauthorized},
		{"call with no credentials", wire.PathCall, http.Header{}, []string{wire.Subprotocol}, http.StatusUnauthorized, wire.CodeUnauthorized},
		{"events with a bad number", wire.PathEvents + "?registeredNumber=abc", h.creds("acme"), []string{wire.Subprotocol}, http.StatusBadRequest, wire.CodeInvalidInput},
		{"events without a number", wire.PathEvents, h.creds("acme"), []string{wire.Subprotocol}, http.StatusBadRequest, wire.CodeInvalidInput},
		{"browser from another site", wire.PathCall, withOrigin(h.creds("acme"), "https://evil.example"), []string{wire.Subprotocol}, http.StatusForbidden, wire.CodeUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, resp, err := h.dialRaw(tt.path, tt.header, tt.subprotocols)
			if ws != nil {
				ws.Close()
			}
			require.Error(t, err)
			require.NotNil(t, resp)
			defer resp.Body.Close()
			assert.Equal(t, tt.status, resp.StatusCode)
			var e wire.HTTPError
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
			assert.Equal(t, tt.code, e.Code)
		})
	}
}

func withOrigin(h http.Header, origin string) http.Header {
	h.Set("Origin", origin)
	return h
}

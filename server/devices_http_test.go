package server_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/server/providers"
	"github.com/onecxi/phone/server/sqlstore"
	"github.com/onecxi/phone/wire"
)

// register POSTs a registration body as account ("" sends no credentials).
func (h *harness) register(account, body string) (int, wire.HTTPError) {
	h.t.Helper()
	resp, e := h.requestBody(http.MethodPost, wire.PathDevices, account, strings.NewReader(body))
	return resp.StatusCode, e
}

func TestDeviceRegistryAPI(t *testing.T) {
	t.Parallel()
	store := devices.NewMemory()
	h := newHarness(t, harnessOpts{options: []server.Option{server.WithDeviceStore(store)}})
	voip := strings.Repeat("0a", 32)
	android := `{"deviceId":"and-1","registeredNumber":"1002","platform":"android","fcmToken":"tok:1"}`
	ios := `{"deviceId":"ios-1","registeredNumber":"1002","platform":"ios","voipToken":"` + voip + `"}`

	tests := []struct {
		name, account, body string
		status              int
		code                wire.Code
	}{
		{"android", "acme", android, http.StatusNoContent, ""},
		{"ios", "acme", ios, http.StatusNoContent, ""},
		{"re-register replaces", "acme", `{"deviceId":"and-1","registeredNumber":"1002","platform":"android","fcmToken":"tok:2"}`, http.StatusNoContent, ""},
		{"other account, same device ID", "globex", android, http.StatusNoContent, ""},
		{"no credentials", "", android, http.StatusUnauthorized, wire.CodeUnauthorized},
		{"invalid", "acme", `{"deviceId":"x","registeredNumber":"1002","platform":"ios"}`, http.StatusBadRequest, wire.CodeBadRequest},
		{"not json", "acme", `{`, http.StatusBadRequest, wire.CodeBadRequest},
		{"too large", "acme", `{"deviceId":"` + strings.Repeat("x", wire.MaxRegistrationB) + `"}`, http.StatusRequestEntityTooLarge, wire.CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, e := h.register(tt.account, tt.body)
			assert.Equal(t, tt.status, status)
			assert.Equal(t, tt.code, e.Code)
		})
	}

	ctx := context.Background()
	got, err := store.ByNumber(ctx, "acme", "1002")
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "tok:2", got[0].FCMToken, "re-registration replaced the token")
	assert.Equal(t, voip, got[1].VoIPToken)

	// Sign-out removes only the account's own device.
	resp, _ := h.request(http.MethodDelete, wire.PathDevices+"/and-1", "acme")
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, e := h.request(http.MethodDelete, wire.PathDevices+"/and-1", "acme")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, wire.CodeNotFound, e.Code)
	resp, _ = h.request(http.MethodDelete, wire.PathDevices+"/ios-1", "globex")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "globex cannot see acme's devices")
	resp, _ = h.request(http.MethodDelete, wire.PathDevices+"/ios-1", "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, _ = h.request(http.MethodGet, wire.PathDevices, "acme")
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	got, _ = store.ByNumber(ctx, "acme", "1002")
	assert.Len(t, got, 1)
	got, _ = store.ByNumber(ctx, "globex", "1002")
	assert.Len(t, got, 1)
}

func TestDeviceRegistryPersistsWithDeviceDB(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "devices.db")
	body := `{"deviceId":"d1","registeredNumber":"1002","platform":"desktop"}`
	func() {
		// As onecxi-server does: the store the configuration names is
		// opened by package providers and handed to the server.
		cfg, _ := testConfig()
		cfg.DeviceDB = path
		prov, err := providers.Open(context.Background(), cfg, nil)
		require.NoError(t, err)
		defer prov.Close()
		h := newHarness(t, harnessOpts{mutate: func(c *server.Config) { c.DeviceDB = path }, options: prov.Options()})
		status, _ := h.register("acme", body)
		require.Equal(t, http.StatusNoContent, status)
		require.NoError(t, h.srv.Shutdown(context.Background()))
	}()
	db, err := sqlstore.Open(context.Background(), "sqlite:"+path)
	require.NoError(t, err)
	defer db.Close()
	got, err := db.Devices().ByNumber(context.Background(), "acme", "1002")
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, wire.PlatformDesktop, got[0].Platform)
}

func TestDeviceDBConfigField(t *testing.T) {
	t.Parallel()
	cfg, err := server.ParseConfig([]byte(`{"deviceDb":"/var/lib/onecxi/devices.db","accounts":[{"name":"a","apiKeyHashes":["` + server.HashKey("ocx_0123456789abcdef0123456789abcdef") + `"]}]}`))
	require.NoError(t, err)
	assert.Equal(t, "/var/lib/onecxi/devices.db", cfg.DeviceDB)
}

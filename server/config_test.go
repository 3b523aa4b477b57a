package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/providers"
	"github.com/onecxi/phone/wire"
)

func TestExampleConfigLoads(t *testing.T) {
	cfg, err := server.LoadConfig("config.example.json")
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8471", cfg.Listen)
	assert.Equal(t, "127.0.0.1:9471", cfg.MetricsListen)
	assert.Equal(t, 45*time.Second, cfg.RingTimeout)
	require.Len(t, cfg.Accounts, 1)
	assert.Equal(t, map[string]string{"90000": "echo", "90050": "ivr", "90100": "app:1001"}, cfg.Accounts[0].DIDs)
	assert.Equal(t, time.Second, cfg.Trunk.AnswerDelay)
	assert.Equal(t, []string{"5550100"}, cfg.Trunk.Busy)
	assert.Equal(t, "onecxi-devices.db", cfg.DeviceDB)
	assert.Equal(t, server.DefaultCallsPerAccount, cfg.Limits.CallsPerAccount)
	assert.Equal(t, server.DefaultAuthBackoffMax, cfg.Limits.AuthBackoffMax)
	assert.Equal(t, "sqlite:onecxi-server.db", cfg.Database)
	assert.Equal(t, "call-1", cfg.NodeID)
	dir := t.TempDir() // not in the source tree
	cfg.DeviceDB = filepath.Join(dir, cfg.DeviceDB)
	cfg.Database = "sqlite:" + filepath.Join(dir, "onecxi-server.db")
	prov, err := providers.Open(t.Context(), cfg, nil)
	require.NoError(t, err)
	defer prov.Close()
	s, err := server.New(cfg, append(prov.Options(), stubMetrics)...)
	require.NoError(t, err)
	require.NoError(t, s.Shutdown(t.Context()))
}

// stubMetrics stands in for package server/metrics, which onecxi-server
// passes for metricsListen.
var stubMetrics = server.WithMetrics(func(*server.Server) http.Handler { return http.NotFoundHandler() })

func TestDemoConfig(t *testing.T) {
	cfg, key := server.DemoConfig()
	require.NoError(t, cfg.Validate())
	assert.True(t, strings.HasPrefix(key, "ocx_"))
	assert.Len(t, key, 4+43)
	require.Len(t, cfg.Accounts, 1)
	assert.Equal(t, "demo", cfg.Accounts[0].Name)
	assert.Equal(t, []string{server.HashKey(key)}, cfg.Accounts[0].APIKeyHashes)
	assert.Equal(t, map[string]string{"90000": "echo", "90050": "ivr"}, cfg.Accounts[0].DIDs)
	assert.Equal(t, server.DefaultListen, cfg.Listen)
	assert.Equal(t, time.Second, cfg.Trunk.AnswerDelay)
	_, key2 := server.DemoConfig()
	assert.NotEqual(t, key, key2, "a fresh key every time")
}

func TestHashKey(t *testing.T) {
	// sha256("abc")
	assert.Equal(t, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", server.HashKey("abc"))
}

const goodHash = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

func TestParseConfigErrors(t *testing.T) {
	account := `{"name":"a","apiKeyHashes":["` + goodHash + `"]}`
	withAccount := func(extra string) string { return `{` + extra + `"accounts":[` + account + `]}` }
	tests := []struct {
		name string
		json string
		want []string // substrings of the error
	}{
		{"empty", ``, []string{"empty"}},
		{"not JSON", "{\n  \"listen\": ,\n}", []string{"line 2"}},
		{"truncated", `{"listen":"1.2.3.4:5"`, []string{"truncated"}},
		{"trailing data", withAccount(``) + `{}`, []string{"trailing"}},
		{"unknown field", withAccount(`"colour":"red",`), []string{`unknown field "colour"`}},
		{"wrong type", withAccount(`"maxCalls":"many",`), []string{"maxCalls"}},
		{"no accounts", `{}`, []string{"accounts: at least one"}},
		{"node ID", withAccount(`"nodeId":"a\u0007b",`), []string{"nodeId:"}},
		{"bad listen", withAccount(`"listen":"nowhere",`), []string{"listen:"}},
		{"nats scheme", withAccount(`"nats":"http://x:4222",`), []string{"nats: NATS URL", "scheme"}},
		{"nats credentials hidden", withAccount(`"nats":"nats://u:s3cret@x:4222/p",`), []string{"nats: NATS URL \"nats://…@x:4222/", "path"}},
		{"bad port", withAccount(`"listen":"127.0.0.1:99999",`), []string{"listen:", "99999"}},
		{"cert without key", withAccount(`"tlsCert":"c.pem",`), []string{"tlsCert, tlsKey"}},
		{"key without cert", withAccount(`"tlsKey":"k.pem",`), []string{"tlsCert, tlsKey"}},
		{"environment", withAccount(`"environment":"STAGING",`), []string{"environment:", "STAGING"}},
		{"ring timeout not a duration", withAccount(`"ringTimeout":"soon",`), []string{"ringTimeout:", "soon"}},
		{"ring timeout negative", withAccount(`"ringTimeout":"-1s",`), []string{"ringTimeout:"}},
		{"ring timeout huge", withAccount(`"ringTimeout":"2h",`), []string{"ringTimeout:"}},
		{"drain delay not a duration", withAccount(`"drainDelay":"soon",`), []string{"drainDelay:", "soon"}},
		{"drain delay negative", withAccount(`"drainDelay":"-1s",`), []string{"drainDelay:"}},
		{"drain delay huge", withAccount(`"drainDelay":"2h",`), []string{"drainDelay:"}},
		{"trusted proxy not an address", withAccount(`"trustedProxies":["10.0.0.0/99"],`), []string{"trustedProxies:", "10.0.0.0/99"}},
		{"max calls negative", withAccount(`"maxCalls":-1,`), []string{"maxCalls:"}},
		{"empty account name", `{"accounts":[{"name":"","apiKeyHashes":["` + goodHash + `"]}]}`, []string{"accounts[0].name: empty"}},
		{"bad account name", `{"accounts":[{"name":"a b","apiKeyHashes":["` + goodHash + `"]}]}`, []string{"accounts[0].name:"}},
		{"duplicate account", `{"accounts":[` + account + `,` + account + `]}`, []string{"accounts[1].name:", "another account"}},
		{"no key hash", `{"accounts":[{"name":"a","apiKeyHashes":[]}]}`, []string{"accounts[0].apiKeyHashes:"}},
		{"key instead of hash", `{"accounts":[{"name":"a","apiKeyHashes":["ocx_abcdefghijklmnopqrstuvwxyz0123456789"]}]}`, []string{"accounts[0].apiKeyHashes[0]:"}},
		{"short hash", `{"accounts":[{"name":"a","apiKeyHashes":["sha256:abcd"]}]}`, []string{"accounts[0].apiKeyHashes[0]:"}},
		{"hash not hex", `{"accounts":[{"name":"a","apiKeyHashes":["sha256:` + strings.Repeat("zz", 32) + `"]}]}`, []string{"apiKeyHashes[0]"}},
		{"bad DID", `{"accounts":[{"name":"a","apiKeyHashes":["` + goodHash + `"],"dids":{"9x":"echo"}}]}`, []string{`accounts[0].dids["9x"]`}},
		{"bad route", `{"accounts":[{"name":"a","apiKeyHashes":["` + goodHash + `"],"dids":{"9":"fax"}}]}`, []string{`accounts[0].dids["9"]`, "fax"}},
		{"bad app route", `{"accounts":[{"name":"a","apiKeyHashes":["` + goodHash + `"],"dids":{"9":"app:bob"}}]}`, []string{`accounts[0].dids["9"]`, "bob"}},
		{"trunk type", withAccount(`"trunk":{"type":"pots"},`), []string{"trunk.type:", "pots"}},
		{"sip trunk without its section", withAccount(`"trunk":{"type":"sip"},`), []string{"trunk.sip:", "needs"}},
		{"sip section of a simulated trunk", withAccount(`"trunk":{"sip":{"trunks":[]}},`), []string{"trunk.sip:", "only"}},
		{"DID of two accounts with a SIP trunk", `{"trunk":{"type":"sip","sip":{}},"accounts":[` +
			`{"name":"a","apiKeyHashes":["` + goodHash + `"],"dids":{"9":"echo"}},` +
			`{"name":"b","apiKeyHashes":["` + goodHash + `"],"dids":{"9":"ivr"}}]}`, []string{`accounts[1].dids["9"]`, `account "a"`}},
		{"trunk mode", withAccount(`"trunk":{"mode":"music"},`), []string{"trunk.mode:"}},
		{"trunk tone too high", withAccount(`"trunk":{"mode":"tone:5000"},`), []string{"trunk.mode:"}},
		{"trunk tone not a number", withAccount(`"trunk":{"mode":"tone:loud"},`), []string{"trunk.mode:"}},
		{"answer delay", withAccount(`"trunk":{"answerDelay":"later"},`), []string{"trunk.answerDelay:"}},
		{"answer delay negative", withAccount(`"trunk":{"answerDelay":"-1s"},`), []string{"trunk.answerDelay:"}},
		{"busy number", withAccount(`"trunk":{"busy":["call me"]},`), []string{"trunk.busy[0]:"}},
		{"several problems at once", `{"environment":"X","accounts":[{"name":"","apiKeyHashes":[]}]}`,
			[]string{"environment:", "accounts[0].name", "accounts[0].apiKeyHashes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := server.ParseConfig([]byte(tt.json))
			require.Error(t, err)
			assert.ErrorIs(t, err, server.ErrInvalidConfig)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestADatabaseMayHoldEveryAccount(t *testing.T) {
	cfg, err := server.ParseConfig([]byte(`{"database":"sqlite:x.db"}`))
	require.NoError(t, err)
	assert.Empty(t, cfg.Accounts)
	host, _ := os.Hostname()
	assert.Equal(t, host, cfg.NodeID, "the node ID defaults to the host name")
}

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := server.ParseConfig([]byte(`{"accounts":[{"name":"a","apiKeyHashes":["` + goodHash + `"]}]}`))
	require.NoError(t, err)
	assert.Equal(t, server.DefaultListen, cfg.Listen)
	assert.Equal(t, server.EnvDevelopment, cfg.Environment)
	assert.Equal(t, wire.DefaultRingTimeout, cfg.RingTimeout)
	assert.Equal(t, server.DefaultMaxCalls, cfg.MaxCalls)
	assert.Equal(t, server.TrunkConfig{Type: "simulated", AnswerDelay: time.Second, Mode: "echo"}, cfg.Trunk)

	cfg, err = server.ParseConfig([]byte(`{"accounts":[{"name":"a","apiKeyHashes":["` + goodHash + `"]}],"trunk":{"answerDelay":"0s"}}`))
	require.NoError(t, err)
	assert.Zero(t, cfg.Trunk.AnswerDelay, "an explicit 0s answers at once")
}

func TestParseConfigNATS(t *testing.T) {
	cfg, err := server.ParseConfig([]byte(`{"accounts":[{"name":"a","apiKeyHashes":["` + goodHash + `"]}],"nats":"nats://n1:4222, tls://n2"}`))
	require.NoError(t, err)
	assert.Equal(t, "nats://n1:4222, tls://n2", cfg.NATS)
	urls, err := server.ParseNATSURLs(cfg.NATS)
	require.NoError(t, err)
	assert.Equal(t, []string{"nats://n1:4222", "tls://n2"}, urls)
	assert.Equal(t, []string{"nats://…@h:1"}, server.NATSHosts([]string{"nats://user:pw@h:1"}))

	_, err = server.ParseNATSURLs("nats://" + strings.Repeat("x", 10000) + ":1/p")
	var ue *server.NATSURLError
	require.ErrorAs(t, err, &ue)
	assert.Less(t, len(err.Error()), 200, "a short prefix only")
}

func TestLoadConfigErrorsNameTheFile(t *testing.T) {
	_, err := server.LoadConfig(filepath.Join(t.TempDir(), "missing.json"))
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)

	path := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"accounts":[]}`), 0o600))
	_, err = server.LoadConfig(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Base(path))
	assert.ErrorIs(t, err, server.ErrInvalidConfig)
}

func TestNewRejectsMissingTLSFiles(t *testing.T) {
	cfg, _ := testConfig()
	cfg.TLSCert, cfg.TLSKey = "/nonexistent/cert.pem", "/nonexistent/key.pem"
	_, err := server.New(cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cert.pem")
}

func FuzzLoadConfig(f *testing.F) {
	example, err := os.ReadFile("config.example.json")
	require.NoError(f, err)
	f.Add(example)
	f.Add([]byte(`{"accounts":[{"name":"a","apiKeyHashes":["` + goodHash + `"],"dids":{"1":"app:2"}}],"trunk":{"mode":"tone:440","answerDelay":"1ms"}}`))
	f.Add([]byte(`{"ringTimeout":"1e9h"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := server.ParseConfig(data)
		if err != nil {
			return
		}
		// Whatever parses must validate and be accepted by New.
		require.NoError(t, cfg.Validate())
		if cfg.DeviceDB != "" {
			// Whatever path the input names, open the database somewhere harmless.
			cfg.DeviceDB = filepath.Join(t.TempDir(), "devices.db")
		}
		if cfg.Database != "" {
			// Likewise (and never a network database).
			cfg.Database = "sqlite:" + filepath.Join(t.TempDir(), "server.db")
		}
		if cfg.TLSCert == "" {
			prov, err := providers.Open(t.Context(), cfg, nil)
			require.NoError(t, err)
			defer prov.Close()
			s, err := server.New(cfg, append(prov.Options(), server.WithLogger(testLogger()), stubMetrics)...)
			require.NoError(t, err)
			require.NoError(t, s.Shutdown(t.Context()))
		}
	})
}

func TestSIPTrunkSectionIsKeptForTheGateway(t *testing.T) {
	cfg, err := server.ParseConfig([]byte(`{"accounts":[{"name":"a","apiKeyHashes":["` + goodHash + `"]}],` +
		`"trunk":{"type":"sip","sip":{"trunks":[{"host":"pbx.example"}]}}}`))
	require.NoError(t, err)
	assert.Equal(t, server.TrunkSIP, cfg.Trunk.Type)
	assert.JSONEq(t, `{"trunks":[{"host":"pbx.example"}]}`, string(cfg.Trunk.SIP))

	// The server does not speak SIP itself: the gateway must be passed in.
	_, err = server.New(cfg)
	require.ErrorIs(t, err, server.ErrInvalidConfig)
	assert.ErrorContains(t, err, "WithTrunk")
}

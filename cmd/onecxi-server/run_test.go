package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/wire"
)

func TestUsageErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	badConfig := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(badConfig, []byte(`{"accounts":[{"name":""}]}`), 0o600))
	goodConfig := filepath.Join(dir, "good.json")
	require.NoError(t, os.WriteFile(goodConfig, []byte(`{"listen":"127.0.0.1:0","accounts":[{"name":"a","apiKeyHashes":["`+
		server.HashKey("k")+`"]}]}`), 0o600))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"-frobnicate"}, "frobnicate"},
		{"stray argument", []string{"serve"}, "unexpected argument"},
		{"bad log level", []string{"-log-level", "loud"}, "-log-level"},
		{"bad ring timeout", []string{"-ring-timeout", "soon"}, "ring-timeout"},
		{"missing config", []string{"-config", filepath.Join(dir, "nope.json")}, "nope.json"},
		{"invalid config", []string{"-config", badConfig}, "accounts[0].name"},
		{"bad listen override", []string{"-listen", "nowhere"}, "listen"},
		{"cert without key", []string{"-tls-cert", "c.pem"}, "tlsKey"},
		{"unreadable cert", []string{"-tls-cert", "/nonexistent/c.pem", "-tls-key", "/nonexistent/k.pem"}, "c.pem"},
		{"gen-key with arguments", []string{"gen-key", "x"}, "usage"},
		{"database without a config", []string{"-database", "sqlite:" + filepath.Join(dir, "x.db")}, "-database needs a -config"},
		{"bad database", []string{"-config", goodConfig, "-database", "mysql://x"}, "is not sqlite:<file> or postgres://"},
		{"hash-key with nothing on stdin", []string{"hash-key"}, "no key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr servertest.SyncBuffer
			code := run(t.Context(), tt.args, strings.NewReader(""), &stdout, &stderr)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr.String(), tt.want)
			assert.Empty(t, stdout.String())
		})
	}
}

func TestGenKey(t *testing.T) {
	var stdout, stderr servertest.SyncBuffer
	require.Equal(t, exitOK, run(t.Context(), []string{"gen-key"}, nil, &stdout, &stderr))
	m := regexp.MustCompile(`(ocx_\S+)\n.*(sha256:[0-9a-f]{64})`).FindStringSubmatch(stdout.String())
	require.Len(t, m, 3, stdout.String())
	assert.Equal(t, server.HashKey(m[1]), m[2])
}

func TestHashKey(t *testing.T) {
	var stdout, stderr servertest.SyncBuffer
	require.Equal(t, exitOK, run(t.Context(), []string{"hash-key"}, strings.NewReader("abc\n"), &stdout, &stderr))
	assert.Equal(t, server.HashKey("abc")+"\n", stdout.String())
}

func TestDemoServerPrintsItsKeyOnceAndServes(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr servertest.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-log-level", "debug"}, nil, &stdout, &stderr)
	}()

	re := regexp.MustCompile(`server URL:\s+(\S+)\n\s+account:\s+(\S+)\n\s+API key:\s+(\S+)`)
	var m []string
	require.Eventually(t, func() bool {
		m = re.FindStringSubmatch(stdout.String())
		return m != nil
	}, 5*time.Second, 10*time.Millisecond, "banner: %s", stdout.String())
	url, account, key := m[1], m[2], m[3]
	assert.Equal(t, "demo", account)
	assert.Equal(t, 1, strings.Count(stdout.String(), key), "the key is printed once")

	req, err := http.NewRequest(http.MethodPost, url+wire.PathAuthCheck, nil)
	require.NoError(t, err)
	wire.SetCredentials(req.Header, account, key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var ok wire.AuthCheckResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ok))
	resp.Body.Close()
	assert.Equal(t, "demo", ok.Account)

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	assert.NotContains(t, stderr.String(), key, "the key never reaches the log")
	assert.Contains(t, stderr.String(), "shutting down")
}

func TestConfigFileServes(t *testing.T) {
	key := server.GenerateKey()
	cfg := `{"listen":"127.0.0.1:0","accounts":[{"name":"acme","apiKeyHashes":["` + server.HashKey(key) + `"]}]}`
	path := filepath.Join(t.TempDir(), "config.json")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr servertest.SyncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"-config", path, "-ring-timeout", "5s"}, nil, &stdout, &stderr) }()
	re := regexp.MustCompile(`url=(http://\S+)`)
	var m []string
	require.Eventually(t, func() bool {
		m = re.FindStringSubmatch(stderr.String())
		return m != nil
	}, 5*time.Second, 10*time.Millisecond, "serving log line: %s", stderr.String())
	resp, err := http.Get(m[1] + wire.PathHealth)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	cancel()
	assert.Equal(t, exitOK, <-done)
	assert.Empty(t, stdout.String(), "no demo banner with a config file")
}

func TestTestPushFlags(t *testing.T) {
	for _, args := range [][]string{
		{"test-push"},
		{"test-push", "-config", "x.json", "-account", "a"},
		{"test-push", "-config", "x.json", "-account", "a", "-number", "1", "-ring", "2h"},
		{"test-push", "-bogus"},
	} {
		var out, errb bytes.Buffer
		assert.Equal(t, exitUsage, run(context.Background(), args, nil, &out, &errb), "%v", args)
	}
	cfg := filepath.Join(t.TempDir(), "server.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"accounts":[{"name":"example","apiKeyHashes":["`+
		server.HashKey("ocx_0123456789abcdef0123456789abcdef")+`"]}]}`), 0o600))
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"test-push", "-config", cfg, "-account", "example", "-number", "1002"}, nil, &out, &errb)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errb.String(), "no push provider")
}

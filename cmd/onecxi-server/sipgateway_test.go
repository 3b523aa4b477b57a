package main

import (
	"context"
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

func sipConfig(t *testing.T, sip string) string {
	t.Helper()
	cfg := `{"listen":"127.0.0.1:0","accounts":[{"name":"acme","apiKeyHashes":["` + server.HashKey(server.GenerateKey()) +
		`"],"dids":{"5000":"echo"}}],"trunk":{"type":"sip","sip":` + sip + `}}`
	path := filepath.Join(t.TempDir(), "config.json")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	return path
}

func TestSIPTrunkConfigStartsTheGateway(t *testing.T) {
	path := sipConfig(t, `{"listen":"127.0.0.1:0","trunks":[{"name":"pbx","host":"127.0.0.1","port":5099,
		"username":"u","password":"s3cret-never-logged"}]}`)
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr servertest.SyncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"-config", path, "-log-level", "debug"}, nil, &stdout, &stderr) }()
	re := regexp.MustCompile(`url=(http://\S+)`)
	var m []string
	require.Eventually(t, func() bool {
		m = re.FindStringSubmatch(stderr.String())
		return m != nil
	}, 5*time.Second, 10*time.Millisecond, "serving log line: %s", stderr.String())
	assert.Contains(t, stderr.String(), "SIP gateway listening")
	resp, err := http.Get(m[1] + wire.PathHealth)
	require.NoError(t, err)
	resp.Body.Close()
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	assert.NotContains(t, stderr.String(), "s3cret-never-logged")
}

func TestSIPTrunkConfigErrorsExit2(t *testing.T) {
	tests := []struct{ name, sip, want string }{
		{"no trunks", `{"listen":"127.0.0.1:0"}`, "trunk.sip.trunks"},
		{"unknown field", `{"trunks":[{"host":"127.0.0.1"}],"bogus":1}`, "bogus"},
		{"bad transport", `{"trunks":[{"host":"127.0.0.1","transport":"sctp"}]}`, "trunk.sip.trunks[0].transport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr servertest.SyncBuffer
			code := run(t.Context(), []string{"-config", sipConfig(t, tt.sip)}, strings.NewReader(""), &stdout, &stderr)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr.String(), tt.want)
		})
	}
}

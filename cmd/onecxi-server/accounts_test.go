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
	"github.com/onecxi/phone/server/cdr"
	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/server/sqlstore"
)

// cli runs one subcommand and returns its exit code and output.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb servertest.SyncBuffer
	code = run(t.Context(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

var keyLine = regexp.MustCompile(`API key:\s+(ocx_\S+)`)

func TestAccountCommandsChangeARunningServer(t *testing.T) {
	dir := t.TempDir()
	acmeKey := server.GenerateKey()
	cfgPath := filepath.Join(dir, "server.json")
	require.NoError(t, os.WriteFile(cfgPath, []byte(`{"listen":"127.0.0.1:0","database":"sqlite:`+filepath.Join(dir, "server.db")+
		`","nodeId":"test-node","accounts":[{"name":"acme","apiKeyHashes":["`+server.HashKey(acmeKey)+`"]}]}`), 0o600))

	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr servertest.SyncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"-config", cfgPath}, nil, &stdout, &stderr) }()
	defer func() {
		cancel()
		assert.Equal(t, exitOK, <-done)
	}()
	re := regexp.MustCompile(`url=(http://\S+)`)
	var m []string
	require.Eventually(t, func() bool {
		m = re.FindStringSubmatch(stderr.String())
		return m != nil
	}, 5*time.Second, 10*time.Millisecond, "serving log line: %s", stderr.String())
	url := m[1]
	check := func(account, key string) int { return servertest.AuthCheck(t, url, account, key) }
	assert.Equal(t, http.StatusOK, check("acme", acmeKey), "the configured account, seeded")

	code, out, errOut := cli(t, "account", "add", "-config", cfgPath, "-did", "90000=echo", "initech")
	require.Equal(t, exitOK, code, errOut)
	k1 := keyLine.FindStringSubmatch(out)
	require.NotNil(t, k1, out)
	assert.Equal(t, 1, strings.Count(out, k1[1]), "the key is printed once")
	assert.Equal(t, http.StatusOK, check("initech", k1[1]), "added while the server runs")

	code, out, errOut = cli(t, "account", "rotate", "-config", cfgPath, "initech")
	require.Equal(t, exitOK, code, errOut)
	k2 := keyLine.FindStringSubmatch(out)
	require.NotNil(t, k2, out)
	assert.Contains(t, out, "revoked key")
	assert.Equal(t, http.StatusOK, check("initech", k2[1]))
	assert.Equal(t, http.StatusUnauthorized, check("initech", k1[1]), "rotated out")

	code, out, errOut = cli(t, "account", "list", "-config", cfgPath)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "acme")
	assert.Contains(t, out, "initech")
	assert.Contains(t, out, "90000=echo")
	assert.NotContains(t, out, k2[1], "keys are never listed")

	code, out, errOut = cli(t, "account", "revoke", "-config", cfgPath, "initech")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "revoked 1 key")
	assert.Equal(t, http.StatusUnauthorized, check("initech", k2[1]), "revoked at once")

	code, _, errOut = cli(t, "account", "add", "-config", cfgPath, "initech")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "already exists")
	assert.NotContains(t, stderr.String(), k2[1], "no key reaches the server's log")
}

func TestCallsListsRecords(t *testing.T) {
	url := "sqlite:" + filepath.Join(t.TempDir(), "server.db")
	db, err := sqlstore.Open(t.Context(), url)
	require.NoError(t, err)
	t0 := time.Now().Add(-time.Hour)
	require.NoError(t, db.Calls().Write(t.Context(), []cdr.Record{
		{CallID: "call-old", Account: "acme", Kind: "inbound", From: "1001", To: "90000", Node: "n1",
			Start: t0.Add(-48 * time.Hour), End: t0.Add(-48 * time.Hour), Reason: "no_answer"},
		{CallID: "call-new", Account: "acme", Kind: "app_to_app", From: "1001", To: "1002", Node: "n1",
			Start: t0, Answer: t0.Add(time.Second), End: t0.Add(61 * time.Second), Duration: time.Minute, Reason: "hangup"},
		{CallID: "call-globex", Account: "globex", Kind: "outbound", From: "2001", To: "5550100", Node: "n2",
			Start: t0, End: t0.Add(time.Second), Reason: "busy"},
	}))
	require.NoError(t, db.Close())

	code, out, errOut := cli(t, "calls", "-database", url, "-account", "acme", "-since", "24h")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "call-new")
	assert.Contains(t, out, "1m0s")
	assert.NotContains(t, out, "call-old")
	assert.NotContains(t, out, "call-globex")

	code, out, _ = cli(t, "calls", "-database", url, "-limit", "1")
	require.Equal(t, exitOK, code)
	assert.Equal(t, 2, strings.Count(out, "\n"), "a header and one call: %s", out)
}

func TestAccountAndCallsInputErrors(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	db := "sqlite:" + filepath.Join(t.TempDir(), "server.db")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no verb", []string{"account"}, "usage"},
		{"unknown verb", []string{"account", "frob" + huge}, "is not add, rotate, revoke or list"},
		{"no name", []string{"account", "add", "-database", db}, "NAME is required"},
		{"bad name", []string{"account", "add", "-database", db, "bad name" + huge}, "is not 1-64"},
		{"two names", []string{"account", "add", "-database", db, "a", "b"}, "unexpected"},
		{"bad DID", []string{"account", "add", "-database", db, "-did", "9x" + huge + "=echo", "a"}, "-did"},
		{"bad route", []string{"account", "add", "-database", db, "-did", "90000=fax", "a"}, "fax"},
		{"not DID=route", []string{"account", "add", "-database", db, "-did", "90000", "a"}, "DID=route"},
		{"bad key ID", []string{"account", "revoke", "-database", db, "-key", "ocx_" + huge, "a"}, "is not a key ID"},
		{"no database", []string{"account", "list"}, "no database"},
		{"bad database", []string{"account", "list", "-database", "mysql://u:secretpw@h/" + huge}, "is not sqlite:<file> or postgres://"},
		{"calls: bad since", []string{"calls", "-database", db, "-since", "yesterday" + huge}, "-since"},
		{"calls: bad limit", []string{"calls", "-database", db, "-limit", "0"}, "-limit"},
		{"calls: bad account", []string{"calls", "-database", db, "-account", "a b"}, "-account"},
		{"calls: stray", []string{"calls", "-database", db, "x"}, "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(t, tt.args...)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, errOut, tt.want)
			assert.Less(t, len(errOut), 3000, "input is quoted short")
			assert.NotContains(t, errOut, "secretpw")
			assert.Empty(t, out)
		})
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"24h":                  now.Add(-24 * time.Hour),
		"2026-03-01":           time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		"2026-03-01T10:00:00Z": time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
	} {
		got, err := parseSince(in, now)
		require.NoError(t, err, in)
		assert.True(t, want.Equal(got), in)
	}
	_, err := parseSince("-1h", now)
	var ie *InputError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "-since", ie.Arg)
}

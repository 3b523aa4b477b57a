package main

import (
	"strings"
	"testing"
	"time"

	"github.com/onecxi/phone/server/servertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScenariosAgainstTheBuiltServer builds onecxi-server and runs every
// scenario against it, shortened: what an operator's run shows, in seconds.
func TestScenariosAgainstTheBuiltServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs onecxi-server")
	}
	bin, err := buildServer(t.Context(), t.TempDir())
	require.NoError(t, err)
	cfg := config{
		resets:       5,
		echoFor:      500 * time.Millisecond,
		drainStream:  time.Second,
		secondSignal: time.Second,
		drainTimeout: time.Second,
		resumeGrace:  time.Second,
		settle:       50 * time.Millisecond,
	}
	// What each scenario's timeline must show, besides succeeding.
	want := map[string][]string{
		"drain": {`call receives {"type":"draining","ms":29`, `/readyz 503 {"code":"shutting_down"`, "/healthz 200 (live)",
			"a new /v1/call upgrade: 503 shutting_down", "the echo goes on", "server: drained: all calls finished",
			"the server closes the call's socket: 1000", "the process exits: exit code 0"},
		"cut": {"a second SIGTERM", "server: drain cut short by shutdown",
			`call receives {"type":"end","reason":"shutdown"}`, "the server closes the call's socket: 1001", "the process exits: exit code 0"},
		"timeout": {`call receives {"type":"draining","ms":9`, "server: WARN drain timeout: calls still live will be cut",
			`call receives {"type":"end","reason":"shutdown"}`, "the process exits: exit code 0"},
		"resume": {`"token":"<43 characters>","ms":1000}`, "5 resets", "handshake, drop → resumed received:", "audio gap, drop → first echoed frame:", "n=5)",
			"after the last resume: 440 Hz echoed back", "server: call party did not come back in time",
			`a late resume{callId, token} gets {"type":"end","reason":"network_lost"}`, "the process exits: exit code 0"},
	}
	for _, s := range scenarios(cfg) {
		t.Run(s.name, func(t *testing.T) {
			var out servertest.SyncBuffer
			err := runScenario(t.Context(), bin, cfg, s, &out)
			t.Log("\n" + out.String())
			require.NoError(t, err)
			for _, w := range want[s.name] {
				assert.Contains(t, out.String(), w)
			}
		})
	}
}

func TestPick(t *testing.T) {
	t.Parallel()
	all := scenarios(defaultConfig())
	got, err := pick(all, splitList(" resume, drain "))
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "drain", got[0].name, "in the usual order")
	assert.Equal(t, "resume", got[1].name)
	got, err = pick(all, nil)
	require.NoError(t, err)
	assert.Len(t, got, 4)
	_, err = pick(all, []string{"drian"})
	assert.ErrorContains(t, err, `no scenario "drian"`)
}

func TestDemoReaderFindsURLAndKey(t *testing.T) {
	t.Parallel()
	d := newDemoReader()
	// cmd/onecxi-server printDemo, in two writes.
	out := `
OneCxi demo server (DEVELOPMENT only: a new key is generated on every start)
  server URL:  http://127.0.0.1:40123
  account:     demo
  API key:     k3y_abc-DEF

`
	_, _ = d.Write([]byte(out[:60]))
	select {
	case <-d.found:
		t.Fatal("found before the key was written")
	default:
	}
	_, _ = d.Write([]byte(out[60:]))
	assert.Equal(t, endpoint{base: "http://127.0.0.1:40123", account: "demo", key: "k3y_abc-DEF"}, <-d.found)
}

func TestLogLines(t *testing.T) {
	t.Parallel()
	l := parseLogLine(time.Time{}, `time=2026-01-02T03:04:05.000Z level=INFO msg="call ended" account=demo remote=127.0.0.1:5 callId=c_1 reason=hangup duration=4s`)
	assert.Equal(t, "call ended", l.msg)
	assert.Equal(t, "call ended callId=c_1 reason=hangup duration=4s", l.String(), "account and remote left out")
	l = parseLogLine(time.Time{}, `time=2026-01-02T03:04:05.000Z level=WARN msg="drain timeout: calls still live will be cut" calls=1 after=2s`)
	assert.Equal(t, "WARN drain timeout: calls still live will be cut calls=1 after=2s", l.String())
	l = parseLogLine(time.Time{}, `time=2026-01-02T03:04:05.000Z level=INFO msg=draining calls=1`)
	assert.Equal(t, "draining", l.msg)
	assert.True(t, relevantLog.MatchString(l.msg))
	l = parseLogLine(time.Time{}, "not slog")
	assert.Equal(t, "not slog", l.String())

	s := newServerLog()
	var shown []string
	s.follow(func(l logLine) { shown = append(shown, l.msg) })
	_, _ = s.Write([]byte("time=x level=INFO msg=serving url=http://a\ntime=x level=INFO msg=\"call start"))
	_, _ = s.Write([]byte("ed\" callId=c_1\n"))
	assert.Equal(t, []string{"call started"}, shown, "only relevant lines, whole lines")
	assert.True(t, strings.HasSuffix(s.text(), "callId=c_1\n"))
}

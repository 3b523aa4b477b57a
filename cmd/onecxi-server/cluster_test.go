package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/internal/natstest"
	"github.com/onecxi/phone/server/servertest"
)

// serveNode runs onecxi-server with args and returns its metrics URL and a
// function that stops it (and checks it exited cleanly).
func serveNode(t *testing.T, args ...string) (metricsURL string, stderr *servertest.SyncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var stdout servertest.SyncBuffer
	stderr = &servertest.SyncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"-listen", "127.0.0.1:0", "-metrics-listen", "127.0.0.1:0"}, args...), nil, &stdout, stderr)
	}()
	ops := regexp.MustCompile(`msg="serving metrics" url=(http://\S+/metrics)`)
	var m []string
	require.Eventually(t, func() bool {
		m = ops.FindStringSubmatch(stderr.String())
		return m != nil
	}, 10*time.Second, 10*time.Millisecond, "serving log line: %s", stderr.String())
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			assert.Equal(t, exitOK, code, "%s", stderr.String())
		case <-time.After(15 * time.Second):
			t.Fatal("run did not return after its context ended")
		}
	}
	t.Cleanup(stop)
	return m[1], stderr, stop
}

func clusterNodes(t *testing.T, url string) string {
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^onecxi_cluster_nodes (\S+)$`).FindStringSubmatch(string(b))
	if m == nil {
		return ""
	}
	return m[1]
}

// By default the server embeds NATS: a cluster of one, no extra port,
// nothing to install.
func TestClusterEmbeddedByDefault(t *testing.T) {
	url, stderr, _ := serveNode(t, "-node-id", "solo")
	assert.Regexp(t, `msg="cluster joined" node=solo nats=embedded embedded=true`, stderr.String())
	require.Eventually(t, func() bool { return clusterNodes(t, url) == "1" }, 5*time.Second, 10*time.Millisecond)
}

// Two servers joining one NATS with -nats see each other; one stopping
// says goodbye and the other counts one node again at once.
func TestClusterOverNATS(t *testing.T) {
	natsURL := natstest.Start(t)
	a, aLog, _ := serveNode(t, "-node-id", "a", "-nats", natsURL)
	b, _, stopB := serveNode(t, "-node-id", "b", "-nats", natsURL)
	require.Eventually(t, func() bool { return clusterNodes(t, a) == "2" && clusterNodes(t, b) == "2" }, 5*time.Second, 10*time.Millisecond)
	assert.Contains(t, aLog.String(), "embedded=false")
	stopB()
	require.Eventually(t, func() bool { return clusterNodes(t, a) == "1" }, 5*time.Second, 10*time.Millisecond)
	assert.Contains(t, aLog.String(), `msg="cluster node left" node="\"b\""`)
}

// Bad -nats lists are usage errors that show no credentials and at most a
// short prefix of what was given.
func TestNATSFlagIsChecked(t *testing.T) {
	long := "nats://" + strings.Repeat("h", 5000) + ":1/path"
	for _, tt := range []struct{ arg, want string }{
		{"http://x:4222", "scheme"},
		{"nats://", "no host"},
		{"nats://x:99999", "port"},
		{"nats://x:4222,", "not a URL"},
		{"nats://user:s3cret@x:bad", "not a URL"},
		{long, "path"},
	} {
		t.Run(tt.arg[:min(len(tt.arg), 20)], func(t *testing.T) {
			var stdout, stderr servertest.SyncBuffer
			assert.Equal(t, exitUsage, run(t.Context(), []string{"-nats", tt.arg}, nil, &stdout, &stderr))
			assert.Contains(t, stderr.String(), "-nats: NATS URL ")
			assert.Contains(t, stderr.String(), tt.want)
			assert.NotContains(t, stderr.String(), "s3cret")
			assert.Less(t, len(stderr.String()), 400)
		})
	}
}

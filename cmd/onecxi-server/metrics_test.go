package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/wire"
)

// -metrics-listen opens the operations listener: Prometheus metrics,
// /healthz and /readyz; the call listener has no /metrics.
func TestMetricsListener(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr servertest.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-metrics-listen", "127.0.0.1:0"}, nil, &stdout, &stderr)
	}()
	ops := regexp.MustCompile(`msg="serving metrics" url=(http://\S+)/metrics`)
	calls := regexp.MustCompile(`msg=serving url=(http://\S+)`)
	var o, c []string
	require.Eventually(t, func() bool {
		o, c = ops.FindStringSubmatch(stderr.String()), calls.FindStringSubmatch(stderr.String())
		return o != nil && c != nil
	}, 5*time.Second, 10*time.Millisecond, "serving log lines: %s", stderr.String())

	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := get(o[1] + "/metrics")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "onecxi_ready 1\n")
	assert.Contains(t, body, `onecxi_calls_started_total{type="inbound"} 0`)
	status, _ = get(o[1] + wire.PathReady)
	assert.Equal(t, http.StatusOK, status)
	status, _ = get(c[1] + "/metrics")
	assert.Equal(t, http.StatusNotFound, status, "no metrics on the call listener")
	status, _ = get(c[1] + wire.PathReady)
	assert.Equal(t, http.StatusOK, status)

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}

func TestMetricsListenFlagIsChecked(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, exitUsage, run(context.Background(), []string{"-metrics-listen", "nohost"}, nil, &out, &errb))
	assert.Contains(t, errb.String(), "-metrics-listen")
}

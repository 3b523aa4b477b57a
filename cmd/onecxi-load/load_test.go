package main

import (
	"context"
	"encoding/binary"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/wire"
)

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 100; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	assert.Equal(t, 50*time.Millisecond+bucketWidth, h.quantile(0.5))
	assert.Equal(t, 99*time.Millisecond+bucketWidth, h.quantile(0.99))
	h.record(time.Hour)
	assert.Greater(t, h.quantile(1), time.Hour, "beyond the last bucket reads as unbounded")
	h.reset()
	assert.Zero(t, h.quantile(0.5))
}

func TestStreamCountsLossAndReordering(t *testing.T) {
	var tx, rx stream
	frames := make([][]byte, 6)
	for i := range frames {
		frames[i] = append([]byte(nil), tx.frame()...) // frame reuses its buffer
	}
	// 0 1 3 2 5: frame 4 lost, 2 arrives after 3.
	for _, i := range []int{0, 1, 3, 2, 5} {
		d := rx.receive(frames[i])
		assert.GreaterOrEqual(t, d, time.Duration(0))
	}
	assert.Equal(t, uint64(5), rx.received.Load())
	assert.Equal(t, uint64(1), rx.lost.Load(), "only frame 4 is lost")
	assert.Equal(t, uint64(1), rx.late.Load())
	assert.Equal(t, byte(wire.FlagMarker), frames[0][1], "first frame carries the marker")
	assert.Equal(t, uint32(3*wire.FrameSamples), binary.BigEndian.Uint32(frames[3][6:10]))
	require.NoError(t, wire.CheckAudio(frames[5]))
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"-calls", "10,20", "-duration", "2s"})
	require.NoError(t, err)
	assert.Equal(t, []int{10, 20}, c.sizes)
	assert.Equal(t, map[bool]string{true: streamPoll, false: streamGoroutines}[canDetach], c.stream)

	t.Setenv("ONECXI_API_KEY", "k")
	c, err = parseFlags([]string{"-server", "https://example.test", "-account", "a"})
	require.NoError(t, err)
	assert.Equal(t, streamGoroutines, c.stream, "TLS cannot be polled raw: auto falls back")

	for _, bad := range [][]string{
		{"-calls", "0"}, {"-calls", "x"}, {"-ramp", "0"}, {"-duration", "10ms"},
		{"-server", "http://127.0.0.1:1"}, // no account
		{"-stream", "threads"},
		{"-stream", "poll", "-server", "wss://example.test", "-account", "a"},
		{"extra"},
	} {
		_, err := parseFlags(bad)
		assert.Error(t, err, "%v", bad)
	}
}

func TestRoundAgainstARealServer(t *testing.T) {
	modes := []string{streamGoroutines}
	if canDetach {
		modes = append(modes, streamPoll)
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			cfg, key := server.DemoConfig()
			srv, url := servertest.StartServer(t, cfg, server.WithLogger(slog.New(slog.DiscardHandler)))

			c := config{sizes: []int{3}, ramp: 100, warmup: 200 * time.Millisecond, duration: time.Second,
				server: url, account: "demo", key: key, stream: mode}
			res, err := round(context.Background(), c, 3, 1)
			require.NoError(t, err)
			assert.Zero(t, res.failed)
			// 3 calls, both directions, 50 frames a second each: about 300.
			assert.InDelta(t, 300, res.framesPerSec, 60)
			assert.Zero(t, res.lost)
			assert.Zero(t, res.clientDrops)
			assert.Zero(t, res.clientBad)
			assert.Positive(t, res.p50)
			assert.Positive(t, res.setupP50)
			// The server relayed what the clients counted, and hang-up
			// (an end message on each leg) left no call behind.
			assert.Positive(t, srv.Stats().FramesRelayed)
			assert.Eventually(t, func() bool { return srv.Stats().ActiveCalls == 0 }, 5*time.Second, 20*time.Millisecond)
		})
	}
}

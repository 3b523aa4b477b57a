package main

import (
	"context"
	"encoding/binary"
	"log/slog"
	"strings"
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

// A stream that stops arriving leaves no gap, only a tail: unarrived
// counts it, and every frame of a stream of which none arrived.
func TestStreamCountsFramesThatNeverArrived(t *testing.T) {
	tests := []struct {
		name    string
		sent    int
		arrived []int
		want    uint64
	}{
		{"all arrived", 5, []int{0, 1, 2, 3, 4}, 0},
		{"the last three never did", 8, []int{0, 1, 2, 3, 4}, 3},
		{"a gap is receive's, the tail unarrived's", 8, []int{0, 2, 3}, 4},
		{"none arrived", 6, nil, 6},
		{"nothing sent", 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tx, rx stream
			frames := make([][]byte, tt.sent)
			for i := range frames {
				frames[i] = append([]byte(nil), tx.frame()...)
			}
			for _, i := range tt.arrived {
				rx.receive(frames[i])
			}
			rx.seq = tx.seq // one stream both sends and receives in a call
			assert.Equal(t, tt.want, rx.unarrived())
		})
	}
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
		{"-calls", "0"}, {"-calls", "x"}, {"-ramp", "0"}, {"-duration", "10ms"}, {"-node-procs", "-1"},
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
			assert.Equal(t, 1, res.nodes)
			assert.False(t, res.measured, "an external server without -pid: CPU unknown")
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

func TestParseNodes(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		nodes []int
		err   string // in the error; empty: none
	}{
		{"default: one node, as before", nil, []int{1}, ""},
		{"one", []string{"-nodes", "1"}, []int{1}, ""},
		{"two", []string{"-nodes", "2"}, []int{2}, ""},
		{"both, in order", []string{"-nodes", "1,2"}, []int{1, 2}, ""},
		{"spaces", []string{"-nodes", " 2 , 1"}, []int{2, 1}, ""},
		{"zero", []string{"-nodes", "0"}, nil, `-nodes: "0" is not 1 or 2`},
		{"three", []string{"-nodes", "1,3"}, nil, `-nodes: "3" is not 1 or 2`},
		{"empty", []string{"-nodes", ""}, nil, `-nodes: "" is not 1 or 2`},
		{"empty entry", []string{"-nodes", "1,,2"}, nil, `-nodes: "" is not 1 or 2`},
		{"word", []string{"-nodes", "two"}, nil, `-nodes: "two" is not 1 or 2`},
		{"external server, one node", []string{"-server", "http://127.0.0.1:1", "-account", "a", "-nodes", "1"}, []int{1}, ""},
		{"external server, two nodes", []string{"-server", "http://127.0.0.1:1", "-account", "a", "-nodes", "1,2"}, nil, "-server is one external server, so only -nodes 1"},
	}
	t.Setenv("ONECXI_API_KEY", "k")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.nodes, c.nodes)
		})
	}
}

// Every row's cells start where their headings do, µ and all.
func TestTableAligned(t *testing.T) {
	head := tableRow(func(col column) string { return col.head })
	row := tableRow(func(col column) string {
		return col.cell(result{calls: 500, nodes: 2, failed: 1, framesPerSec: 49999.7, p50: 1250 * time.Microsecond,
			rssKiB: 90000, idleKiB: 20000, measured: true, nodeCPU: []float64{40.3, 39.5}, natsCPU: 20, cpuPerFrame: 14.04,
			relayP50: 2 * time.Millisecond, relayP99: -1})
	})
	starts := func(line string) []int {
		var s []int
		prev := ' '
		for i, r := range []rune(line) {
			if r != ' ' && prev == ' ' {
				s = append(s, i)
			}
			prev = r
		}
		return s
	}
	assert.Equal(t, len(columns), len(starts(row)), "%s", row)
	// "rss MiB", "setup p50", "relay p50", "relay p99", "cpu µs/frame":
	// headings with spaces.
	headStarts := starts(strings.NewReplacer("rss MiB", "rss_MiB", "setup p50", "setup_p50", "relay p", "relay_p", "cpu µs", "cpu_µs").Replace(head))
	assert.Equal(t, headStarts, starts(row), "\n%s\n%s", head, row)
	assert.True(t, strings.HasSuffix(row, " 40.3     39.5     20.0     ≤2ms       >100ms     14.0"), "%s", row)
	assert.Contains(t, row, " 140 ", "KiB/call: (90000 - 20000) KiB / 500 calls")
}

// A round that sets up no call says so, measures nothing, and the run
// fails; it does not hang in the warm-up.
func TestRunReportsARoundWithNoCall(t *testing.T) {
	cfg, _ := server.DemoConfig()
	_, url := servertest.StartServer(t, cfg, server.WithLogger(slog.New(slog.DiscardHandler)))
	c := config{sizes: []int{2}, nodes: []int{1}, ramp: 100, warmup: time.Hour, duration: time.Hour,
		server: url, account: "demo", key: "not-the-key", stream: streamGoroutines}
	var out strings.Builder
	err := run(context.Background(), c, &out)
	require.ErrorContains(t, err, "1 of 1 rounds set up no call")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3, "%s", out.String())
	assert.True(t, strings.HasPrefix(lines[0], "nodes calls  failed frames/s"), "%s", lines[0])
	assert.Regexp(t, `^1 +2 +2 +- +- `, lines[1])
	assert.Contains(t, lines[2], "no call was set up, so nothing was measured; the first error: callee events: dial /v1/events")
}

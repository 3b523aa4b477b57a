package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/natsbus"
	"github.com/onecxi/phone/wire"
)

// TestMain lets the test binary be its own child processes, as the
// command is: startChild re-executes os.Executable with a child argument.
func TestMain(m *testing.M) {
	if ok, err := runChild(os.Args[1:]); ok {
		if err != nil {
			fmt.Fprintf(os.Stderr, "onecxi-load test child %s: %v\n", os.Args[1], err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// gone reports whether no process has pid (it ended and was reaped).
func gone(pid int) bool {
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

func TestNATSChildServesClients(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, ch, err := startChild(ctx, "NATS", natsArg, natsLine)
	require.NoError(t, err)
	t.Cleanup(ch.stop)
	assert.Regexp(t, `^nats://127\.0\.0\.1:[0-9]+$`, u)
	assert.NotEqual(t, os.Getpid(), ch.pid, "NATS runs in a process of its own")

	nc, err := nats.Connect(u, nats.Timeout(10*time.Second))
	require.NoError(t, err)
	defer nc.Close()
	sub, err := nc.SubscribeSync("onecxi.load.test")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("onecxi.load.test", []byte("frame")))
	m, err := sub.NextMsg(10 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, "frame", string(m.Data))

	ch.stop()
	require.NoError(t, ch.exit, "closing its stdin ends it cleanly")
	assert.True(t, gone(ch.pid))
}

// Two server children join the NATS child's cluster and see each other
// before they report their addresses; each takes the round's key.
func TestTwoNodesJoinOneCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := config{}.startServers(ctx, 2)
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			s.stop()
		}
	})
	assert.Equal(t, []string{"node-1,node-2", "node-1,node-2"}, s.views, "each node saw both before reporting")
	require.Len(t, s.nodes, 2)
	assert.Positive(t, s.nats)
	assert.NotEqual(t, s.nodes[0], s.nodes[1])
	assert.Len(t, s.pids(), 3, "both nodes and NATS are measured")
	assert.NotEqual(t, s.caller.base.Host, s.callee.base.Host, "caller and callee are on different nodes")

	// A third member on the same NATS sees the two nodes too.
	bus, err := natsbus.Open(natsbus.Options{URLs: s.natsURL, Name: "observer", Interval: 50 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	defer func() { _ = bus.Close() }()
	require.NoError(t, bus.Join(server.NodeInfo{ID: "observer", Version: "test"}, func() server.NodeStatus { return server.NodeStatus{} }, observer{}))
	ids := func() string {
		var v []string
		for _, n := range bus.Nodes() {
			v = append(v, n.ID)
		}
		return strings.Join(v, ",")
	}
	require.Eventually(t, func() bool { return ids() == "node-1,node-2,observer" }, 10*time.Second, 10*time.Millisecond)

	// Both nodes accept the key: the callee's events connection on node 2
	// gets its hello, and the caller's call socket opens on node 1.
	ews, err := s.callee.dial(ctx, wire.PathEvents, url.Values{wire.QueryRegisteredNumber: {"7000001"}})
	require.NoError(t, err)
	events := wire.NewConn(ews, nil)
	hello := make(chan struct{}, 1)
	go func() {
		_ = events.Run(context.Background(), wire.Handlers{OnMessage: func(m wire.Message) {
			if m.Type == wire.TypeHello {
				select {
				case hello <- struct{}{}:
				default:
				}
			}
		}})
	}()
	select {
	case <-hello:
	case <-ctx.Done():
		t.Fatal("no hello from node 2")
	}
	events.Close(wire.CloseNormal, "test over")
	cws, err := s.caller.dial(ctx, wire.PathCall, nil)
	require.NoError(t, err)
	_ = cws.Close()

	// Stopping ends every process, nodes first: their goodbyes reach the
	// observer (silence alone would take 3 of their 5 s intervals).
	stopped = true
	s.stop()
	for _, pid := range s.pids() {
		assert.True(t, gone(pid), "process %d ended", pid)
	}
	assert.Eventually(t, func() bool { return !strings.Contains(ids(), "node-") }, 5*time.Second, 10*time.Millisecond, "%s", ids())
}

// The whole two-node round: every call's caller on node 1, its callee on
// node 2.
func TestTwoNodeRound(t *testing.T) {
	modes := []string{streamGoroutines}
	if canDetach {
		modes = append(modes, streamPoll)
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := config{sizes: []int{3}, nodes: []int{2}, ramp: 100, warmup: 300 * time.Millisecond, duration: 2 * time.Second, stream: mode}
			res, err := round(context.Background(), c, 3, 2)
			require.NoError(t, err)
			require.Zero(t, res.failed, "first error: %s", res.firstErr)
			assert.Equal(t, 2, res.nodes)
			// 3 calls, both directions, 50 frames a second each: about 300.
			assert.InDelta(t, 300, res.framesPerSec, 60)
			assert.Zero(t, res.lost)
			assert.Zero(t, res.clientDrops)
			assert.Zero(t, res.clientBad)
			assert.Positive(t, res.p50)
			assert.Positive(t, res.setupP50)
			require.True(t, res.measured)
			require.Len(t, res.nodeCPU, 2)
			assert.GreaterOrEqual(t, res.natsCPU, 0.0)
			assert.InDelta(t, res.nodeCPU[0]+res.nodeCPU[1]+res.natsCPU, res.cpuPct, 0.01)
			assert.Positive(t, res.cpuPerFrame)
			require.Empty(t, res.relayErr)
			assert.Positive(t, res.relayP50, "the relay's share, from the nodes' histograms")
			assert.True(t, res.relayP99 < 0 || res.relayP99 >= res.relayP50, "p99 %s, p50 %s", res.relayP99, res.relayP50)
			assert.Positive(t, res.rssKiB)
		})
	}
}

// A cluster round measures every process, both nodes and NATS: here with
// both legs of every call on node 1, which needs no cross-node calls.
func TestClusterRoundMeasuresEveryProcess(t *testing.T) {
	c := config{sizes: []int{3}, nodes: []int{2}, ramp: 100, warmup: 200 * time.Millisecond, duration: time.Second,
		stream: streamGoroutines, colocate: true}
	res, err := round(context.Background(), c, 3, 2)
	require.NoError(t, err)
	require.Zero(t, res.failed, "first error: %s", res.firstErr)
	assert.InDelta(t, 300, res.framesPerSec, 60)
	require.True(t, res.measured)
	require.Len(t, res.nodeCPU, 2)
	assert.InDelta(t, res.nodeCPU[0]+res.nodeCPU[1]+res.natsCPU, res.cpuPct, 0.01)
	assert.Positive(t, res.nodeCPU[0], "node 1 relays every frame")
	assert.Positive(t, res.cpuPerFrame)
	assert.Greater(t, res.idleKiB, int64(0))
	assert.Greater(t, res.rssKiB, res.idleKiB/2, "three processes' memory")
}

// A node waits a bounded time for the cluster, and says what it saw.
func TestAwaitClusterIsBounded(t *testing.T) {
	bus, err := natsbus.Open(natsbus.Options{Name: "solo", Log: slog.New(slog.DiscardHandler)}) // an embedded NATS
	require.NoError(t, err)
	defer func() { _ = bus.Close() }()
	cfg, _ := server.DemoConfig()
	cfg.NodeID = "solo"
	srv, err := server.New(cfg, server.WithCluster(bus), server.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	defer func() { _ = srv.Shutdown(context.Background()) }()

	tests := []struct {
		want  int
		nodes string
		err   string
	}{
		{1, "solo", ""},
		{2, "", `node "solo" sees 1 of 2 cluster nodes after 200ms ("solo")`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.want), func(t *testing.T) {
			nodes, err := awaitCluster(context.Background(), srv, "solo", tt.want, 200*time.Millisecond)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.nodes, nodes)
		})
	}
}

// observer is a cluster member that carries no calls: it answers every
// question "nothing here", so the nodes' questions do not wait for it.
type observer struct{}

func (observer) Packet([]byte)        {}
func (observer) Audio([]byte)         {}
func (observer) Answer([]byte) []byte { return []byte("{}") }
func (observer) NodeGone(string)      {}

func TestRelayHistogramReading(t *testing.T) {
	n := len(server.DelayBuckets) + 1
	counts := func(set map[int]uint64) []uint64 {
		c := make([]uint64, n)
		for i, v := range set {
			c[i] = v
		}
		return c
	}
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	tests := []struct {
		name     string
		counts   []uint64
		p50, p99 time.Duration
		any      bool
	}{
		{"empty", counts(nil), 0, 0, false},
		{"all in one bucket", counts(map[int]uint64{3: 10}), ms(1), ms(1), true},
		{"a tail", counts(map[int]uint64{3: 60, 4: 39, 6: 1}), ms(1), ms(2), true},
		{"one in a hundred slower", counts(map[int]uint64{3: 98, 6: 2}), ms(1), ms(10), true},
		{"past the last bound", counts(map[int]uint64{3: 10, n - 1: 90}), -1, -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p50, ok := bucketQuantile(tt.counts, 0.5)
			assert.Equal(t, tt.any, ok)
			assert.Equal(t, tt.p50, p50)
			p99, _ := bucketQuantile(tt.counts, 0.99)
			assert.Equal(t, tt.p99, p99)
		})
	}

	good := strings.TrimSpace(strings.Repeat("7 ", n))
	c, err := parseRelayCounts(good)
	require.NoError(t, err)
	assert.Len(t, c, n)
	for _, bad := range []string{"", "1 2 3", good + " 1", strings.Replace(good, "7", "x", 1), strings.Replace(good, "7", "-1", 1)} {
		_, err := parseRelayCounts(bad)
		assert.Error(t, err, "%q", bad)
	}
}

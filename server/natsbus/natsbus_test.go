package natsbus_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/internal/natstest"
	"github.com/onecxi/phone/internal/testlog"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/metrics"
	"github.com/onecxi/phone/server/natsbus"
)

const interval = 50 * time.Millisecond

// startNATS runs a NATS server on 127.0.0.1 with a listener, as a shared
// external NATS, and returns its URL.
func startNATS(t *testing.T) string { return natstest.Start(t) }

// node is a Bus joined with a load the test sets, recording what the
// others send it.
type node struct {
	bus  *natsbus.Bus
	load atomic.Pointer[server.NodeStatus]
	rec  *recorder
}

// recorder is a server.ClusterHandler that keeps what it is told, and
// answers questions with answer (nil: none).
type recorder struct {
	id      string
	packets chan []byte
	audio   chan []byte
	gone    chan string
	answer  func(q []byte) []byte
}

func newRecorder(id string) *recorder {
	return &recorder{id: id, packets: make(chan []byte, 100), audio: make(chan []byte, 100), gone: make(chan string, 10),
		answer: func(q []byte) []byte { return append([]byte(id+":"), q...) }}
}

func (r *recorder) Packet(p []byte)        { r.packets <- append([]byte(nil), p...) }
func (r *recorder) Audio(p []byte)         { r.audio <- append([]byte(nil), p...) }
func (r *recorder) Answer(q []byte) []byte { return r.answer(q) }
func (r *recorder) NodeGone(node string)   { r.gone <- node }

func join(t *testing.T, url, id string) *node {
	t.Helper()
	bus, err := natsbus.Open(natsbus.Options{URLs: url, Name: id, Interval: interval})
	require.NoError(t, err)
	t.Cleanup(func() { _ = bus.Close() })
	n := &node{bus: bus, rec: newRecorder(id)}
	n.load.Store(&server.NodeStatus{})
	require.NoError(t, bus.Join(server.NodeInfo{ID: id, Version: "test"}, func() server.NodeStatus { return *n.load.Load() }, n.rec))
	return n
}

func ids(nodes []server.Node) string {
	s := make([]string, len(nodes))
	for i, n := range nodes {
		s[i] = n.ID
	}
	return strings.Join(s, ",")
}

func find(nodes []server.Node, id string) (server.Node, bool) {
	for _, n := range nodes {
		if n.ID == id {
			return n, true
		}
	}
	return server.Node{}, false
}

// Three nodes sharing one NATS see each other, with their loads as they
// change.
func TestNodesSeeEachOtherWithTheirLoads(t *testing.T) {
	url := startNATS(t)
	a, b, c := join(t, url, "a"), join(t, url, "b.2"), join(t, url, "c")
	for _, n := range []*node{a, b, c} {
		require.Eventually(t, func() bool { return ids(n.bus.Nodes()) == "a,b.2,c" }, 5*time.Second, 5*time.Millisecond)
	}
	b.load.Store(&server.NodeStatus{ActiveCalls: 3, CallSockets: 6, EventConns: 9, Draining: true})
	require.Eventually(t, func() bool {
		n, ok := find(a.bus.Nodes(), "b.2")
		return ok && n.ActiveCalls == 3 && n.CallSockets == 6 && n.EventConns == 9 && n.Draining
	}, 5*time.Second, 5*time.Millisecond)
	n, _ := find(c.bus.Nodes(), "a")
	assert.Equal(t, "test", n.Version)
	assert.False(t, n.Seen.IsZero())
}

// A node's goodbye removes it from the others' views at once, well
// before it could expire.
func TestGoodbyeRemovesANodeAtOnce(t *testing.T) {
	url := startNATS(t)
	a := join(t, url, "a")
	bus, err := natsbus.Open(natsbus.Options{URLs: url, Name: "b", Interval: time.Hour})
	require.NoError(t, err)
	require.NoError(t, bus.Join(server.NodeInfo{ID: "b"}, func() server.NodeStatus { return server.NodeStatus{} }, newRecorder("b")))
	require.Eventually(t, func() bool { return ids(a.bus.Nodes()) == "a,b" }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, bus.Leave(t.Context()))
	assert.Empty(t, bus.Nodes(), "a node that left sees nothing")
	// b announced an interval of an hour: only the goodbye can remove it.
	require.Eventually(t, func() bool { return ids(a.bus.Nodes()) == "a" }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, "b", recv(t, a.rec.gone), "a hears b is gone")
	require.NoError(t, bus.Close())
	require.NoError(t, bus.Leave(t.Context()), "leaving twice is harmless")
}

// recv waits for one value of ch.
func recv[T any](t *testing.T, ch chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("nothing arrived")
		panic("unreachable")
	}
}

// Packets reach the node they are sent to, control and audio apart, each
// in the order sent; nobody else gets them.
func TestPacketsReachTheirNode(t *testing.T) {
	url := startNATS(t)
	a, b, c := join(t, url, "a"), join(t, url, "b"), join(t, url, "c")
	for _, n := range []*node{a, b, c} {
		require.Eventually(t, func() bool { return len(n.bus.Nodes()) == 3 }, 5*time.Second, 5*time.Millisecond)
	}
	for i := range 50 {
		require.NoError(t, a.bus.Send("b", []byte{'c', byte(i)}))
		require.True(t, a.bus.SendAudio("b", []byte{'a', byte(i)}))
	}
	for i := range 50 {
		assert.Equal(t, []byte{'c', byte(i)}, recv(t, b.rec.packets))
		assert.Equal(t, []byte{'a', byte(i)}, recv(t, b.rec.audio))
	}
	assert.Empty(t, c.rec.packets)
	assert.Empty(t, c.rec.audio)
	assert.Empty(t, a.rec.packets, "a node does not hear its own packets")
}

// A question reaches every other node; Ask returns once all have
// answered, or at the first answer its caller is satisfied with.
func TestAskGathersTheOtherNodesAnswers(t *testing.T) {
	url := startNATS(t)
	a, b, c := join(t, url, "a"), join(t, url, "b"), join(t, url, "c")
	for _, n := range []*node{a, b, c} {
		require.Eventually(t, func() bool { return len(n.bus.Nodes()) == 3 }, 5*time.Second, 5*time.Millisecond)
	}
	got := map[string]string{}
	start := time.Now()
	require.NoError(t, a.bus.Ask(t.Context(), []byte("q1"), func(node string, ans []byte) bool {
		got[node] = string(ans)
		return false
	}))
	assert.Equal(t, map[string]string{"b": "b:q1", "c": "c:q1"}, got)
	assert.Less(t, time.Since(start), 2*time.Second, "returned when all answered, not at a timeout")

	n := 0
	require.NoError(t, b.bus.Ask(t.Context(), []byte("q2"), func(string, []byte) bool { n++; return true }))
	assert.Equal(t, 1, n, "stops at the first satisfying answer")

	// A node that answers nothing makes Ask wait for ctx.
	c.rec.answer = func([]byte) []byte { return nil }
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	err := a.bus.Ask(ctx, []byte("q3"), func(string, []byte) bool { return false })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 of the nodes did not answer")
}

// A cluster of one asks nobody.
func TestAskAloneAnswersNothing(t *testing.T) {
	url := startNATS(t)
	a := join(t, url, "a")
	require.Eventually(t, func() bool { return len(a.bus.Nodes()) == 1 }, 5*time.Second, 5*time.Millisecond)
	called := false
	require.NoError(t, a.bus.Ask(t.Context(), []byte("q"), func(string, []byte) bool { called = true; return true }))
	assert.False(t, called)
}

// A node whose connection dies without a goodbye expires after a few
// missed announcements.
func TestSilentNodeExpires(t *testing.T) {
	url := startNATS(t)
	a, b := join(t, url, "a"), join(t, url, "b")
	require.Eventually(t, func() bool { return ids(a.bus.Nodes()) == "a,b" }, 5*time.Second, 5*time.Millisecond)
	natsbus.KillConnection(b.bus) // no goodbye
	start := time.Now()
	require.Eventually(t, func() bool { return ids(a.bus.Nodes()) == "a" }, 5*time.Second, 5*time.Millisecond)
	assert.GreaterOrEqual(t, time.Since(start), interval, "expired, not said goodbye")
	assert.Equal(t, "b", recv(t, a.rec.gone), "a hears b is gone")
}

// The default: an embedded NATS server in the process, no port; the node
// sees itself.
func TestEmbeddedSingleNode(t *testing.T) {
	bus, err := natsbus.Open(natsbus.Options{Interval: interval})
	require.NoError(t, err)
	assert.True(t, bus.Embedded())
	assert.Equal(t, []string{"embedded"}, bus.Servers())
	assert.Nil(t, natsbus.EmbeddedListener(bus), "the embedded NATS opens no port")
	require.NoError(t, bus.Join(server.NodeInfo{ID: "solo"}, func() server.NodeStatus { return server.NodeStatus{EventConns: 1} }, newRecorder("solo")))
	require.Eventually(t, func() bool { return ids(bus.Nodes()) == "solo" }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, 1, bus.Nodes()[0].EventConns)
	require.NoError(t, bus.Close())
	assert.Empty(t, bus.Nodes())
}

// Two real servers joined through their buses: each one's Metrics counts
// the nodes, /metrics exports it, and a server's Shutdown says goodbye.
func TestServersJoinTheCluster(t *testing.T) {
	url := startNATS(t)
	start := func(id string) *server.Server {
		cfg, _ := server.DemoConfig()
		cfg.NodeID = id
		cfg.NATS = url
		bus, err := natsbus.Open(natsbus.Options{URLs: cfg.NATS, Name: id, Interval: interval})
		require.NoError(t, err)
		t.Cleanup(func() { _ = bus.Close() })
		srv, err := server.New(cfg, server.WithCluster(bus), server.WithLogger(slog.New(slog.DiscardHandler)))
		require.NoError(t, err)
		return srv
	}
	s1, s2 := start("one"), start("two")
	require.Eventually(t, func() bool { return s1.Metrics().ClusterNodes == 2 && s2.Metrics().ClusterNodes == 2 }, 5*time.Second, 5*time.Millisecond)
	n, ok := find(s1.Nodes(), "two")
	require.True(t, ok)
	assert.Equal(t, server.BuildVersion(), n.Version)

	rec := httptest.NewRecorder()
	metrics.Handler(s1).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, server.PathMetrics, nil))
	assert.Regexp(t, `(?m)^onecxi_cluster_nodes 2$`, rec.Body.String())

	require.NoError(t, s2.Shutdown(t.Context()))
	require.Eventually(t, func() bool { return ids(s1.Nodes()) == "one" }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, s1.Shutdown(t.Context()))
	assert.Equal(t, 0, s1.Metrics().ClusterNodes)
}

// A configuration naming a NATS without a cluster passed is a mistake.
func TestNATSConfigNeedsACluster(t *testing.T) {
	cfg, _ := server.DemoConfig()
	cfg.NATS = "nats://127.0.0.1:4222"
	_, err := server.New(cfg)
	require.ErrorIs(t, err, server.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "WithCluster")
}

func TestBadURLs(t *testing.T) {
	_, err := natsbus.Open(natsbus.Options{URLs: "http://x:1"})
	var ue *server.NATSURLError
	require.True(t, errors.As(err, &ue), "%v", err)
}

// Connection troubles with an external NATS are logged, sampled, and the
// node reconnects.
func TestReconnectIsLogged(t *testing.T) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true})
	require.NoError(t, err)
	go ns.Start()
	require.True(t, ns.ReadyForConnections(10*time.Second))
	url := ns.ClientURL()
	var logs testlog.Buffer
	bus, err := natsbus.Open(natsbus.Options{URLs: url, Name: "a", Interval: interval,
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	defer bus.Close()
	require.NoError(t, bus.Join(server.NodeInfo{ID: "a"}, func() server.NodeStatus { return server.NodeStatus{} }, newRecorder("a")))
	require.Eventually(t, func() bool { return len(bus.Nodes()) == 1 }, 5*time.Second, 5*time.Millisecond)
	port := ns.Addr().(*net.TCPAddr).Port
	ns.Shutdown()
	ns.WaitForShutdown()
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "NATS connection lost") }, 5*time.Second, 5*time.Millisecond)

	// The same address again: the node reconnects and is seen once more.
	ns2, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoSigs: true, NoLog: true})
	require.NoError(t, err)
	go ns2.Start()
	require.True(t, ns2.ReadyForConnections(10*time.Second))
	defer func() {
		ns2.Shutdown()
		ns2.WaitForShutdown()
	}()
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "NATS reconnected") }, 10*time.Second, 5*time.Millisecond)
	other := join(t, url, "b")
	require.Eventually(t, func() bool { return ids(other.bus.Nodes()) == "a,b" }, 5*time.Second, 5*time.Millisecond)
	assert.NotContains(t, logs.String(), "level=ERROR")
}

// Two processes with one node ID: each logs that it hears its ID from
// another, and neither counts the other as itself.
func TestDuplicateNodeIDIsReported(t *testing.T) {
	url := startNATS(t)
	var logs testlog.Buffer
	bus, err := natsbus.Open(natsbus.Options{URLs: url, Name: "same", Interval: interval, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	defer bus.Close()
	require.NoError(t, bus.Join(server.NodeInfo{ID: "same"}, func() server.NodeStatus { return server.NodeStatus{} }, newRecorder("same")))
	join(t, url, "same")
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), "another process announces this node's ID")
	}, 5*time.Second, 5*time.Millisecond)
	assert.Len(t, bus.Nodes(), 1)
}

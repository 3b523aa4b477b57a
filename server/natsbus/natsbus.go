// Package natsbus is the reference server's cluster messaging on NATS
// (github.com/nats-io/nats.go): it implements server.Cluster for
// cmd/onecxi-server. It lives outside package server so that the phone,
// which embeds the server core, links no NATS library.
//
// By default (Options.URLs empty) it embeds a NATS server in the process
// (github.com/nats-io/nats-server/v2, DontListen) and connects to it in
// process: a single node needs nothing installed and opens no port. With
// URLs it joins an external NATS, reconnecting for as long as it runs
// (reconnects are logged, sampled).
//
// Every node publishes an announcement on SubjectPrefix+<node> every
// Options.Interval (default DefaultInterval) with its load (server.NodeStatus)
// and a goodbye when it leaves; every node keeps the view of the live
// nodes, dropping one that says goodbye at once and one that falls silent
// after ExpireAfter of its announcement intervals. A node that hears of a
// new one announces itself at once, so a newcomer sees the cluster within
// a round trip rather than an interval. One goroutine owns the
// view; Nodes reads a copy it publishes.
//
// Calls whose parties are on different nodes travel on it too (package
// server, bridge.go, says what): each node subscribes to its own control
// subject (CallSubject(node)+".c") and audio subject (+".a"), each served
// by one goroutine in arrival order, and to the question subject
// (SubjectQuestions), which every node answers through a reply inbox.
// Packets are at most once, as NATS core is: the server's protocol above
// them tolerates a lost audio frame, and a node that stops hearing from
// another learns it from the announcements.
package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/onecxi/phone/internal/logsample"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/wire"
)

const (
	// SubjectPrefix is where nodes announce themselves: SubjectPrefix
	// followed by the node's ID made a subject token (Subject).
	SubjectPrefix = "onecxi.node."
	// DefaultInterval is how often a node announces itself: with
	// ExpireAfter it bounds how long the others take to notice a node
	// that died (3 s), which ends the calls it carried for them.
	DefaultInterval = time.Second
	// CallPrefix starts a node's call subjects (CallSubject).
	CallPrefix = "onecxi.call."
	// SubjectQuestions is where nodes ask each other (Bus.Ask).
	SubjectQuestions = "onecxi.ask"
	// ExpireAfter is how many announcement intervals a node may miss
	// before the others forget it.
	ExpireAfter = 3
	// maxMessage bounds an announcement read from the bus.
	maxMessage = 4096
	// logEvery samples the connection-trouble log.
	logEvery = time.Minute
)

// Options configure Open.
type Options struct {
	// URLs is a comma-separated list of NATS URLs (server.ParseNATSURLs);
	// empty embeds a NATS server in the process.
	URLs string
	// Name names the connection (the node ID, for the NATS monitoring).
	Name string
	// Interval is how often the node announces itself (default
	// DefaultInterval); tests shorten it.
	Interval time.Duration
	// Log (default slog.Default()).
	Log *slog.Logger
}

// Announcement is what a node publishes: its identity, its load, and how
// often it announces (so the others know when it has fallen silent).
type Announcement struct {
	server.NodeInfo
	server.NodeStatus
	// IntervalMs is the sender's announcement interval in milliseconds.
	IntervalMs int64 `json:"intervalMs"`
	// Bye: the node is leaving; forget it now.
	Bye bool `json:"bye,omitempty"`
	// Instance is random per process, so a node that hears its own ID
	// from another process knows two nodes share an ID.
	Instance string `json:"instance,omitempty"`
}

// Bus is a node's connection to the cluster: a server.Cluster.
type Bus struct {
	log      *slog.Logger
	interval time.Duration
	embedded *natsserver.Server // nil: an external NATS
	nc       *nats.Conn
	hosts    []string

	view atomic.Pointer[[]server.Node]

	// Per-node subjects, made once: SendAudio must not build strings.
	subjects sync.Map // node ID → *nodeSubjects
	replies  string   // the prefix of Ask's reply subjects (Join)
	asks     sync.Map // Ask token → chan []byte of its answers

	mu     sync.Mutex // guards the fields below
	joined bool
	h      server.ClusterHandler
	subs   []*nats.Subscription
	left   bool
	self   server.NodeInfo
	status func() server.NodeStatus
	stop   context.CancelFunc
	done   chan struct{}

	instance string // Announcement.Instance

	// lost, retry, back, trouble, dup: each its own sampled log
	lost, retry, back, trouble, dup *logsample.Sampler
}

// Open connects to the cluster: an embedded NATS server when o.URLs is
// empty, else the NATS servers o.URLs names (a bad list is a
// *server.NATSURLError). An external NATS that cannot be reached yet is
// retried in the background, not an error. Close the Bus when done.
func Open(o Options) (*Bus, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	b := &Bus{log: o.Log, interval: o.Interval, instance: nats.NewInbox()[len(nats.InboxPrefix):],
		lost: logsample.New(logEvery), retry: logsample.New(logEvery), back: logsample.New(logEvery),
		trouble: logsample.New(logEvery), dup: logsample.New(logEvery)}
	b.view.Store(&[]server.Node{})
	opts := []nats.Option{
		nats.Name(o.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if nc.IsClosed() {
				return // Close, not trouble
			}
			b.lost.Warn(b.log, "NATS connection lost; reconnecting", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.back.Warn(b.log, "NATS reconnected", "server", safeHost(nc.ConnectedUrlRedacted()))
		}),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) {
			b.retry.Warn(b.log, "NATS reconnect failed; retrying", "err", err)
		}),
	}
	url := ""
	if o.URLs == "" {
		ns, err := natsserver.NewServer(&natsserver.Options{
			ServerName: "onecxi-embedded",
			DontListen: true,
			NoSigs:     true,
			NoLog:      true,
		})
		if err != nil {
			return nil, fmt.Errorf("embedded NATS: %w", err)
		}
		go ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			ns.Shutdown()
			return nil, errors.New("embedded NATS: not ready after 10s")
		}
		b.embedded = ns
		opts = append(opts, nats.InProcessServer(ns))
		b.hosts = []string{"embedded"}
	} else {
		urls, err := server.ParseNATSURLs(o.URLs)
		if err != nil {
			return nil, err
		}
		url = strings.Join(urls, ",")
		b.hosts = server.NATSHosts(urls)
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		if b.embedded != nil {
			b.embedded.Shutdown()
		}
		return nil, fmt.Errorf("connect to NATS %s: %w", strings.Join(b.hosts, ","), err)
	}
	b.nc = nc
	return b, nil
}

// Servers is where the bus connects, credentials removed: "embedded" for
// the in-process NATS server.
func (b *Bus) Servers() []string { return b.hosts }

// Self is the node Join announces (zero before Join).
func (b *Bus) Self() server.NodeInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.self
}

// Embedded reports whether the bus runs its own NATS server in process.
func (b *Bus) Embedded() bool { return b.embedded != nil }

// Subject is where node id announces itself: SubjectPrefix and id with
// every byte that cannot be in a subject token (. * > space, control
// characters, non-ASCII) replaced by '_'.
func Subject(id string) string { return SubjectPrefix + token(id) }

// CallSubject is the prefix of node id's call subjects: CallPrefix and id
// made a subject token, as in Subject.
func CallSubject(id string) string { return CallPrefix + token(id) }

// nodeSubjects are a node's control and audio subjects.
type nodeSubjects struct{ control, audio string }

func (b *Bus) subjectsOf(node string) *nodeSubjects {
	if v, ok := b.subjects.Load(node); ok {
		return v.(*nodeSubjects)
	}
	base := CallSubject(node)
	v, _ := b.subjects.LoadOrStore(node, &nodeSubjects{control: base + ".c", audio: base + ".a"})
	return v.(*nodeSubjects)
}

// token is id with every byte that cannot be in a subject token replaced.
func token(id string) string {
	var sb strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= ' ' || c >= 0x7f || c == '.' || c == '*' || c == '>' {
			c = '_'
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// Join implements server.Cluster: it subscribes to the announcements and
// to this node's call subjects and the questions, announces self at once
// and then every interval, until Leave.
func (b *Bus) Join(self server.NodeInfo, status func() server.NodeStatus, h server.ClusterHandler) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.joined {
		return errors.New("natsbus: already joined")
	}
	msgs := make(chan *nats.Msg, 256)
	sub, err := b.nc.ChanSubscribe(SubjectPrefix+">", msgs)
	if err != nil {
		return fmt.Errorf("subscribe to %s>: %w", SubjectPrefix, err)
	}
	b.self, b.h = self, h
	if err := b.subscribeCalls(); err != nil {
		_ = sub.Unsubscribe()
		for _, s := range b.subs {
			_ = s.Unsubscribe()
		}
		b.subs = nil
		return err
	}
	ctx, stop := context.WithCancel(context.Background())
	b.joined, b.status, b.stop, b.done = true, status, stop, make(chan struct{})
	go b.run(ctx, sub, msgs)
	return nil
}

// run owns the view: it announces, takes the others' announcements in and
// expires the silent, until ctx ends.
func (b *Bus) run(ctx context.Context, sub *nats.Subscription, msgs chan *nats.Msg) {
	defer close(b.done)
	defer func() { _ = sub.Unsubscribe() }()
	type entry struct {
		node    server.Node
		expires time.Time
	}
	nodes := map[string]entry{}
	publish := func() {
		v := make([]server.Node, 0, len(nodes))
		for _, e := range nodes {
			v = append(v, e.node)
		}
		sort.Slice(v, func(i, j int) bool { return v[i].ID < v[j].ID })
		b.view.Store(&v)
	}
	expire := func(now time.Time) {
		changed := false
		for id, e := range nodes {
			if now.After(e.expires) {
				delete(nodes, id)
				changed = true
				b.log.Warn("cluster node fell silent", "node", wire.Quote(id), "nodes", len(nodes))
				if id != b.self.ID {
					b.h.NodeGone(id)
				}
			}
		}
		if changed {
			publish()
		}
	}
	tick := time.NewTicker(b.interval)
	defer tick.Stop()
	b.announce(false)
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			b.announce(false)
			expire(now)
		case m := <-msgs:
			if len(m.Data) > maxMessage {
				continue
			}
			var a Announcement
			if err := json.Unmarshal(m.Data, &a); err != nil || a.ID == "" || m.Subject != Subject(a.ID) {
				continue
			}
			if a.ID == b.self.ID && a.Instance != b.instance {
				// Calls would be sent to whichever answers: say so loudly.
				b.dup.Warn(b.log, "another process announces this node's ID: every node needs its own nodeId", "node", wire.Quote(a.ID))
				continue
			}
			if a.Bye {
				if _, ok := nodes[a.ID]; ok {
					delete(nodes, a.ID)
					publish()
					if a.ID != b.self.ID {
						b.log.Info("cluster node left", "node", wire.Quote(a.ID), "nodes", len(nodes))
						b.h.NodeGone(a.ID)
					}
				}
				continue
			}
			iv := time.Duration(a.IntervalMs) * time.Millisecond
			if iv <= 0 || iv > time.Hour {
				iv = DefaultInterval
			}
			now := time.Now()
			_, known := nodes[a.ID]
			nodes[a.ID] = entry{
				node:    server.Node{NodeInfo: a.NodeInfo, NodeStatus: a.NodeStatus, Seen: now},
				expires: now.Add(ExpireAfter * iv),
			}
			publish()
			if !known && a.ID != b.self.ID {
				b.log.Info("cluster node joined", "node", wire.Quote(a.ID), "version", wire.Quote(a.Version), "nodes", len(nodes))
				// Let the newcomer know this node now, not an interval on.
				b.announce(false)
			}
		}
	}
}

// announce publishes this node's announcement (bye: its goodbye).
func (b *Bus) announce(bye bool) {
	a := Announcement{NodeInfo: b.self, IntervalMs: b.interval.Milliseconds(), Bye: bye, Instance: b.instance}
	if !bye {
		a.NodeStatus = b.status()
	}
	data, err := json.Marshal(a)
	if err != nil {
		return
	}
	if err := b.nc.Publish(Subject(b.self.ID), data); err != nil {
		b.trouble.Warn(b.log, "cluster announcement not sent", "err", err)
	}
}

// Nodes implements server.Cluster: the live nodes, sorted by ID.
func (b *Bus) Nodes() []server.Node {
	v := *b.view.Load()
	return append([]server.Node(nil), v...)
}

// Leave implements server.Cluster: it stops announcing and publishes the
// goodbye, flushed (bounded by ctx). Later calls do nothing.
func (b *Bus) Leave(ctx context.Context) error {
	b.mu.Lock()
	if !b.joined || b.left {
		b.mu.Unlock()
		return nil
	}
	b.left = true
	stop, done := b.stop, b.done
	b.mu.Unlock()
	stop()
	<-done
	b.mu.Lock()
	subs := b.subs
	b.subs = nil
	b.mu.Unlock()
	for _, s := range subs {
		_ = s.Unsubscribe()
	}
	b.view.Store(&[]server.Node{})
	if b.nc.IsClosed() {
		return nil
	}
	b.announce(true)
	if !b.nc.IsConnected() {
		return nil // the others will see it fall silent
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("send the goodbye: %w", err)
	}
	return nil
}

// Abandon drops the connection to the cluster at once, with no goodbye,
// as a process killed with SIGKILL would: the other nodes see this one
// fall silent and fail what it carried for them. It is for failure drills
// and tests; Close after it releases the rest.
func (b *Bus) Abandon() { b.nc.Close() }

// Close leaves (if joined and not yet left), closes the NATS connection
// and shuts down the embedded NATS server, if any.
func (b *Bus) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := b.Leave(ctx)
	b.nc.Close()
	if b.embedded != nil {
		b.embedded.Shutdown()
		b.embedded.WaitForShutdown()
	}
	return err
}

// safeHost is a URL without what may be credentials.
func safeHost(u string) string {
	if u == "" {
		return ""
	}
	return server.NATSHosts([]string{u})[0]
}

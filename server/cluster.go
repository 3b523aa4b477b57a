package server

import (
	"context"
	"fmt"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/onecxi/phone/wire"
)

// Cluster is how a server takes part in a cluster of nodes: it announces
// this node and its load, keeps the view of the live nodes, and carries
// the traffic of calls whose parties are on different nodes (bridge.go).
// Package server links no messaging library; package server/natsbus
// implements it on NATS, and cmd/onecxi-server wires it (WithCluster).
type Cluster interface {
	// Join begins announcing self, with status read at every
	// announcement, until Leave, and delivers to h what other nodes send
	// this one. New calls it once.
	Join(self NodeInfo, status func() NodeStatus, h ClusterHandler) error
	// Nodes is the live nodes as last seen, this one included, sorted by
	// ID. It must be quick: Metrics reads it at every scrape.
	Nodes() []Node
	// Leave says goodbye (the other nodes forget this one at once) and
	// stops announcing. Shutdown calls it; the caller keeps ownership of
	// the connection underneath.
	Leave(ctx context.Context) error
	// Send sends a control packet to node's ClusterHandler.Packet: in
	// order with this node's other control packets to it, at most once.
	// It must not block for long; it may copy pkt and keeps no reference.
	Send(node string, pkt []byte) error
	// SendAudio is Send for audio packets (ClusterHandler.Audio), on the
	// per-frame path: it must not block, and should not allocate. Audio
	// and control packets are not ordered with each other.
	SendAudio(node string, pkt []byte) bool
	// Ask puts question q to every other live node and hands each answer
	// to each (in arrival order) until each returns true, every live node
	// has answered, or ctx ends. A cluster of one answers nothing.
	Ask(ctx context.Context, q []byte, each func(node string, answer []byte) bool) error
}

// ClusterHandler is what a node is told by the others (the server
// implements it; see bridge.go). Each method is called on the cluster's
// own goroutines, one per method, in the order things arrived.
type ClusterHandler interface {
	// Packet is a control packet sent to this node.
	Packet(pkt []byte)
	// Audio is an audio packet sent to this node: it must not block. pkt
	// is valid only until it returns.
	Audio(pkt []byte)
	// Answer answers another node's question (Ask); nil answers nothing.
	Answer(q []byte) []byte
	// NodeGone says node left (its goodbye) or fell silent.
	NodeGone(node string)
}

// NodeInfo is what does not change about a node while it runs.
type NodeInfo struct {
	ID      string `json:"id"`      // Config.NodeID
	Version string `json:"version"` // the server's build (module version or VCS revision)
	URL     string `json:"url,omitempty"`
}

// NodeStatus is a node's load as it announces it.
type NodeStatus struct {
	ActiveCalls int  `json:"activeCalls"`
	CallSockets int  `json:"callSockets"` // live /v1/call connections
	EventConns  int  `json:"eventConns"`  // live /v1/events connections
	Draining    bool `json:"draining"`    // draining or shutting down: takes no new calls
}

// Node is one live node of a cluster view.
type Node struct {
	NodeInfo
	NodeStatus
	Seen time.Time // when its last announcement arrived
}

// WithCluster makes the server a node of c: New joins it (announcing
// Config.NodeID and the server's load), Metrics counts its nodes and
// Shutdown leaves it before anything else. Default: no cluster.
func WithCluster(c Cluster) Option {
	return func(o *options) { o.cluster = c }
}

// Nodes is the cluster's live nodes (Cluster.Nodes), nil without a cluster.
func (s *Server) Nodes() []Node {
	if s.cluster == nil {
		return nil
	}
	return s.cluster.Nodes()
}

// nodeStatus is the load this node announces.
func (s *Server) nodeStatus() NodeStatus {
	return NodeStatus{
		ActiveCalls: int(s.stats.activeCalls.Load()),
		CallSockets: int(s.stats.callSockets.Load()),
		EventConns:  int(s.stats.eventConns.Load()),
		Draining:    s.draining.Load() || s.shutting.Load(),
	}
}

// BuildVersion is this binary's version as the Go toolchain recorded it:
// the main module's version, else its VCS revision, else "devel".
func BuildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return s.Value[:12]
		}
	}
	return "devel"
}

// NATSURLError is a bad entry in a NATS URL list (Config.NATS, -nats).
type NATSURLError struct {
	URL    string // the entry, credentials removed, as Quote shows it
	Reason string
}

func (e *NATSURLError) Error() string {
	return fmt.Sprintf("NATS URL %s: %s", e.URL, e.Reason)
}

// MaxNATSURLs bounds a NATS URL list.
const MaxNATSURLs = 32

// ParseNATSURLs checks a comma-separated list of NATS server URLs,
// nats://host:port (also tls://, ws://, wss://), and returns them; errors
// are *NATSURLError and never show credentials.
func ParseNATSURLs(list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return nil, &NATSURLError{URL: `""`, Reason: "empty: give nats://host:port[,…]"}
	}
	parts := strings.Split(list, ",")
	if len(parts) > MaxNATSURLs {
		return nil, &NATSURLError{URL: wire.Quote(safeURLPrefix(list)), Reason: "more than " + strconv.Itoa(MaxNATSURLs) + " URLs"}
	}
	urls := make([]string, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		bad := func(reason string) error {
			return &NATSURLError{URL: wire.Quote(safeURLPrefix(p)), Reason: reason}
		}
		u, err := url.Parse(p)
		if err != nil || p == "" {
			return nil, bad("not a URL")
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return nil, bad("the scheme is not nats://, tls://, ws:// or wss://")
		}
		if u.Hostname() == "" {
			return nil, bad("no host")
		}
		if port := u.Port(); port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return nil, bad("port is not 1-65535")
			}
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return nil, bad("a NATS URL has no path, query or fragment")
		}
		urls = append(urls, p)
	}
	return urls, nil
}

// NATSHosts is urls with credentials removed, for logs.
func NATSHosts(urls []string) []string {
	out := make([]string, len(urls))
	for i, s := range urls {
		out[i] = safeURLPrefix(s)
	}
	return out
}

// safeURLPrefix is s without what may be credentials: whatever precedes
// the last '@' after the scheme.
func safeURLPrefix(s string) string {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		scheme := ""
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			scheme = s[:j+3]
		}
		return scheme + "…@" + s[i+1:]
	}
	return s
}

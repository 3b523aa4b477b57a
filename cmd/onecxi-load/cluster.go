package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/wire"
)

// servers is what one round runs against: where its clients connect, and
// the server-side processes whose CPU and memory it reads.
type servers struct {
	// caller is the node every call's caller connects to, callee the one
	// its callee connects to (events and answer): the same in a one-node
	// round, the first and the last node in a cluster round.
	caller, callee target
	nodes          []int                          // the server nodes' PIDs (0: unknown, -server without -pid)
	nats           int                            // the NATS process's PID; 0: none
	natsURL        string                         // its client URL
	views          []string                       // each node's cluster view when it started (IDs, comma-separated)
	asks           []func(string) (string, error) // each cluster node's child.ask
	stop           func()                         // ends the processes, nodes first
}

// nodeID names cluster node i (from 0).
func nodeID(i int) string { return "node-" + strconv.Itoa(i+1) }

// startServers returns where this round's clients connect: the external
// server of -server, a fresh child server (nodes 1), or a cluster of that
// many child servers on a NATS child of their own.
func (c config) startServers(ctx context.Context, nodes int) (servers, error) {
	if c.server != "" {
		if nodes != 1 {
			return servers{}, errors.New("-server is one external server: it cannot run a cluster round")
		}
		t, err := newTarget(c.server, c.account, c.key, c.insecure)
		return servers{caller: t, callee: t, nodes: []int{c.pid}, stop: func() {}}, err
	}
	key := server.GenerateKey()
	var pin []string // every server-side child's
	if c.serverCPUs != nil {
		pin = []string{childCPUsEnv + "=" + formatCPUs(c.serverCPUs)}
	}
	if nodes == 1 {
		addr, ch, err := startChild(ctx, "server", childArg, listenLine, slices.Concat(pin, []string{childKeyEnv + "=" + key})...)
		if err != nil {
			return servers{}, err
		}
		t, err := newTarget("http://"+addr, "demo", key, false)
		if err != nil {
			ch.stop()
			return servers{}, err
		}
		return servers{caller: t, callee: t, nodes: []int{ch.pid}, stop: ch.stop}, nil
	}

	natsURL, nc, err := startChild(ctx, "NATS", natsArg, natsLine, pin...)
	if err != nil {
		return servers{}, err
	}
	// Every node is started before any is waited for: each reports its
	// address only once it sees the others.
	type started struct {
		line string
		ch   *child
		err  error
	}
	st := make([]started, nodes)
	var wg sync.WaitGroup
	env := slices.Concat(pin, []string{childKeyEnv + "=" + key, childNATSEnv + "=" + natsURL, childNodesEnv + "=" + strconv.Itoa(nodes)})
	if c.nodeProcs > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(c.nodeProcs))
	}
	for i := range st {
		wg.Go(func() {
			st[i].line, st[i].ch, st[i].err = startChild(ctx, "server "+nodeID(i), childArg, listenLine,
				append(slices.Clone(env), childNodeEnv+"="+nodeID(i))...)
		})
	}
	wg.Wait()
	s := servers{nats: nc.pid, natsURL: natsURL}
	var stops []func()
	var errs []error
	for _, r := range st {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		stops = append(stops, r.ch.stop)
		addr, view, _ := strings.Cut(r.line, " ")
		s.nodes = append(s.nodes, r.ch.pid)
		s.views = append(s.views, view)
		s.asks = append(s.asks, r.ch.ask)
		t, err := newTarget("http://"+addr, "demo", key, false)
		if err != nil {
			errs = append(errs, err)
		}
		if len(s.nodes) == 1 {
			s.caller = t
		}
		s.callee = t
	}
	s.stop = func() {
		// Nodes first, so that their goodbyes reach NATS.
		var wg sync.WaitGroup
		for _, stop := range stops {
			wg.Go(stop)
		}
		wg.Wait()
		nc.stop()
	}
	if err := errors.Join(errs...); err != nil {
		s.stop()
		return servers{}, fmt.Errorf("cluster of %d nodes: %w", nodes, err)
	}
	return s, nil
}

// relayCounts is the cluster nodes' relay delay histograms added up
// (counts per server.DelayBuckets bucket, the last above them all); nil
// for one node.
func (s servers) relayCounts() ([]uint64, error) {
	var sum []uint64
	for i, ask := range s.asks {
		a, err := ask(questionRelay)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", nodeID(i), err)
		}
		counts, err := parseRelayCounts(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", nodeID(i), err)
		}
		if sum == nil {
			sum = make([]uint64, len(counts))
		}
		for j, n := range counts {
			sum[j] += n
		}
	}
	return sum, nil
}

// parseRelayCounts reads a node's answer to questionRelay.
func parseRelayCounts(a string) ([]uint64, error) {
	f := strings.Fields(a)
	if len(f) != len(server.DelayBuckets)+1 {
		return nil, fmt.Errorf("relay histogram: %d counts, want %d: %s", len(f), len(server.DelayBuckets)+1, wire.Quote(a))
	}
	out := make([]uint64, len(f))
	for i, x := range f {
		n, err := strconv.ParseUint(x, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("relay histogram: %s is not a count", wire.Quote(x))
		}
		out[i] = n
	}
	return out, nil
}

// bucketQuantile is the upper bound of the bucket that holds quantile q
// of counts (server.DelayBuckets; the last bucket has none: -1), and
// false when there is nothing counted.
func bucketQuantile(counts []uint64, q float64) (time.Duration, bool) {
	var total uint64
	for _, n := range counts {
		total += n
	}
	if total == 0 {
		return 0, false
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, n := range counts[:len(server.DelayBuckets)] {
		if seen += n; seen >= rank {
			return time.Duration(server.DelayBuckets[i] * float64(time.Second)), true
		}
	}
	return -1, true // in the bucket above every bound
}

// pids is every server-side process: the nodes, then NATS if any.
func (s servers) pids() []int {
	p := append([]int(nil), s.nodes...)
	if s.nats > 0 {
		p = append(p, s.nats)
	}
	return p
}

package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/onecxi/phone/server"
)

// servers is what one round runs against: where its clients connect, and
// the server-side processes whose CPU and memory it reads.
type servers struct {
	// caller is the node every call's caller connects to, callee the one
	// its callee connects to (events and answer): the same in a one-node
	// round, the first and the last node in a cluster round.
	caller, callee target
	nodes          []int    // the server nodes' PIDs (0: unknown, -server without -pid)
	nats           int      // the NATS process's PID; 0: none
	natsURL        string   // its client URL
	views          []string // each node's cluster view when it started (IDs, comma-separated)
	stop           func()   // ends the processes, nodes first
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
	if nodes == 1 {
		addr, ch, err := startChild(ctx, "server", childArg, listenLine, childKeyEnv+"="+key)
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

	natsURL, nc, err := startChild(ctx, "NATS", natsArg, natsLine)
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
	env := []string{childKeyEnv + "=" + key, childNATSEnv + "=" + natsURL, childNodesEnv + "=" + strconv.Itoa(nodes)}
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

// pids is every server-side process: the nodes, then NATS if any.
func (s servers) pids() []int {
	p := append([]int(nil), s.nodes...)
	if s.nats > 0 {
		p = append(p, s.nats)
	}
	return p
}

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/natsbus"
	"github.com/onecxi/phone/wire"
)

// The load tool measures a server in its own process, so that the CPU and
// memory it reports are the server's alone: it re-executes itself with
// childArg, and the child runs the reference server on a loopback port.
// For a two-node round it also re-executes itself with natsArg, a NATS
// server of its own (so its CPU is measured apart), and gives each server
// child the NATS URL and its node ID.
const (
	childArg    = "__serve"
	natsArg     = "__nats"
	childKeyEnv = "ONECXI_LOAD_KEY" // the parent's freshly generated key
	// childNATSEnv, childNodeEnv and childNodesEnv make a server child a
	// cluster node: the NATS URL to join, its node ID, and how many nodes
	// it waits to see before it reports its address.
	childNATSEnv  = "ONECXI_LOAD_NATS"
	childNodeEnv  = "ONECXI_LOAD_NODE"
	childNodesEnv = "ONECXI_LOAD_NODES"
	listenLine    = "LISTEN "
	natsLine      = "NATS "
	// childProfileEnv names a file for the server's CPU profile (go tool
	// pprof); a cluster node writes it with its node ID appended
	// (file.node-1).
	childProfileEnv = "ONECXI_LOAD_SERVER_CPUPROFILE"
	// clusterWait bounds how long a server child waits to see the whole
	// cluster, and childWait how long the parent waits for a child's
	// first line.
	clusterWait = 15 * time.Second
	childWait   = 30 * time.Second
	askWait     = 5 * time.Second
)

// runChild runs the child process args name, if they name one, and
// reports whether they did.
func runChild(args []string) (bool, error) {
	if len(args) == 0 {
		return false, nil
	}
	switch args[0] {
	case childArg, natsArg:
		if err := pinChild(); err != nil {
			return true, err
		}
	}
	switch args[0] {
	case childArg:
		return true, serveChild()
	case natsArg:
		return true, natsChild()
	}
	return false, nil
}

// childContext ends on SIGINT, SIGTERM, or when the parent closes our
// stdin (it does when it is done, or dies).
func childContext(answer func(question string) string) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		defer stop()
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			if answer != nil {
				fmt.Println(answer(in.Text()))
			}
		}
	}()
	return ctx, stop
}

// questionRelay asks a cluster node for its relay delay histogram
// (server.Metrics.BridgeDelay): it answers with the counts, space-separated,
// one per bucket of server.DelayBuckets and one above them.
const questionRelay = "relay"

// answerRelay is a node's answer to questionRelay.
func answerRelay(srv *server.Server) func(string) string {
	return func(q string) string {
		if q != questionRelay {
			return "unknown question"
		}
		h := srv.Metrics().BridgeDelay
		out := make([]string, len(h.Counts))
		for i, n := range h.Counts {
			out[i] = strconv.FormatUint(n, 10)
		}
		return strings.Join(out, " ")
	}
}

// serveChild is the child process: a demo-configured server whose one key is
// the parent's, with room for any number of calls; with childNATSEnv set, a
// node of the cluster on that NATS, which reports its address only once it
// sees childNodesEnv nodes (itself included), and the nodes' IDs after it.
func serveChild() error {
	key := os.Getenv(childKeyEnv)
	if key == "" {
		return errors.New(childKeyEnv + " not set")
	}
	cfg, _ := server.DemoConfig()
	cfg.Accounts[0].APIKeyHashes = []string{server.HashKey(key)}
	cfg.MaxCalls = 100000
	// One account places every call: its own caps would be the limit.
	cfg.Limits.CallsPerAccount = server.NoLimit
	cfg.Limits.EventConnsPerAccount = server.NoLimit
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := []server.Option{server.WithLogger(log)}
	natsURL, want := os.Getenv(childNATSEnv), 0
	var bus *natsbus.Bus
	if natsURL != "" {
		cfg.NodeID = os.Getenv(childNodeEnv)
		var err error
		if want, err = strconv.Atoi(os.Getenv(childNodesEnv)); err != nil || want < 1 {
			return fmt.Errorf("%s: %s is not a node count", childNodesEnv, wire.Quote(os.Getenv(childNodesEnv)))
		}
		if bus, err = natsbus.Open(natsbus.Options{URLs: natsURL, Name: "onecxi-load " + cfg.NodeID, Log: log}); err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		// After the server's Shutdown, which says goodbye.
		defer func() { _ = bus.Close() }()
		opts = append(opts, server.WithCluster(bus))
	}
	srv, err := server.New(cfg, opts...)
	if err != nil {
		return err
	}
	var answer func(string) string
	if bus != nil {
		answer = answerRelay(srv)
	}
	ctx, stop := childContext(answer)
	defer stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = srv.Shutdown(ctx)
		return err
	}
	var nodes string
	if bus != nil {
		if nodes, err = awaitCluster(ctx, srv, cfg.NodeID, want, clusterWait); err != nil {
			_ = ln.Close()
			_ = srv.Shutdown(context.Background())
			return err
		}
	}
	if path := os.Getenv(childProfileEnv); path != "" {
		if cfg.NodeID != "" && bus != nil {
			path += "." + cfg.NodeID
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Println(strings.TrimSpace(listenLine + ln.Addr().String() + " " + nodes))
	return srv.Serve(ctx, ln)
}

// awaitCluster waits (at most wait) until srv sees want nodes and returns
// their IDs, comma-separated.
func awaitCluster(ctx context.Context, srv *server.Server, self string, want int, wait time.Duration) (string, error) {
	ids := func() string {
		var s []string
		for _, n := range srv.Nodes() {
			s = append(s, n.ID)
		}
		return strings.Join(s, ",")
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if len(srv.Nodes()) >= want {
			return ids(), nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-deadline.C:
			return "", fmt.Errorf("node %s sees %d of %d cluster nodes after %s (%s)",
				wire.Quote(self), len(srv.Nodes()), want, wait, wire.Quote(ids()))
		case <-tick.C:
		}
	}
}

// natsChild is the NATS child process: a NATS server on a random loopback
// port, which prints its client URL and runs until the parent is done.
func natsChild() error {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true})
	if err != nil {
		return fmt.Errorf("NATS: %w", err)
	}
	go ns.Start()
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}()
	if !ns.ReadyForConnections(10 * time.Second) {
		return errors.New("NATS: not ready after 10s")
	}
	ctx, stop := childContext(nil)
	defer stop()
	fmt.Println(natsLine + ns.ClientURL())
	<-ctx.Done()
	return nil
}

// child is a child process the parent started.
type child struct {
	pid  int
	stop func() // ends it: closes its stdin, kills it if it lingers
	// ask sends the child a question (a line) and returns its one-line
	// answer, waiting at most askWait.
	ask func(question string) (string, error)
	// exit is how it ended (nil: it exited with status 0), once stopped.
	exit error
}

// childEnvs are the variables the parent sets for its children and does
// not pass on from its own environment.
var childEnvs = []string{childKeyEnv, childNATSEnv, childNodeEnv, childNodesEnv, childCPUsEnv}

// startChild re-executes this program with arg and env, and returns the
// rest of the first line it prints after prefix (bounded by childWait).
// name names the child in errors.
func startChild(ctx context.Context, name, arg, prefix string, env ...string) (string, *child, error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, self, arg)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return slices.ContainsFunc(childEnvs, func(k string) bool { return strings.HasPrefix(kv, k+"=") })
	})
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s process: %w", name, err)
	}
	ch := &child{pid: cmd.Process.Pid}
	var once sync.Once
	ch.stop = func() {
		once.Do(func() {
			_ = stdin.Close()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case ch.exit = <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				ch.exit = fmt.Errorf("%s process killed: it did not end within 10s of being told to", name)
			}
		})
	}
	type read struct {
		line string
		err  error
	}
	// One reader goroutine reads every line the child prints, in order:
	// the address, then the answers to questions.
	lines := make(chan read, 1)
	go func() {
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			lines <- read{line, err}
			if err != nil {
				return
			}
		}
	}()
	var amu sync.Mutex
	unanswered := false // a late answer would be taken for the next one's
	ch.ask = func(q string) (string, error) {
		amu.Lock()
		defer amu.Unlock()
		if unanswered {
			return "", fmt.Errorf("the %s process left a question unanswered", name)
		}
		if _, err := io.WriteString(stdin, q+"\n"); err != nil {
			return "", fmt.Errorf("ask the %s process: %w", name, err)
		}
		select {
		case r := <-lines:
			return strings.TrimSpace(r.line), r.err
		case <-time.After(askWait):
			unanswered = true
			return "", fmt.Errorf("the %s process did not answer within %s", name, askWait)
		}
	}
	var r read
	select {
	case r = <-lines:
	case <-time.After(childWait):
		r.err = fmt.Errorf("nothing after %s", childWait)
		_ = cmd.Process.Kill()
	case <-ctx.Done():
		r.err = ctx.Err()
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(r.line), prefix)
	if r.err != nil || !ok {
		ch.stop()
		if r.err == nil {
			r.err = errors.New("unexpected output")
		}
		return "", nil, fmt.Errorf("%s process did not report its address (%s): %w", name, wire.Quote(r.line), r.err)
	}
	return rest, ch, nil
}

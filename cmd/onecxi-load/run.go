package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/onecxi/phone/internal/flagparse"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/wire"
)

// Streaming modes (-stream).
const (
	streamAuto       = "auto" // poll where it can, else goroutines
	streamPoll       = "poll"
	streamGoroutines = "goroutines"
)

// After the window, sending stops and the frames still in flight are
// waited for (until none has come for settleQuiet, at most settleMax,
// looking every settlePoll); what has not arrived then counts as lost.
const (
	settleQuiet = 300 * time.Millisecond
	settleMax   = 3 * time.Second
	settlePoll  = 10 * time.Millisecond
)

type config struct {
	sizes    []int // call counts to run, one round each
	nodes    []int // per size, one round on each of these node counts (1 or 2)
	ramp     int   // calls set up per second
	warmup   time.Duration
	duration time.Duration
	server   string // external server URL; empty = spawn one
	account  string
	key      string
	pid      int // external server's PID, for CPU and RSS
	insecure bool
	procs    int // GOMAXPROCS of the load client (0: Go's default)
	// nodeProcs is GOMAXPROCS of each server node of a cluster round (0:
	// Go's default): several nodes on one machine otherwise each spin
	// their idle threads on every core.
	nodeProcs int
	profile   string
	stream    string // streamPoll or streamGoroutines
	// clientCPUs and serverCPUs pin the load client and the server
	// processes it starts to those CPUs (nil: not pinned).
	clientCPUs, serverCPUs []int
	// colocate (tests only) puts both of a call's legs on node 1 in a
	// cluster round: the cluster and its measurement without cross-node
	// calls.
	colocate bool
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("onecxi-load", flag.ContinueOnError)
	var c config
	calls := fs.String("calls", "500", "concurrent calls; a comma-separated list runs one round per value (e.g. 100,500,1000)")
	nodes := fs.String("nodes", "1", "server nodes: 1 (one server process) or 2 (two server processes joined on a NATS process of their own; every call's caller on node 1, its callee on node 2); a comma-separated list (e.g. 1,2) runs one round per value for each -calls value, side by side. Not with -server, which is one external server")
	fs.IntVar(&c.ramp, "ramp", 100, "calls set up per second")
	fs.DurationVar(&c.warmup, "warmup", 5*time.Second, "time after ramp-up before measuring")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "measurement window")
	fs.StringVar(&c.server, "server", "", "server URL (http[s]://host:port) of one server, measured alone (-nodes 1); empty starts private server processes")
	fs.StringVar(&c.account, "account", "", "account name for -server")
	fs.IntVar(&c.pid, "pid", 0, "PID of the -server process, to report its CPU and RSS")
	fs.BoolVar(&c.insecure, "insecure", false, "accept any TLS certificate (self-signed test servers)")
	fs.StringVar(&c.profile, "cpuprofile", "", "write the load client's CPU profile here (the server's: env "+childProfileEnv+")")
	fs.StringVar(&c.stream, "stream", streamAuto, "how the client streams once calls are up: "+streamPoll+" (detached sockets on epoll poll loops; Linux, plain ws:// only), "+streamGoroutines+" (gorilla/websocket, a reader goroutine per leg, as the app does) or "+streamAuto+" ("+streamPoll+" where it can)")
	fs.IntVar(&c.nodeProcs, "node-procs", 0, "GOMAXPROCS of each server node in a cluster round (-nodes 2) only; 0: Go's default")
	fs.IntVar(&c.procs, "client-procs", 0, "GOMAXPROCS of the load client only (the spawned server keeps Go's default); on a small machine 1 leaves a core to the server")
	clientCPUs := fs.String("client-cpus", "", "pin the load client to these CPUs (Linux; as taskset -c: 0,2-3); with -server-cpus, the client and the servers need not share cores")
	serverCPUs := fs.String("server-cpus", "", "pin every server process this run starts (nodes and NATS) to these CPUs (Linux; as -client-cpus)")
	if err := flagparse.Parse(fs, args); err != nil {
		return c, err
	}
	for _, f := range []struct {
		name string
		list string
		cpus *[]int
	}{{"-client-cpus", *clientCPUs, &c.clientCPUs}, {"-server-cpus", *serverCPUs, &c.serverCPUs}} {
		if f.list == "" {
			continue
		}
		if !canPin {
			return c, errors.New(f.name + ": pinning to CPUs needs Linux")
		}
		cpus, err := parseCPUs(f.list)
		if err != nil {
			return c, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.cpus = cpus
	}
	if c.server != "" && c.serverCPUs != nil {
		return c, errors.New("-server-cpus: -server is a server this run does not start, so it cannot pin it")
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %s", wire.Quote(fs.Arg(0)))
	}
	for _, s := range strings.Split(*calls, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 20000 {
			return c, fmt.Errorf("-calls: %s is not a count from 1 to 20000", wire.Quote(s))
		}
		c.sizes = append(c.sizes, n)
	}
	for _, s := range strings.Split(*nodes, ",") {
		switch strings.TrimSpace(s) {
		case "1":
			c.nodes = append(c.nodes, 1)
		case "2":
			c.nodes = append(c.nodes, 2)
		default:
			return c, fmt.Errorf("-nodes: %s is not 1 or 2", wire.Quote(s))
		}
	}
	tls := strings.HasPrefix(c.server, "https:") || strings.HasPrefix(c.server, "wss:")
	if c.stream == streamAuto {
		c.stream = streamGoroutines
		if canDetach && !tls {
			c.stream = streamPoll
		}
	}
	switch c.stream {
	case streamGoroutines:
	case streamPoll:
		if !canDetach {
			return c, errors.New("-stream " + streamPoll + " needs Linux")
		}
		if tls {
			return c, errors.New("-stream " + streamPoll + " reads sockets raw, so it cannot stream over TLS: use -stream " + streamGoroutines)
		}
	default:
		return c, fmt.Errorf("-stream: %s is not %s, %s or %s", wire.Quote(c.stream), streamAuto, streamPoll, streamGoroutines)
	}
	if c.ramp < 1 {
		return c, errors.New("-ramp must be at least 1")
	}
	if c.nodeProcs < 0 || c.nodeProcs > 1024 {
		return c, fmt.Errorf("-node-procs: %d is not 0 to 1024", c.nodeProcs)
	}
	if c.duration < time.Second {
		return c, errors.New("-duration must be at least 1s")
	}
	if c.server != "" {
		if slices.ContainsFunc(c.nodes, func(n int) bool { return n != 1 }) {
			return c, errors.New("-nodes: -server is one external server, so only -nodes 1 (two nodes run as private processes, without -server)")
		}
		c.key = os.Getenv("ONECXI_API_KEY")
		if c.account == "" || c.key == "" {
			return c, errors.New("-server needs -account and the key in ONECXI_API_KEY")
		}
	}
	return c, nil
}

// result is one round's measurements.
type result struct {
	calls           int
	nodes           int // server nodes (1, or 2 on a NATS)
	failed          int
	firstErr        string // the first failed call's error
	framesPerSec    float64
	p50, p99, max   time.Duration
	lost, late      uint64
	clientDrops     uint64
	cpuPct          float64   // of one core, server side only: every node and NATS
	nodeCPU         []float64 // of one core, each node's
	natsCPU         float64   // of one core, the NATS process's (nodes > 1)
	measured        bool      // CPU and memory read for every server-side process
	cpuPerFrame     float64   // server-side CPU µs per frame received in the window
	clientCPUPct    float64   // of one core, this load client
	clientBad       uint64    // failed legs and unexpected messages (detached streaming)
	rssKiB, idleKiB int64     // server side, every process's together
	setupP50        time.Duration
	setupP99        time.Duration
	// relayP50 and relayP99 are the cluster relay's own share of the
	// delay (the nodes' relay histograms over the window): the upper
	// bound of the bucket holding the quantile, -1 past the last; 0 for
	// one node.
	relayP50, relayP99 time.Duration
	relayErr           string // why the relay histograms could not be read
}

// column is one column of the results table: its heading, its width, and
// its cell for a round.
type column struct {
	head  string
	width int
	cell  func(r result) string
}

func oneDecimal(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

var columns = []column{
	{"nodes", 6, func(r result) string { return strconv.Itoa(r.nodes) }},
	{"calls", 7, func(r result) string { return strconv.Itoa(r.calls) }},
	{"failed", 7, func(r result) string { return strconv.Itoa(r.failed) }},
	{"frames/s", 13, func(r result) string { return strconv.FormatFloat(r.framesPerSec, 'f', 0, 64) }},
	{"p50", 10, func(r result) string { return r.p50.String() }},
	{"p99", 10, func(r result) string { return r.p99.String() }},
	{"max", 10, func(r result) string { return r.max.String() }},
	{"lost", 7, func(r result) string { return strconv.FormatUint(r.lost, 10) }},
	{"late", 7, func(r result) string { return strconv.FormatUint(r.late, 10) }},
	{"cpu%", 10, func(r result) string { return oneDecimal(r.cpuPct) }},
	{"rss MiB", 11, func(r result) string { return oneDecimal(float64(r.rssKiB) / 1024) }},
	{"KiB/call", 11, func(r result) string {
		if r.rssKiB <= 0 {
			return "-"
		}
		return strconv.FormatInt((r.rssKiB-r.idleKiB)/int64(r.calls), 10)
	}},
	{"setup p50", 11, func(r result) string { return r.setupP50.Round(10 * time.Microsecond).String() }},
	{"client%", 10, func(r result) string { return oneDecimal(r.clientCPUPct) }},
	{"node1%", 9, func(r result) string { return nodeCPU(r, 0) }},
	{"node2%", 9, func(r result) string { return nodeCPU(r, 1) }},
	{"nats%", 9, func(r result) string {
		if r.nodes < 2 || !r.measured {
			return "-"
		}
		return oneDecimal(r.natsCPU)
	}},
	{"relay p50", 11, func(r result) string { return relayCell(r, r.relayP50) }},
	{"relay p99", 11, func(r result) string { return relayCell(r, r.relayP99) }},
	{"cpu µs/frame", 0, func(r result) string {
		if !r.measured {
			return "-"
		}
		return oneDecimal(r.cpuPerFrame)
	}},
}

func relayCell(r result, d time.Duration) string {
	switch {
	case r.nodes < 2 || d == 0:
		return "-"
	case d < 0:
		return ">" + time.Duration(server.DelayBuckets[len(server.DelayBuckets)-1]*float64(time.Second)).String()
	}
	return "≤" + d.String()
}

func nodeCPU(r result, i int) string {
	if i >= len(r.nodeCPU) || !r.measured {
		return "-"
	}
	return oneDecimal(r.nodeCPU[i])
}

// tableRow lays cells out in the columns' widths (counted in runes), one
// space apart at least.
func tableRow(cells func(column) string) string {
	var b strings.Builder
	for i, col := range columns {
		s := cells(col)
		b.WriteString(s)
		if i < len(columns)-1 {
			b.WriteString(strings.Repeat(" ", max(1, col.width-utf8.RuneCountInString(s))))
		}
	}
	return b.String()
}

func run(ctx context.Context, c config, out io.Writer) error {
	if c.serverCPUs != nil {
		if err := usableCPUs(c.serverCPUs); err != nil {
			return fmt.Errorf("-server-cpus: %w", err)
		}
	}
	if c.clientCPUs != nil {
		if err := usableCPUs(c.clientCPUs); err != nil {
			return fmt.Errorf("-client-cpus: %w", err)
		}
		// Before anything else starts threads of its own.
		if err := pinProcess(c.clientCPUs); err != nil {
			return fmt.Errorf("-client-cpus: %w", err)
		}
		if c.procs == 0 {
			c.procs = len(c.clientCPUs)
		}
	}
	if c.procs > 0 {
		runtime.GOMAXPROCS(c.procs)
	}
	if c.profile != "" {
		f, err := os.Create(c.profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if len(c.nodes) == 0 {
		c.nodes = []int{1}
	}
	fmt.Fprintln(out, tableRow(func(col column) string { return col.head }))
	rounds, empty := 0, 0
	for _, n := range c.sizes {
		for _, nodes := range c.nodes {
			r, err := round(ctx, c, n, nodes)
			if err != nil {
				return fmt.Errorf("%d calls on %d node(s): %w", n, nodes, err)
			}
			rounds++
			fmt.Fprintln(out, tableRow(func(col column) string {
				if r.failed == r.calls && !slices.Contains([]string{"nodes", "calls", "failed"}, col.head) {
					return "-" // nothing measured
				}
				return col.cell(r)
			}))
			if r.failed == n {
				empty++
				fmt.Fprintf(out, "       note: no call was set up, so nothing was measured; the first error: %s\n", r.firstErr)
			} else if r.failed > 0 {
				fmt.Fprintf(out, "       note: %d calls failed; the first error: %s\n", r.failed, r.firstErr)
			}
			if r.clientDrops > 0 {
				fmt.Fprintf(out, "       note: the load client itself dropped %d frames (client CPU-bound)\n", r.clientDrops)
			}
			if r.relayErr != "" {
				fmt.Fprintf(out, "       note: the relay's delay was not read: %s\n", r.relayErr)
			}
			if r.clientBad > 0 {
				fmt.Fprintf(out, "       note: %d legs failed or got messages other than audio and pings\n", r.clientBad)
			}
		}
	}
	if empty > 0 {
		return fmt.Errorf("%d of %d rounds set up no call", empty, rounds)
	}
	return nil
}

// sampleAll samples every process of pids (those > 0).
func sampleAll(pids []int) ([]procSample, error) {
	s := make([]procSample, len(pids))
	for i, pid := range pids {
		if pid <= 0 {
			continue
		}
		var err error
		if s[i], err = sampleProc(pid); err != nil {
			return s, err
		}
	}
	return s, nil
}

// round runs n calls against nodes server nodes: it sets them up, streams
// for the warm-up, then measures for the duration. A round that sets up no
// call returns without measuring (res.failed == n, res.firstErr why).
func round(ctx context.Context, c config, n, nodes int) (result, error) {
	res := result{calls: n, nodes: nodes}
	srv, err := c.startServers(ctx, nodes)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	if c.colocate {
		srv.callee = srv.caller
	}
	pids := srv.pids()
	// measured: the CPU and memory of every server-side process are known.
	measured := !slices.Contains(pids, 0)
	idle, err := sampleAll(pids)
	if err != nil {
		return res, err
	}
	for _, s := range idle {
		res.idleKiB += s.rssKiB
	}

	rec := &recorder{}
	detached := c.stream == streamPoll
	calls := make([]*loadCall, 0, n)
	setups := make([]time.Duration, 0, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	pace := time.NewTicker(time.Second / time.Duration(c.ramp))
	for i := range n {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-pace.C:
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			call, err := placeCall(ctx, srv.caller, srv.callee, i, rec, detached)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.failed++
				if res.firstErr == "" {
					res.firstErr = err.Error()
				}
				if res.failed <= 3 {
					fmt.Fprintf(os.Stderr, "call %d: %v\n", i, err)
				}
				if call != nil {
					call.hangup()
				}
				return
			}
			calls = append(calls, call)
			setups = append(setups, call.setup)
		}()
	}
	pace.Stop()
	wg.Wait()
	defer func() {
		for _, call := range calls {
			call.hangup()
		}
	}()
	if len(calls) == 0 {
		return res, ctx.Err()
	}

	sendCtx, stopSending := context.WithCancel(ctx)
	defer stopSending()
	var bad atomic.Uint64
	var wait func()
	if detached {
		if wait, err = streamDetached(sendCtx, calls, runtime.GOMAXPROCS(0), rec, &bad); err != nil {
			return res, err
		}
	} else {
		wait = streamGorilla(sendCtx, calls)
	}

	select {
	case <-ctx.Done():
	case <-time.After(c.warmup):
	}
	var selfBefore, selfAfter procSample
	framesBefore := received(calls)
	lostBefore, lateBefore := lossOf(calls)
	before, _ := sampleAll(pids)
	relayBefore, relayErr := srv.relayCounts()
	selfBefore, _ = sampleProc(os.Getpid())
	rec.measuring.Store(true)
	began := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(c.duration):
	}
	rec.measuring.Store(false)
	elapsed := time.Since(began)
	after, _ := sampleAll(pids)
	relayAfter, err := srv.relayCounts()
	if relayErr = errors.Join(relayErr, err); relayErr == nil && relayAfter != nil {
		for i := range relayAfter {
			relayAfter[i] -= relayBefore[i]
		}
		res.relayP50, _ = bucketQuantile(relayAfter, 0.50)
		res.relayP99, _ = bucketQuantile(relayAfter, 0.99)
	} else if relayErr != nil {
		res.relayErr = relayErr.Error()
	}
	framesInWindow := received(calls) - framesBefore
	if res.measured = measured; measured {
		var cpu time.Duration
		for i := range pids {
			pct := cpuPercent(before[i], after[i])
			if i < len(srv.nodes) {
				res.nodeCPU = append(res.nodeCPU, pct)
			} else {
				res.natsCPU = pct
			}
			res.cpuPct += pct
			res.rssKiB += after[i].rssKiB
			cpu += after[i].cpu - before[i].cpu
		}
		if framesInWindow > 0 {
			res.cpuPerFrame = float64(cpu) / float64(time.Microsecond) / float64(framesInWindow)
		}
	}
	selfAfter, _ = sampleProc(os.Getpid())
	res.clientCPUPct = cpuPercent(selfBefore, selfAfter)
	stopSending()
	wait()
	if !detached {
		settle(ctx, calls) // the poll loops drained before they returned
	}
	lost, late := lossOf(calls)
	res.lost, res.late = lost-lostBefore+unarrived(calls), late-lateBefore
	res.framesPerSec = float64(framesInWindow) / elapsed.Seconds()
	res.p50, res.p99, res.max = rec.delays.quantile(0.50), rec.delays.quantile(0.99), rec.delays.quantile(1)
	for _, call := range calls {
		res.clientDrops += call.clientDropped()
	}
	res.clientBad = bad.Load()
	slices.Sort(setups)
	if len(setups) > 0 {
		res.setupP50 = setups[len(setups)/2]
		res.setupP99 = setups[len(setups)*99/100]
	}
	return res, ctx.Err()
}

// streamGorilla streams every call through gorilla/websocket: each leg's
// reader goroutine (started at set-up) receives, and a few sender
// goroutines write the frames directly, spread over the 20 ms frame period
// one slot per millisecond, as independent phones would, rather than
// bursting all at once. Several senders, so one slow write does not hold up
// every call's frame.
func streamGorilla(ctx context.Context, calls []*loadCall) (wait func()) {
	const senders = 4
	var wg sync.WaitGroup
	for k := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			// Slots are milliseconds since start; a late tick catches up on
			// the slots it missed, so every call keeps its 50 frames a
			// second. Call i belongs to sender i%senders, slot (i/senders)%20.
			start, next := time.Now(), 0
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				for now := int(time.Since(start) / time.Millisecond); next <= now; next++ {
					for i := k + senders*(next%20); i < len(calls); i += senders * 20 {
						calls[i].tick()
					}
				}
			}
		}()
	}
	return wg.Wait
}

func received(calls []*loadCall) (n uint64) {
	for _, c := range calls {
		n += c.ab.received.Load() + c.ba.received.Load()
	}
	return n
}

// settle waits, once gorilla's senders have stopped, for the frames still
// in flight (its readers run until hang-up): until none has arrived for
// settleQuiet, at most settleMax. The detached poll loops drain on their
// own (pollLoop.drain).
func settle(ctx context.Context, calls []*loadCall) {
	tick := time.NewTicker(settlePoll)
	defer tick.Stop()
	stop := time.Now()
	for n, last, now := received(calls), stop, stop; now.Sub(last) < settleQuiet && now.Sub(stop) < settleMax; now = time.Now() {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if m := received(calls); m != n {
			n, last = m, time.Now()
		}
	}
}

// unarrived is every stream's tail of frames sent after its last arrival.
func unarrived(calls []*loadCall) (n uint64) {
	for _, c := range calls {
		n += c.ab.unarrived() + c.ba.unarrived()
	}
	return n
}

func lossOf(calls []*loadCall) (lost, late uint64) {
	for _, c := range calls {
		lost += c.ab.lost.Load() + c.ba.lost.Load()
		late += c.ab.late.Load() + c.ba.late.Load()
	}
	return lost, late
}

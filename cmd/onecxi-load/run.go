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

	"github.com/onecxi/phone/internal/flagparse"
	"github.com/onecxi/phone/wire"
)

// Streaming modes (-stream).
const (
	streamAuto       = "auto" // poll where it can, else goroutines
	streamPoll       = "poll"
	streamGoroutines = "goroutines"
)

type config struct {
	sizes    []int // call counts to run, one round each
	ramp     int   // calls set up per second
	warmup   time.Duration
	duration time.Duration
	server   string // external server URL; empty = spawn one
	account  string
	key      string
	pid      int // external server's PID, for CPU and RSS
	insecure bool
	procs    int // GOMAXPROCS of the load client (0: Go's default)
	profile  string
	stream   string // streamPoll or streamGoroutines
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("onecxi-load", flag.ContinueOnError)
	var c config
	calls := fs.String("calls", "500", "concurrent calls; a comma-separated list runs one round per value (e.g. 100,500,1000)")
	fs.IntVar(&c.ramp, "ramp", 100, "calls set up per second")
	fs.DurationVar(&c.warmup, "warmup", 5*time.Second, "time after ramp-up before measuring")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "measurement window")
	fs.StringVar(&c.server, "server", "", "server URL (http[s]://host:port); empty starts a private server process")
	fs.StringVar(&c.account, "account", "", "account name for -server")
	fs.IntVar(&c.pid, "pid", 0, "PID of the -server process, to report its CPU and RSS")
	fs.BoolVar(&c.insecure, "insecure", false, "accept any TLS certificate (self-signed test servers)")
	fs.StringVar(&c.profile, "cpuprofile", "", "write the load client's CPU profile here (the server's: env "+childProfileEnv+")")
	fs.StringVar(&c.stream, "stream", streamAuto, "how the client streams once calls are up: "+streamPoll+" (detached sockets on epoll poll loops; Linux, plain ws:// only), "+streamGoroutines+" (gorilla/websocket, a reader goroutine per leg, as the app does) or "+streamAuto+" ("+streamPoll+" where it can)")
	fs.IntVar(&c.procs, "client-procs", 0, "GOMAXPROCS of the load client only (the spawned server keeps Go's default); on a small machine 1 leaves a core to the server")
	if err := flagparse.Parse(fs, args); err != nil {
		return c, err
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
	if c.duration < time.Second {
		return c, errors.New("-duration must be at least 1s")
	}
	if c.server != "" {
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
	failed          int
	framesPerSec    float64
	p50, p99, max   time.Duration
	lost, late      uint64
	clientDrops     uint64
	cpuPct          float64 // of one core, server only
	clientCPUPct    float64 // of one core, this load client
	clientBad       uint64  // failed legs and unexpected messages (detached streaming)
	rssKiB, idleKiB int64
	setupP50        time.Duration
	setupP99        time.Duration
}

func run(ctx context.Context, c config, out io.Writer) error {
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
	fmt.Fprintf(out, "%-6s %-6s %-12s %-9s %-9s %-9s %-6s %-6s %-9s %-10s %-10s %-10s %-9s\n",
		"calls", "failed", "frames/s", "p50", "p99", "max", "lost", "late", "cpu%", "rss MiB", "KiB/call", "setup p50", "client%")
	for _, n := range c.sizes {
		r, err := round(ctx, c, n)
		if err != nil {
			return fmt.Errorf("%d calls: %w", n, err)
		}
		perCall := "-"
		if r.rssKiB > 0 {
			perCall = strconv.FormatInt((r.rssKiB-r.idleKiB)/int64(n), 10)
		}
		fmt.Fprintf(out, "%-6d %-6d %-12.0f %-9s %-9s %-9s %-6d %-6d %-9.1f %-10.1f %-10s %-10s %-9.1f\n",
			r.calls, r.failed, r.framesPerSec, r.p50, r.p99, r.max, r.lost, r.late, r.cpuPct,
			float64(r.rssKiB)/1024, perCall, r.setupP50.Round(10*time.Microsecond), r.clientCPUPct)
		if r.clientDrops > 0 {
			fmt.Fprintf(out, "       note: the load client itself dropped %d frames (client CPU-bound)\n", r.clientDrops)
		}
		if r.clientBad > 0 {
			fmt.Fprintf(out, "       note: %d legs failed or got messages other than audio and pings\n", r.clientBad)
		}
	}
	return nil
}

func round(ctx context.Context, c config, n int) (result, error) {
	res := result{calls: n}
	t, pid, stop, err := c.connectTarget(ctx)
	if err != nil {
		return res, err
	}
	defer stop()
	var idle procSample
	if pid > 0 {
		if idle, err = sampleProc(pid); err != nil {
			return res, err
		}
		res.idleKiB = idle.rssKiB
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
			call, err := placeCall(ctx, t, i, rec, detached)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.failed++
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
	var before, after, selfBefore, selfAfter procSample
	framesBefore := received(calls)
	lostBefore, lateBefore := lossOf(calls)
	if pid > 0 {
		before, _ = sampleProc(pid)
	}
	selfBefore, _ = sampleProc(os.Getpid())
	rec.measuring.Store(true)
	began := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(c.duration):
	}
	rec.measuring.Store(false)
	elapsed := time.Since(began)
	if pid > 0 {
		after, _ = sampleProc(pid)
		res.cpuPct = cpuPercent(before, after)
		res.rssKiB = after.rssKiB
	}
	selfAfter, _ = sampleProc(os.Getpid())
	res.clientCPUPct = cpuPercent(selfBefore, selfAfter)
	stopSending()
	wait()
	lost, late := lossOf(calls)
	res.lost, res.late = lost-lostBefore, late-lateBefore
	res.framesPerSec = float64(received(calls)-framesBefore) / elapsed.Seconds()
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

func lossOf(calls []*loadCall) (lost, late uint64) {
	for _, c := range calls {
		lost += c.ab.lost.Load() + c.ba.lost.Load()
		late += c.ab.late.Load() + c.ba.late.Load()
	}
	return lost, late
}

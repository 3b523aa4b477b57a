package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/onecxi/phone/internal/flagparse"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/metrics"
	"github.com/onecxi/phone/server/natsbus"
	"github.com/onecxi/phone/server/providers"
	"github.com/onecxi/phone/wire"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the server failed while running
	exitUsage   = 2 // bad flags, arguments or configuration
)

// run is main without the process: arguments, streams and a context that
// ends on SIGINT/SIGTERM, so tests can drive it. When ctx ends the server
// drains (live calls go on for up to the drain timeout) and then shuts down.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runDraining(ctx, context.Background(), args, stdin, stdout, stderr)
}

// runDraining is run with a second context, cut, whose end (main: a second
// signal) cuts a drain short: the calls still up end at once.
func runDraining(ctx, cut context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "gen-key":
			return genKey(args[1:], stdout, stderr)
		case "hash-key":
			return hashKey(args[1:], stdin, stdout, stderr)
		case "test-push":
			return testPush(ctx, args[1:], stdout, stderr)
		case "account":
			return account(ctx, args[1:], stdout, stderr)
		case "calls":
			return calls(ctx, args[1:], stdout, stderr)
		}
	}

	fs := flag.NewFlagSet("onecxi-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: onecxi-server [flags]
       onecxi-server gen-key     print a new API key and its hash (for a config's apiKeyHashes)
       onecxi-server hash-key    read an API key on stdin and print its hash
       onecxi-server test-push -config f -account a -number n
                                 ring every push device of a number once (support)
       onecxi-server account add|rotate|revoke|list …
                                 accounts and API keys in the database, at run time (see account -h)
       onecxi-server calls [-account A] [-since 24h] [-limit N]
                                 call detail records in the database, newest first

Without -config the server runs a demo configuration and prints its API key.

flags:
`)
		fs.PrintDefaults()
	}
	var (
		configPath  = fs.String("config", "", "JSON configuration `file` (default: the demo configuration)")
		listen      = fs.String("listen", "", "listen `address` host:port, overriding the configuration")
		tlsCert     = fs.String("tls-cert", "", "TLS certificate PEM `file` (with -tls-key: https/wss)")
		tlsKey      = fs.String("tls-key", "", "TLS private key PEM `file`")
		logLevel    = fs.String("log-level", "info", "log `level`: debug, info, warn or error")
		ringTimeout = fs.Duration("ring-timeout", 0, "how long an app-to-app call rings (default: configuration, else 45s)")
		deviceDB    = fs.String("device-db", "", "device registry SQLite `file`, overriding the configuration (default: configuration, else in memory)")
		metricsAddr = fs.String("metrics-listen", "", "serve /metrics (Prometheus), /healthz and /readyz on this `address` host:port, overriding the configuration's metricsListen (default: off; keep it private, e.g. 127.0.0.1:9471)")
		database    = fs.String("database", "", "accounts and call records database `URL`, sqlite:<file> or postgres://…, overriding the configuration (default: configuration, else accounts in memory and no call records)")
		nodeID      = fs.String("node-id", "", "this server's `name` in call detail records and its cluster (default: configuration, else the host name)")
		natsURLs    = fs.String("nats", "", "join the cluster through these NATS servers, `nats://host:port[,…]`, overriding the configuration's nats (default: configuration, else a NATS server embedded in the process, opening no port)")
		drain       *time.Duration
		resumeGrace *time.Duration
	)
	fs.Func("resume-grace", "how long a call whose party lost its connection waits for it to resume (`duration`, 0: resumption off; default: configuration, else 30s)",
		func(v string) error {
			d, err := server.ParseResumeGrace(v)
			if err != nil {
				return err
			}
			resumeGrace = &d
			return nil
		})
	fs.Func("drain-timeout", "on SIGTERM/SIGINT, how long live calls may go on before they are ended (`duration`, 0: at once; default: configuration, else 30s; a second signal cuts it short)",
		func(v string) error {
			d, err := server.ParseDrainTimeout(v)
			if err != nil {
				return err
			}
			drain = &d
			return nil
		})
	if err := flagparse.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "onecxi-server: unexpected argument %s (see -h)\n", wire.Quote(fs.Arg(0)))
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "onecxi-server: -log-level %s is not debug, info, warn or error\n", wire.Quote(*logLevel))
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	var (
		cfg     server.Config
		demoKey string
	)
	if *configPath != "" {
		var err error
		if cfg, err = server.LoadConfig(*configPath); err != nil {
			fmt.Fprintf(stderr, "onecxi-server: %v\n", err)
			return exitUsage
		}
	} else {
		cfg, demoKey = server.DemoConfig()
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if *tlsCert != "" || *tlsKey != "" {
		cfg.TLSCert, cfg.TLSKey = *tlsCert, *tlsKey
	}
	if *ringTimeout != 0 {
		cfg.RingTimeout = *ringTimeout
	}
	if *deviceDB != "" {
		cfg.DeviceDB = *deviceDB
	}
	if *metricsAddr != "" {
		if err := server.CheckListenAddr(*metricsAddr); err != nil {
			fmt.Fprintf(stderr, "onecxi-server: -metrics-listen: %v\n", err)
			return exitUsage
		}
		cfg.MetricsListen = *metricsAddr
	}
	if *database != "" {
		if demoKey != "" {
			// Every demo start makes a new key: in a database the old ones
			// would all stay live.
			fmt.Fprintln(stderr, "onecxi-server: -database needs a -config: the demo configuration makes a new API key at every start")
			return exitUsage
		}
		cfg.Database = *database
	}
	if *nodeID != "" {
		cfg.NodeID = *nodeID
	}
	if *natsURLs != "" {
		if _, err := server.ParseNATSURLs(*natsURLs); err != nil {
			fmt.Fprintf(stderr, "onecxi-server: -nats: %v\n", err)
			return exitUsage
		}
		cfg.NATS = *natsURLs
	}
	if drain != nil {
		cfg.DrainTimeout = *drain
	}
	if resumeGrace != nil {
		cfg.ResumeGrace = *resumeGrace
	}
	prov, err := providers.Open(ctx, cfg, nil)
	if err != nil {
		fmt.Fprintf(stderr, "onecxi-server: %v\n", err)
		return exitUsage
	}
	defer func() {
		if err := prov.Close(); err != nil {
			log.Error("closing", "err", err)
		}
	}()
	opts := append([]server.Option{server.WithLogger(log), server.WithMetrics(metrics.Handler)}, prov.Options()...)
	gw, code := sipGateway(ctx, cfg, log, stderr)
	if code != exitOK {
		return code
	}
	if gw != nil {
		defer gw.Close()
		opts = append(opts, server.WithTrunk(gw))
	}
	bus, err := natsbus.Open(natsbus.Options{URLs: cfg.NATS, Name: "onecxi-server " + cfg.NodeID, Log: log})
	if err != nil {
		fmt.Fprintf(stderr, "onecxi-server: cluster: %v\n", err)
		return exitFailure
	}
	// After the server's Shutdown (which says goodbye): closes the
	// connection and the embedded NATS server.
	defer func() { _ = bus.Close() }()
	opts = append(opts, server.WithCluster(bus))
	srv, err := server.New(cfg, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "onecxi-server: %v\n", err)
		return exitUsage
	}
	log.Info("cluster joined", "node", bus.Self().ID, "nats", strings.Join(bus.Servers(), ","), "embedded", bus.Embedded())
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "onecxi-server: listen: %v\n", err)
		_ = srv.Shutdown(context.Background())
		return exitFailure
	}
	if _, err := srv.ListenMetrics(ctx); err != nil {
		fmt.Fprintf(stderr, "onecxi-server: %v\n", err)
		_ = ln.Close()
		_ = srv.Shutdown(context.Background())
		return exitFailure
	}
	if demoKey != "" {
		printDemo(stdout, cfg, ln.Addr(), demoKey)
	}
	if gw != nil {
		// The gateway outlives the server's shutdown, which hangs up every
		// call: those hang-ups are BYEs and CANCELs it still has to send.
		gwCtx, stopGW := context.WithCancel(context.Background())
		gwDone := make(chan struct{})
		go func() {
			defer close(gwDone)
			_ = gw.Serve(gwCtx, srv)
		}()
		defer func() {
			stopGW()
			<-gwDone
		}()
	}
	served := make(chan struct{})
	defer close(served)
	go func() {
		select {
		case <-cut.Done():
			// Serve is draining (ctx ended first) or about to: end the calls
			// now rather than after the drain timeout.
			log.Info("second signal: cutting the drain short")
			sctx, cancel := context.WithTimeout(context.Background(), server.ShutdownTimeout)
			defer cancel()
			_ = srv.Shutdown(sctx)
		case <-served:
		}
	}()
	if err := srv.Serve(ctx, ln); err != nil {
		fmt.Fprintf(stderr, "onecxi-server: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// printDemo shows the demo credentials once, on stdout and never through
// the logger: a human has to copy the key into an app, and logs are kept.
func printDemo(w io.Writer, cfg server.Config, addr net.Addr, key string) {
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	acct := cfg.Accounts[0]
	fmt.Fprintf(w, `
OneCxi demo server (DEVELOPMENT only: a new key is generated on every start)
  server URL:  %s://%s
  account:     %s
  API key:     %s
  DIDs:        90000 echo, 90050 IVR; outbound calls go to the SIMULATED trunk

`, scheme, addr, acct.Name, key)
}

func genKey(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: onecxi-server gen-key")
		return exitUsage
	}
	key := server.GenerateKey()
	fmt.Fprintf(stdout, "API key (give to the app; not stored by the server): %s\n", key)
	fmt.Fprintf(stdout, "hash (put in the account's apiKeyHashes):           %s\n", server.HashKey(key))
	return exitOK
}

func hashKey(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: onecxi-server hash-key < keyfile")
		return exitUsage
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(stderr, "onecxi-server: read key: %v\n", err)
		return exitFailure
	}
	key := strings.TrimSpace(line)
	if key == "" {
		fmt.Fprintln(stderr, "onecxi-server: hash-key: no key on stdin")
		return exitUsage
	}
	fmt.Fprintln(stdout, server.HashKey(key))
	return exitOK
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/onecxi/phone/internal/flagparse"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/providers"
)

// testPush is `onecxi-server test-push`: for support, ring every push
// device registered for a number with a test call, report what each
// provider said, and stop the ringing after -ring.
func testPush(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("onecxi-server test-push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		configPath = fs.String("config", "", "JSON configuration `file` with push and deviceDb (required)")
		account    = fs.String("account", "", "account `name` (required)")
		number     = fs.String("number", "", "registered `number` to ring (required)")
		ring       = fs.Duration("ring", 5*time.Second, "how long the test call rings before its end push")
	)
	if err := flagparse.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *configPath == "" || *account == "" || *number == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "onecxi-server test-push: -config, -account and -number are required (see -h)")
		return exitUsage
	}
	if *ring < 0 || *ring > time.Minute {
		fmt.Fprintln(stderr, "onecxi-server test-push: -ring must be between 0 and 1m")
		return exitUsage
	}
	cfg, err := server.LoadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "onecxi-server test-push: %v\n", err)
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	prov, err := providers.Open(ctx, cfg, nil)
	if err != nil {
		fmt.Fprintf(stderr, "onecxi-server test-push: %v\n", err)
		return exitUsage
	}
	defer prov.Close()
	srv, err := server.New(cfg, append([]server.Option{server.WithLogger(log)}, prov.Options()...)...)
	if err != nil {
		fmt.Fprintf(stderr, "onecxi-server test-push: %v\n", err)
		return exitUsage
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	reports, err := srv.TestPush(ctx, *account, *number, *ring)
	if err != nil {
		fmt.Fprintf(stderr, "onecxi-server test-push: %v\n", err)
		return exitFailure
	}
	if len(reports) == 0 {
		fmt.Fprintf(stdout, "%s has no device registered for push in account %s\n", *number, *account)
		return exitFailure
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tPLATFORM\tTOKEN\tRESULT\tDETAIL")
	failed := false
	for _, r := range reports {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.DeviceID, r.Platform, r.Token, r.Result, r.Err)
		failed = failed || r.Result != "sent"
	}
	_ = tw.Flush()
	if failed {
		return exitFailure
	}
	return exitOK
}

// Command serverprobe runs the real onecxi-server binary and probes its drain
// and call resumption end to end, as any client would: it speaks the
// protocol with package wire alone (not the SDK), and prints what happened
// as a timeline, times from the client's start, with the server's relevant
// log lines.
//
//	go run ./scripts/serverprobe [-server path/to/onecxi-server] [-resets 50] [-only drain,cut,timeout,resume]
//
// Without -server it builds ./cmd/onecxi-server into a temporary directory
// (run it from inside the repository). Each scenario starts its own server
// on 127.0.0.1 with a free port (-listen 127.0.0.1:0 and the demo
// configuration, whose URL and API key the server prints on stdout), waits
// for /readyz 200 and calls the echo DID 90000 with a 440 Hz tone, 20 ms
// frames at real-time pace:
//
//   - drain: SIGTERM during the call; the call is told draining{ms},
//     /readyz and new /v1/call upgrades get 503 (/healthz stays 200), the
//     echo goes on, and the server exits once the client hangs up.
//   - cut: as drain, but a second SIGTERM 3 s in ends the call with
//     end{reason:"shutdown"} and the process exits.
//   - timeout: the server runs with -drain-timeout 2s and the call stays up
//     until the server ends it with end{reason:"shutdown"}.
//   - resume: a call with X-OneCxi-Features: resume whose TCP connection is
//     closed abruptly (no close frame) -resets times and resumed at once on
//     a new socket; it reports the handshake time (drop to resumed) and the
//     audio gap (drop to the first echoed frame on the new socket) as
//     percentiles. Then (server run with -resume-grace 3s) the socket is
//     dropped for good: the server ends the call network_lost about 3 s
//     later, and a late resume is told end{reason:"network_lost"}.
//
// Anything expected that does not happen within its bound fails the
// scenario, with the server's log; the command then exits 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
)

func main() {
	serverBin := flag.String("server", "", "onecxi-server `binary` to probe (default: go build ./cmd/onecxi-server)")
	resets := flag.Int("resets", 50, "how many times the resume scenario drops and resumes its call")
	only := flag.String("only", "", "comma-separated scenarios to run: drain, cut, timeout, resume (default: all)")
	flag.Parse()
	if flag.NArg() > 0 || *resets < 1 {
		flag.Usage()
		os.Exit(2)
	}
	cfg := defaultConfig()
	cfg.resets = *resets
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *serverBin, cfg, splitList(*only), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "serverprobe:", err)
		os.Exit(1)
	}
}

// run builds the server unless bin names one, then runs the scenarios named
// in only (all when empty), each against its own server process. It returns
// an error naming every scenario that failed.
func run(ctx context.Context, bin string, cfg config, only []string, out io.Writer) error {
	list, err := pick(scenarios(cfg), only)
	if err != nil {
		return err
	}
	if bin == "" {
		dir, err := os.MkdirTemp("", "serverprobe")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if bin, err = buildServer(ctx, dir); err != nil {
			return err
		}
		fmt.Fprintf(out, "serverprobe: onecxi-server built from ./cmd/onecxi-server with %s %s/%s; %d CPUs\n\n",
			runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	} else {
		fmt.Fprintf(out, "serverprobe: probing %s; client %s %s/%s; %d CPUs\n\n", bin, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	}
	var failed []string
	for _, s := range list {
		if err := runScenario(ctx, bin, cfg, s, out); err != nil {
			fmt.Fprintf(out, "FAIL %s: %v\n\n", s.name, err)
			failed = append(failed, s.name)
			continue
		}
		fmt.Fprintf(out, "ok   %s\n\n", s.name)
	}
	if len(failed) > 0 {
		return fmt.Errorf("failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// pick returns the scenarios named in only, in their usual order, or all.
func pick(all []scenario, only []string) ([]scenario, error) {
	if len(only) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range only {
		want[n] = true
	}
	var out []scenario
	for _, s := range all {
		if want[s.name] {
			out = append(out, s)
			delete(want, s.name)
		}
	}
	for n := range want {
		return nil, fmt.Errorf("no scenario %q (drain, cut, timeout, resume)", n)
	}
	return out, nil
}

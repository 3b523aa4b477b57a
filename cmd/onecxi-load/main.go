// Command onecxi-load runs N concurrent app-to-app calls through one OneCxi
// call server and reports relay throughput, relay delay, loss, and the
// server's CPU and memory per call. See the README's "Measured figures".
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == childArg {
		if err := serveChild(); err != nil {
			fmt.Fprintln(os.Stderr, "onecxi-load server:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "onecxi-load:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "onecxi-load:", err)
		os.Exit(1)
	}
}

// Command onecxi-load runs N concurrent app-to-app calls through one OneCxi
// call server, or a cluster of two on NATS (-nodes 2: every call's caller
// on one node, its callee on the other), and reports relay throughput,
// relay delay, loss, and the servers' CPU and memory per call. See the
// README's "Measured figures".
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	if ok, err := runChild(os.Args[1:]); ok {
		if err != nil {
			fmt.Fprintf(os.Stderr, "onecxi-load %s: %v\n", map[string]string{childArg: "server", natsArg: "NATS"}[os.Args[1]], err)
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

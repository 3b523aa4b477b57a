// Command onecxi-cli places and answers OneCxi calls from a terminal, with a
// WAV file or a tone as microphone and a WAV file as speaker. It is the
// support engineer's and the test suite's phone.
//
//	onecxi-cli -server http://127.0.0.1:8471 -account demo -number 1001 inbound 90000
//
// The API key is read from ONECXI_API_KEY (never from a flag, so it stays out
// of shell history and process listings).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	opts, err := parseArgs(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "onecxi-cli:", err)
		fmt.Fprintln(os.Stderr, "run 'onecxi-cli -h' for usage")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "onecxi-cli:", err)
		os.Exit(1)
	}
}

// Command onecxi-server runs the OneCxi reference call server.
//
//	onecxi-server [-config file.json] [-listen host:port] [-tls-cert f -tls-key f]
//	              [-log-level debug|info|warn|error] [-ring-timeout 45s]
//	              [-device-db devices.db]
//	onecxi-server gen-key      print a new API key and its hash
//	onecxi-server hash-key     read an API key on stdin, print its hash
//	onecxi-server test-push -config f -account a -number n [-ring 5s]
//	                           send a test call push to every device of a number
//
// Without -config it runs the demo configuration (server.DemoConfig) and
// prints the demo account's freshly generated API key once, on stdout.
// SIGINT or SIGTERM shut it down gracefully.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one kills at once rather than
		// waiting for the graceful shutdown.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Command onecxi-server runs the OneCxi reference call server.
//
//	onecxi-server [-config file.json] [-listen host:port] [-tls-cert f -tls-key f]
//	              [-log-level debug|info|warn|error] [-ring-timeout 45s]
//	              [-device-db devices.db] [-drain-timeout 30s] [-resume-grace 30s]
//	              [-metrics-listen 127.0.0.1:9471]
//	              [-database sqlite:server.db|postgres://…] [-node-id name]
//	              [-nats nats://host:port[,…]]
//	onecxi-server gen-key      print a new API key and its hash
//	onecxi-server hash-key     read an API key on stdin, print its hash
//	onecxi-server test-push -config f -account a -number n [-ring 5s]
//	                           send a test call push to every device of a number
//	onecxi-server account add|rotate|revoke|list [-config f | -database URL] …
//	                           accounts and API keys in the database, changed
//	                           while servers run (rotate prints the new key once)
//	onecxi-server calls [-config f | -database URL] [-account A] [-since 24h] [-limit N]
//	                           list call detail records, newest first
//
// Without -config it runs the demo configuration (server.DemoConfig) and
// prints the demo account's freshly generated API key once, on stdout.
// SIGINT or SIGTERM drain it (no new calls; live calls go on for up to
// -drain-timeout) and then shut it down gracefully; a second signal ends the
// calls still up at once, and a third kills the process.
//
// -metrics-listen (or the configuration's metricsListen) opens a second,
// plain-HTTP listener for operators: GET /metrics in the Prometheus text
// format (package server/metrics), /healthz (liveness) and /readyz
// (readiness: 503 while draining). It is off by default and belongs on
// loopback or a private network. /healthz and /readyz are also on the call
// listener; /metrics never is.
//
// Every server is a node of a cluster on NATS (package server/natsbus): by
// default it embeds a NATS server in its own process (a cluster of one,
// no port opened); -nats (or the configuration's nats) joins an external
// NATS instead, where the nodes announce themselves with their load and
// see each other (onecxi_cluster_nodes), and calls whose parties are on
// different nodes are bridged between them (docs/deploy.md).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	drain, startDrain := context.WithCancel(context.Background())
	cut, cutDrain := context.WithCancel(context.Background())
	go func() {
		<-sigs
		startDrain()
		<-sigs
		cutDrain()
		// A third signal kills at once rather than waiting for the
		// graceful shutdown.
		signal.Stop(sigs)
	}()
	code := runDraining(drain, cut, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	os.Exit(code)
}

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/wire"
)

// The load tool measures a server in its own process, so that the CPU and
// memory it reports are the server's alone: it re-executes itself with
// childArg, and the child runs the reference server on a loopback port.
const (
	childArg    = "__serve"
	childKeyEnv = "ONECXI_LOAD_KEY" // the parent's freshly generated key
	listenLine  = "LISTEN "
	// childProfileEnv names a file for the server's CPU profile (go tool pprof).
	childProfileEnv = "ONECXI_LOAD_SERVER_CPUPROFILE"
)

// serveChild is the child process: a demo-configured server whose one key is
// the parent's, with room for any number of calls.
func serveChild() error {
	key := os.Getenv(childKeyEnv)
	if key == "" {
		return errors.New(childKeyEnv + " not set")
	}
	cfg, _ := server.DemoConfig()
	cfg.Accounts[0].APIKeyHashes = []string{server.HashKey(key)}
	cfg.MaxCalls = 100000
	// One account places every call: its own caps would be the limit.
	cfg.Limits.CallsPerAccount = server.NoLimit
	cfg.Limits.EventConnsPerAccount = server.NoLimit
	srv, err := server.New(cfg, server.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	if path := os.Getenv(childProfileEnv); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("%s%s\n", listenLine, ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The parent closes our stdin when it is done or dies.
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); stop() }()
	return srv.Serve(ctx, ln)
}

// connectTarget returns where this round's clients connect: the external
// server of -server, or a fresh child server. stop ends the child.
func (c config) connectTarget(ctx context.Context) (target, int, func(), error) {
	if c.server != "" {
		t, err := newTarget(c.server, c.account, c.key, c.insecure)
		return t, c.pid, func() {}, err
	}
	self, err := os.Executable()
	if err != nil {
		return target{}, 0, nil, err
	}
	key := server.GenerateKey()
	cmd := exec.CommandContext(ctx, self, childArg)
	cmd.Env = append(os.Environ(), childKeyEnv+"="+key)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return target{}, 0, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return target{}, 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return target{}, 0, nil, fmt.Errorf("start server process: %w", err)
	}
	stop := func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), listenLine)
	if err != nil || !ok {
		stop()
		return target{}, 0, nil, fmt.Errorf("server process did not report its address (%s): %v", wire.Quote(line), err)
	}
	t, err := newTarget("http://"+addr, "demo", key, false)
	return t, cmd.Process.Pid, stop, err
}

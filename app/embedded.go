package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/onecxi/phone/server"
)

// embedded is the reference server running inside the app, so a new user has
// a working phone (echo test, IVR, simulated phone calls) with no setup.
type embedded struct {
	srv    *server.Server
	url    string
	key    string
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// startEmbedded listens on addr, or on a free loopback port when another
// instance already holds addr.
func startEmbedded(addr string, log *slog.Logger) (*embedded, error) {
	cfg, key := server.DemoConfig()
	srv, err := server.New(cfg, server.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("embedded server: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		log.Info("demo server port in use (another instance?); using a free port", "addr", addr)
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return nil, fmt.Errorf("embedded server: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &embedded{srv: srv, url: "http://" + ln.Addr().String(), key: key, cancel: cancel, done: make(chan error, 1)}
	go func() { e.done <- srv.Serve(ctx, ln) }()
	return e, nil
}

// stop shuts the server down gracefully, ending its calls. Safe to call
// more than once.
func (e *embedded) stop() {
	e.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.srv.Shutdown(ctx)
		e.cancel()
		<-e.done
	})
}

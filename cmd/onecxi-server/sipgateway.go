package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/sipgw"
)

// sipGateway builds and binds the SIP gateway when the configuration's
// trunk is of type "sip"; otherwise it returns nil. Binding before the
// server starts means a port already in use fails the start, not the first
// call.
func sipGateway(ctx context.Context, cfg server.Config, log *slog.Logger, stderr io.Writer) (*sipgw.Gateway, int) {
	if cfg.Trunk.Type != server.TrunkSIP {
		return nil, exitOK
	}
	sc, err := sipgw.ParseConfig(cfg.Trunk.SIP)
	if err != nil {
		fmt.Fprintf(stderr, "onecxi-server: %v\n", err)
		return nil, exitUsage
	}
	gw, err := sipgw.New(sc, sipgw.WithLogger(log))
	if err != nil {
		fmt.Fprintf(stderr, "onecxi-server: %v\n", err)
		return nil, exitUsage
	}
	if err := gw.Listen(ctx); err != nil {
		fmt.Fprintf(stderr, "onecxi-server: %v\n", err)
		return nil, exitFailure
	}
	return gw, exitOK
}

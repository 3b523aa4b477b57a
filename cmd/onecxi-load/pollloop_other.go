//go:build !linux

package main

import (
	"context"
	"errors"
	"sync/atomic"
)

// Detached streaming (pollloop_linux.go) uses epoll; elsewhere every call
// streams through gorilla/websocket.
const canDetach = false

type rawSock struct{}

func (*rawSock) write(int, []byte) error { return errors.ErrUnsupported }
func (*rawSock) close()                  {}

func streamDetached(context.Context, []*loadCall, int, *recorder, *atomic.Uint64) (func(), error) {
	return nil, errors.ErrUnsupported
}

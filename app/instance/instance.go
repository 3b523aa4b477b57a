package instance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// maxRequest bounds a request read from the channel.
const maxRequest = 4 << 10

// ioTimeout bounds each exchange on the channel: the running phone answers
// at once, and a stuck peer must not hold either side.
const ioTimeout = 3 * time.Second

// ErrRunning: another instance holds the channel (Acquire).
var ErrRunning = errors.New("another instance is running")

// ErrNotRunning: no instance answers on the channel (Send).
var ErrNotRunning = errors.New("no running instance")

// Request is what a second start asks of the running phone.
type Request struct {
	// Link is a click-to-call link (tel:, callto:, sip:) to put in the
	// dialer; empty just brings the window to the front.
	Link string `json:"link,omitempty"`
}

type reply struct {
	OK    bool   `json:"ok,omitempty"`
	Error string `json:"error,omitempty"`
}

// Handler acts on a request in the running phone; a non-nil error is sent
// back to the second start, which prints it.
type Handler func(Request) error

// Server is the running phone's end of the channel.
type Server struct {
	ln   net.Listener
	path string
	log  *slog.Logger
	wg   sync.WaitGroup
}

// socketPath is the channel of profile name in dir.
func socketPath(dir, name string) string { return filepath.Join(dir, name+".sock") }

// Acquire makes this process the running instance of profile name: it
// listens on the channel and runs handle for each request, one at a time,
// until Close. ErrRunning when another instance answers there; a socket
// left by one that died is removed and taken over.
func Acquire(dir, name string, handle Handler, log *slog.Logger) (*Server, error) {
	path := socketPath(dir, name)
	var err error
	for range 3 {
		var ln net.Listener
		if ln, err = net.Listen("unix", path); err == nil {
			s := &Server{ln: ln, path: path, log: log}
			s.wg.Add(1)
			go s.serve(handle)
			return s, nil
		}
		// Something is there: a live instance, or a dead one's socket.
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		alive := ping(ctx, path)
		cancel()
		if alive {
			return nil, ErrRunning
		}
		if rmErr := os.Remove(path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			return nil, fmt.Errorf("instance: removing a stale channel: %w", rmErr)
		}
		// Another start may have taken it meanwhile: try again.
	}
	// The listen error says why (no AF_UNIX, as under Wine; a path too
	// long; no permission).
	return nil, fmt.Errorf("instance: cannot take the channel %s: %w", path, err)
}

// ping reports whether an instance answers on path.
func ping(ctx context.Context, path string) bool {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

func (s *Server) serve(handle Handler) {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // closed
		}
		s.handle(c, handle)
	}
}

// handle answers one connection. A connection that sends nothing (a
// ping) is just closed.
func (s *Server) handle(c net.Conn, handle Handler) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	line, err := bufio.NewReader(io.LimitReader(c, maxRequest+1)).ReadBytes('\n')
	if len(line) == 0 {
		return
	}
	var rep reply
	var req Request
	switch {
	case len(line) > maxRequest:
		rep.Error = "request too long"
	case err != nil && !errors.Is(err, io.EOF):
		rep.Error = "request not read"
	default:
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			rep.Error = "malformed request"
		} else if err := handle(req); err != nil {
			rep.Error = err.Error()
		} else {
			rep.OK = true
		}
	}
	if rep.Error != "" {
		s.log.Info("instance: request from a second start refused", "reason", rep.Error)
	}
	b, _ := json.Marshal(rep)
	_, _ = c.Write(append(b, '\n'))
}

// Close stops listening and removes the channel.
func (s *Server) Close() {
	_ = s.ln.Close() // a Unix listener removes its socket file on Close
	s.wg.Wait()
}

// Path is the channel's socket.
func (s *Server) Path() string { return s.path }

// Send hands req to the running instance of profile name and returns its
// answer: nil when it took the request, ErrNotRunning when none answers,
// or the error it gave.
func Send(ctx context.Context, dir, name string, req Request) error {
	ctx, cancel := context.WithTimeout(ctx, ioTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", socketPath(dir, name))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotRunning, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("instance: %w", err)
	}
	if len(b) > maxRequest {
		return fmt.Errorf("instance: request of %d bytes is over %d", len(b), maxRequest)
	}
	if _, err := c.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("instance: sending: %w", err)
	}
	var rep reply
	if err := json.NewDecoder(io.LimitReader(c, maxRequest)).Decode(&rep); err != nil {
		return fmt.Errorf("instance: no answer from the running phone: %w", err)
	}
	if !rep.OK {
		return fmt.Errorf("the running phone refused: %s", rep.Error)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/onecxi/phone/callcore/wire"
)

// leg is one call WebSocket of the load client. It does not use wire.Conn's
// writer goroutine: the client's sender goroutines write frames directly, so
// the harness spends its CPU on the sockets, not on hand-offs, and leaves
// more of the machine to the server it measures. Writes are serialised by an
// (uncontended) mutex: set-up, streaming and hang-up never overlap.
type leg struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	fail atomic.Uint64 // failed audio writes
}

func (l *leg) write(kind int, b []byte) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	_ = l.ws.SetWriteDeadline(time.Now().Add(wire.WriteWait))
	return l.ws.WriteMessage(kind, b)
}

func (l *leg) send(m wire.Message) error {
	b, err := wire.Encode(m)
	if err != nil {
		return err
	}
	return l.write(websocket.TextMessage, b)
}

func (l *leg) sendAudio(b []byte) {
	if l.write(websocket.BinaryMessage, b) != nil {
		l.fail.Add(1)
	}
}

// read delivers messages until the socket closes. Audio is read into one
// buffer per leg (onAudio must not keep it), so receiving makes no garbage.
func (l *leg) read(onMessage func(wire.Message), onAudio func([]byte)) {
	l.ws.SetReadLimit(wire.MaxMessage)
	buf := make([]byte, wire.MaxMessage)
	for {
		kind, r, err := l.ws.NextReader()
		if err != nil {
			return
		}
		switch kind {
		case websocket.TextMessage:
			b, err := io.ReadAll(r)
			if err != nil {
				return
			}
			if m, err := wire.Decode(b); err == nil {
				onMessage(m)
			}
		case websocket.BinaryMessage:
			n, err := io.ReadFull(r, buf)
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				return
			}
			if wire.CheckAudio(buf[:n]) == nil {
				onAudio(buf[:n])
			}
		}
	}
}

// loadCall is one app-to-app call: caller A rings callee B through B's
// events connection, B answers, and both then stream timestamped frames.
type loadCall struct {
	a, b   *leg
	events *wire.Conn
	ab, ba stream // A→B and B→A
	setup  time.Duration
}

// numbers gives call i its two registered numbers, distinct across calls.
func numbers(i int) (caller, callee string) {
	return strconv.Itoa(7000000 + 2*i), strconv.Itoa(7000000 + 2*i + 1)
}

// placeCall sets up call i and returns once both legs are answered.
func placeCall(ctx context.Context, t target, i int, delays *histogram, measuring func() bool) (*loadCall, error) {
	caller, callee := numbers(i)
	c := &loadCall{}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	// B: events connection; answer the first incoming call.
	ews, err := t.dial(ctx, wire.PathEvents, url.Values{wire.QueryRegisteredNumber: {callee}})
	if err != nil {
		return nil, fmt.Errorf("callee events: %w", err)
	}
	c.events = wire.NewConn(ews, nil)
	hello := make(chan struct{}, 1)
	incoming := make(chan string, 1)
	go func() {
		_ = c.events.Run(context.Background(), wire.Handlers{OnMessage: func(m wire.Message) {
			switch {
			case m.Type == wire.TypeHello:
				hello <- struct{}{}
			case m.Type == wire.TypeIncoming && m.Push.Event != wire.EventEnd:
				select {
				case incoming <- m.Push.CallID:
				default:
				}
			}
		}})
	}()
	select {
	case <-hello:
	case <-ctx.Done():
		return nil, fmt.Errorf("callee events: no hello: %w", ctx.Err())
	}

	record := func(s *stream) func([]byte) {
		return func(raw []byte) {
			d := s.receive(raw)
			if measuring() {
				delays.record(d)
			}
		}
	}
	answered := func(l **leg, s *stream, name string, start wire.Message) (chan error, error) {
		ws, err := t.dial(ctx, wire.PathCall, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		*l = &leg{ws: ws}
		res := make(chan error, 2)
		go func() {
			(*l).read(func(m wire.Message) {
				switch m.Type {
				case wire.TypeAnswered:
					res <- nil
				case wire.TypeError:
					res <- fmt.Errorf("%s: server error %s: %s", name, m.Code, m.Message)
				case wire.TypeEnd:
					res <- fmt.Errorf("%s: ended: %s", name, m.Reason)
				}
			}, record(s))
			select {
			case res <- errors.New(name + ": connection closed"):
			default:
			}
		}()
		return res, (*l).send(start)
	}

	began := time.Now()
	aRes, err := answered(&c.a, &c.ba, "caller", wire.Message{Type: wire.TypeStart, Kind: wire.KindAppToApp, To: callee, RegisteredNumber: caller})
	if err != nil {
		return c, err
	}
	var callID string
	select {
	case callID = <-incoming:
	case err := <-aRes:
		return c, fmt.Errorf("before ringing: %w", err)
	case <-ctx.Done():
		return c, fmt.Errorf("callee never rang: %w", ctx.Err())
	}
	bRes, err := answered(&c.b, &c.ab, "callee", wire.Message{Type: wire.TypeStart, Kind: wire.KindAppToAppAnswer,
		To: caller, RegisteredNumber: callee, CallID: callID})
	if err != nil {
		return c, err
	}
	for _, res := range []chan error{aRes, bRes} {
		select {
		case err := <-res:
			if err != nil {
				return c, err
			}
		case <-ctx.Done():
			return c, fmt.Errorf("not answered: %w", ctx.Err())
		}
	}
	c.setup = time.Since(began)
	return c, nil
}

// tick sends one frame each way.
func (c *loadCall) tick() {
	c.a.sendAudio(c.ab.frame())
	c.b.sendAudio(c.ba.frame())
}

func (c *loadCall) hangup() {
	for _, l := range []*leg{c.a, c.b} {
		if l != nil {
			_ = l.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
			_ = l.ws.Close()
		}
	}
	if c.events != nil {
		c.events.Close(wire.CloseNormal, "load test over")
	}
}

// clientDropped counts frames the client failed to write.
func (c *loadCall) clientDropped() uint64 {
	var n uint64
	for _, l := range []*leg{c.a, c.b} {
		if l != nil {
			n += l.fail.Load()
		}
	}
	return n
}

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

	"github.com/onecxi/phone/wire"
)

// leg is one call WebSocket of the load client, set up with
// gorilla/websocket. For streaming (-stream poll) its socket is then
// detached (raw != nil) and served by a poll loop (pollloop_linux.go), so the
// harness takes as little as possible of the cores it shares with the server
// it measures. Otherwise (-stream goroutines) the client's sender goroutines
// write frames directly, without wire.Conn's writer goroutine, and a reader
// goroutine per leg receives them. Gorilla writes are serialised by an
// (uncontended) mutex: set-up, streaming and hang-up never overlap.
type leg struct {
	ws   *websocket.Conn
	raw  *rawSock
	wmu  sync.Mutex
	fail atomic.Uint64 // failed audio writes
	// deadline is when the write deadline was last moved: once a second
	// is as safe as per frame and spares a timer update per frame.
	deadline time.Time
}

func (l *leg) write(kind int, b []byte) error {
	if l.raw != nil {
		return l.raw.write(kind, b)
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if now := time.Now(); now.Sub(l.deadline) >= time.Second {
		_ = l.ws.SetWriteDeadline(now.Add(wire.WriteWait))
		l.deadline = now
	}
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

// read delivers messages until the socket closes or onMessage returns true
// (the poll loop takes the socket over after "answered"). Audio is read into
// one buffer per leg (onAudio must not keep it), so receiving makes no garbage.
func (l *leg) read(onMessage func(wire.Message) (stop bool), onAudio func([]byte)) {
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
			if m, err := wire.Decode(b); err == nil && onMessage(m) {
				return
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

// recorder turns received frames into relay delays while measuring is on.
type recorder struct {
	delays    histogram
	measuring atomic.Bool
}

func (r *recorder) receive(s *stream, raw []byte) {
	d := s.receive(raw)
	if r.measuring.Load() {
		r.delays.record(d)
	}
}

// placeCall sets up call i and returns once both legs are answered: the
// caller's leg on caller, the callee's events connection and answering leg
// on callee (the same server, or two nodes of a cluster). With
// handoff, each leg's reader stops at "answered" so that the poll loop can
// take the socket over; otherwise it goes on receiving the call's audio.
func placeCall(ctx context.Context, caller, callee target, i int, rec *recorder, handoff bool) (*loadCall, error) {
	from, to := numbers(i)
	c := &loadCall{}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	// B: events connection; answer the first incoming call.
	ews, err := callee.dial(ctx, wire.PathEvents, url.Values{wire.QueryRegisteredNumber: {to}})
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

	answered := func(t target, l **leg, s *stream, name string, start wire.Message) (chan error, error) {
		ws, err := t.dial(ctx, wire.PathCall, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		*l = &leg{ws: ws}
		res := make(chan error, 2)
		go func() {
			stopped := false
			(*l).read(func(m wire.Message) bool {
				switch m.Type {
				case wire.TypeAnswered:
					res <- nil
					stopped = handoff
					return handoff
				case wire.TypeError:
					res <- fmt.Errorf("%s: server error %s: %s", name, m.Code, m.Message)
				case wire.TypeEnd:
					res <- fmt.Errorf("%s: ended: %s", name, m.Reason)
				}
				return false
			}, func(raw []byte) { rec.receive(s, raw) })
			if stopped {
				return
			}
			select {
			case res <- errors.New(name + ": connection closed"):
			default:
			}
		}()
		return res, (*l).send(start)
	}

	began := time.Now()
	aRes, err := answered(caller, &c.a, &c.ba, "caller", wire.Message{Type: wire.TypeStart, Kind: wire.KindAppToApp, To: to, RegisteredNumber: from})
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
	bRes, err := answered(callee, &c.b, &c.ab, "callee", wire.Message{Type: wire.TypeStart, Kind: wire.KindAppToAppAnswer,
		To: from, RegisteredNumber: to, CallID: callID})
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
		if l == nil {
			continue
		}
		_ = l.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
		if l.raw != nil {
			l.raw.close()
		} else {
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

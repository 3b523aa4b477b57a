package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/onecxi/phone/callcore/wire"
)

// loadCall is one app-to-app call: caller A rings callee B through B's
// events connection, B answers, and both then stream timestamped frames.
type loadCall struct {
	a, b, events *wire.Conn
	ab, ba       stream // A→B and B→A
	setup        time.Duration
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
	answered := func(conn **wire.Conn, s *stream, leg string, start wire.Message) (chan error, error) {
		ws, err := t.dial(ctx, wire.PathCall, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", leg, err)
		}
		*conn = wire.NewConn(ws, nil)
		res := make(chan error, 1)
		go func() {
			_ = (*conn).Run(context.Background(), wire.Handlers{
				OnMessage: func(m wire.Message) {
					switch m.Type {
					case wire.TypeAnswered:
						res <- nil
					case wire.TypeError:
						res <- fmt.Errorf("%s: server error %s: %s", leg, m.Code, m.Message)
					case wire.TypeEnd:
						res <- fmt.Errorf("%s: ended: %s", leg, m.Reason)
					}
				},
				OnAudio: record(s),
			})
			res <- errors.New(leg + ": connection closed")
		}()
		return res, (*conn).Send(start)
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
	c.a.SendAudioRaw(c.ab.frame())
	c.b.SendAudioRaw(c.ba.frame())
}

func (c *loadCall) hangup() {
	for _, conn := range []*wire.Conn{c.a, c.b} {
		if conn != nil {
			_ = conn.Send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
		}
	}
	for _, conn := range []*wire.Conn{c.a, c.b, c.events} {
		if conn != nil {
			conn.Close(wire.CloseNormal, "load test over")
		}
	}
}

func (c *loadCall) clientDropped() uint64 {
	var n uint64
	for _, conn := range []*wire.Conn{c.a, c.b} {
		if conn != nil {
			n += conn.Stats().AudioDropped
		}
	}
	return n
}

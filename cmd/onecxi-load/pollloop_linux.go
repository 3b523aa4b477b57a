//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sys/unix"

	"github.com/onecxi/phone/wire"
)

// canDetach: plain-TCP legs stream on poll loops rather than through
// gorilla/websocket.
const canDetach = true

// pollLoop streams a share of the calls on detached sockets. Every
// millisecond it writes the frames due in that slot, then reads every leg
// that epoll reports readable, without blocking. Polling at a fixed pace
// costs one wake-up a millisecond however many frames arrive; a thread
// blocked in epoll_wait (or Go's poller) would be woken for nearly every
// frame, and those wake-ups are most of what a receiving client costs.
// A frame is timestamped when it is read, so the up to one millisecond it
// may wait for the next poll counts in its measured delay.
type pollLoop struct {
	ep    int
	calls []*loadCall // slot j%20 of the 20 ms frame period for calls[j]
	legs  []polledLeg // indexed by the epoll event's data
	bad   *atomic.Uint64
}

type polledLeg struct {
	sock *rawSock
	in   *stream // the direction this leg receives
}

// streamDetached detaches every call's legs and streams them on one poll
// loop per usable core until ctx ends. bad counts legs that failed and
// messages no streaming client should get.
func streamDetached(ctx context.Context, calls []*loadCall, loops int, rec *recorder, bad *atomic.Uint64) (wait func(), err error) {
	ps := make([]*pollLoop, 0, loops)
	defer func() {
		if err != nil {
			for _, p := range ps {
				_ = unix.Close(p.ep)
			}
		}
	}()
	for range loops {
		ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return nil, fmt.Errorf("epoll: %w", err)
		}
		ps = append(ps, &pollLoop{ep: ep, bad: bad})
	}
	for i, c := range calls {
		p := ps[i%loops]
		for _, l := range []struct {
			leg *leg
			in  *stream
		}{{c.a, &c.ba}, {c.b, &c.ab}} {
			s, err := detach(l.leg.ws)
			if err != nil {
				return nil, fmt.Errorf("call %d: %w", i, err)
			}
			l.leg.raw = s
			ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(len(p.legs))}
			if err := unix.EpollCtl(p.ep, unix.EPOLL_CTL_ADD, s.fd, &ev); err != nil {
				return nil, fmt.Errorf("call %d: epoll_ctl: %w", i, err)
			}
			p.legs = append(p.legs, polledLeg{sock: s, in: l.in})
		}
		p.calls = append(p.calls, c)
	}
	done := make(chan struct{}, loops)
	for _, p := range ps {
		go func() {
			defer func() { done <- struct{}{} }()
			defer unix.Close(p.ep)
			p.run(ctx, rec)
		}()
	}
	return func() {
		for range loops {
			<-done
		}
	}, nil
}

func (p *pollLoop) run(ctx context.Context, rec *recorder) {
	events := make([]unix.EpollEvent, 256)
	start, next := time.Now(), 0
	for ctx.Err() == nil {
		// A late wake-up catches up on the slots it missed, so every call
		// keeps its 50 frames a second.
		for now := int(time.Since(start) / time.Millisecond); next <= now; next++ {
			for j := next % 20; j < len(p.calls); j += 20 {
				p.calls[j].tick()
			}
		}
		for {
			n, err := unix.EpollWait(p.ep, events, 0)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				p.bad.Add(1)
				return
			}
			for _, ev := range events[:n] {
				p.service(&p.legs[ev.Fd], rec)
			}
			if n < len(events) {
				break
			}
		}
		time.Sleep(time.Until(start.Add(time.Duration(next) * time.Millisecond)))
	}
	p.drain(events, rec)
}

// drain reads on once sending has stopped, so that the frames still in
// flight arrive rather than count as lost: until nothing has come for
// settleQuiet, at most settleMax.
func (p *pollLoop) drain(events []unix.EpollEvent, rec *recorder) {
	stop := time.Now()
	for last, now := stop, stop; now.Sub(last) < settleQuiet && now.Sub(stop) < settleMax; now = time.Now() {
		n, err := unix.EpollWait(p.ep, events, int(settlePoll/time.Millisecond))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			p.bad.Add(1)
			return
		}
		if n > 0 {
			last = time.Now()
		}
		for _, ev := range events[:n] {
			p.service(&p.legs[ev.Fd], rec)
		}
	}
}

// service reads one readable leg. Audio is measured; pings are answered;
// anything else (the server ending the call, an error, a broken frame)
// counts as bad and a closed leg leaves the poll set.
func (p *pollLoop) service(l *polledLeg, rec *recorder) {
	err := l.sock.readable(func(op byte, payload []byte) {
		switch op {
		case opBinary:
			if wire.CheckAudio(payload) != nil {
				p.bad.Add(1)
				return
			}
			rec.receive(l.in, payload)
		case opPing:
			if l.sock.write(websocket.PongMessage, payload) != nil {
				p.bad.Add(1)
			}
		case opPong:
		default: // text (end, error) or close
			p.bad.Add(1)
		}
	})
	if err != nil {
		p.bad.Add(1)
		_ = unix.EpollCtl(p.ep, unix.EPOLL_CTL_DEL, l.sock.fd, nil)
		l.sock.close()
	}
}

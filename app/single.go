package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"fyne.io/fyne/v2"

	"github.com/onecxi/phone/app/dialuri"
	"github.com/onecxi/phone/app/instance"
)

// single is this process's claim to be the running phone of its profile
// (app/instance), or nil when it runs without one.
type single struct {
	srv   *instance.Server
	phone atomic.Pointer[Phone] // set once started; requests before that are refused
}

// claimInstance makes this process the running phone of cfg's profile, or
// hands cfg's request (its link, or just "come to the front") to the one
// already running and reports handed true: the caller then exits with
// code. Without a private directory for the channel the phone runs on its
// own and says so.
func claimInstance(cfg Config, log *slog.Logger, stdout io.Writer) (s *single, handed bool, code int) {
	dir, err := instance.Dir()
	if err != nil {
		log.Warn("not checking for a running phone", "err", err)
		return nil, false, 0
	}
	name := profileName(cfg)
	s = &single{}
	for range 2 {
		err := instance.Send(context.Background(), dir, name, instance.Request{Link: cfg.Link})
		switch {
		case err == nil:
			fmt.Fprintln(stdout, "onecxi-phone: handed to the phone already running")
			return nil, true, 0
		case !errors.Is(err, instance.ErrNotRunning):
			fmt.Fprintln(stdout, "onecxi-phone:", err)
			return nil, true, 1
		}
		s.srv, err = instance.Acquire(dir, name, s.handle, log)
		if err == nil {
			return s, false, 0
		}
		if !errors.Is(err, instance.ErrRunning) {
			log.Warn("not checking for a running phone", "err", err)
			return nil, false, 0
		}
		// Another start won the race: hand over to it.
	}
	log.Warn("not checking for a running phone: the channel keeps changing hands")
	return nil, false, 0
}

// handle acts on a second start's request, on the channel's goroutine.
func (s *single) handle(req instance.Request) error {
	p := s.phone.Load()
	if p == nil {
		return errors.New("the phone is still starting; try again")
	}
	if req.Link == "" {
		fyne.Do(p.UI.onShowWindow)
		return nil
	}
	if _, err := dialuri.Parse(req.Link); err != nil {
		fyne.Do(func() { _ = p.UI.OpenLink(req.Link, nil) }) // the phone shows why too
		return err
	}
	p.openLinkLater(req.Link)
	return nil
}

// started lets requests through to p.
func (s *single) started(p *Phone) {
	if s != nil {
		s.phone.Store(p)
	}
}

// close gives the channel up.
func (s *single) close() {
	if s != nil && s.srv != nil {
		s.srv.Close()
	}
}

package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/platform"
)

// printer prints SDK events as they arrive and tells run when the call
// starts and ends.
type printer struct {
	out      io.Writer
	began    time.Time
	mu       sync.Mutex
	started  chan struct{}
	ended    chan struct{}
	failure  error
	declined bool
}

func newPrinter(out io.Writer) *printer {
	return &printer{out: out, began: time.Now(), started: make(chan struct{}), ended: make(chan struct{})}
}

func (p *printer) say(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, "%8.3fs  %s\n", time.Since(p.began).Seconds(), fmt.Sprintf(format, args...))
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func (p *printer) OnCallStatusChanged(s callcore.CallStatus) { p.say("status     %s", s) }
func (p *printer) OnCallStarted(t callcore.CallType, did, reg string) {
	p.say("started    %s call to %s as %s", t, did, reg)
	closeOnce(p.started)
}
func (p *printer) OnCallEnded(t callcore.CallType, did string) {
	p.say("ended      %s call with %s", t, did)
	closeOnce(p.ended)
}
func (p *printer) OnCallError(err error, t callcore.CallType) {
	p.say("error      %v", err)
	p.mu.Lock()
	p.failure = err
	p.mu.Unlock()
}
func (p *printer) OnWebSocketStatusChanged(up bool) { p.say("websocket  connected=%v", up) }
func (p *printer) OnCallDeclined(t callcore.CallType, from string) {
	p.say("declined   by %s", from)
	p.mu.Lock()
	p.declined = true
	p.mu.Unlock()
}

func run(ctx context.Context, o options, out io.Writer) error {
	p := newPrinter(out)
	plat := platform.NewHeadless(platform.WithAutoAnswer(func(c platform.IncomingCall) platform.Action {
		p.say("incoming   %s call from %s (%s)", c.CallType, c.Handle, c.CallerName)
		if o.decline {
			p.say("declining")
			return platform.ActionDecline
		}
		p.say("answering")
		return platform.ActionAccept
	}))
	var dev *audio.FileDevice
	sdk := callcore.New(
		callcore.WithPlatform(plat),
		callcore.WithStore(callcore.NewMemoryStore()),
		callcore.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		callcore.WithTLSConfig(&tls.Config{InsecureSkipVerify: o.insecure}), //nolint:gosec // opt-in flag
		callcore.WithAudioDevice(func() (audio.Device, error) {
			d, err := audio.NewFileDevice(o.in, o.out)
			dev = d
			return d, err
		}),
	)
	defer sdk.Dispose()
	sdk.SetCallProgressCallback(p)

	if err := sdk.Initialize(ctx, o.account, o.apiKey, o.server); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	p.say("signed in  account %s on %s", o.account, o.server)

	var err error
	switch o.cmd {
	case cmdInbound:
		err = sdk.StartInBoundCall(ctx, o.target, o.number)
	case cmdOutbound:
		err = sdk.StartOutBoundCall(ctx, o.target, o.number)
	case cmdApp:
		err = sdk.StartAppToAppInboundCall(ctx, o.target, o.number)
	case cmdListen:
		if err := sdk.ListenForIncomingCalls(ctx, o.number); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		p.say("listening  for calls to %s (Ctrl-C to stop)", o.number)
	}
	if err != nil {
		return fmt.Errorf("call: %w", err)
	}

	select {
	case <-p.started:
	case <-p.ended:
		return p.outcome()
	case <-ctx.Done():
		return hangup(sdk, p)
	}
	if o.dtmf != "" {
		go sendDigits(ctx, sdk, p, o.dtmf, o.dtmfDelay)
	}
	var limit <-chan time.Time
	if o.duration > 0 {
		limit = time.After(o.duration)
	}
	var inputDone <-chan struct{}
	if dev != nil {
		inputDone = dev.Done()
	}
	select {
	case <-p.ended:
		return p.outcome()
	case <-limit:
	case <-inputDone:
		p.say("input      finished")
	case <-ctx.Done():
	}
	return hangup(sdk, p)
}

func sendDigits(ctx context.Context, sdk *callcore.SDK, p *printer, digits string, delay time.Duration) {
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return
	}
	for _, d := range digits {
		if err := sdk.SendDTMF(string(d)); err != nil {
			p.say("dtmf       %c failed: %v", d, err)
			return
		}
		p.say("dtmf       %c", d)
		select {
		case <-time.After(400 * time.Millisecond):
		case <-ctx.Done():
			return
		}
	}
}

func hangup(sdk *callcore.SDK, p *printer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sdk.EndCall(ctx); err != nil && !errors.Is(err, callcore.ErrNoCallInProgress) {
		return fmt.Errorf("hang up: %w", err)
	}
	select {
	case <-p.ended:
	case <-ctx.Done():
	}
	st := sdk.CallStats()
	p.say("stats      %+v", st)
	return p.outcome()
}

func (p *printer) outcome() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failure != nil {
		return p.failure
	}
	if p.declined {
		return errors.New("the call was declined")
	}
	return nil
}

package server

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/wire"
)

// Push delivery limits and pacing.
const (
	pushQueue      = 128              // jobs waiting per worker; beyond it pushes are dropped (and counted)
	pushWorkers    = 8                // concurrent provider requests
	pushEndMemory  = time.Minute      // how long an "end" cancels a late retry of its "initial"
	pushTimeout    = 10 * time.Second // one provider request
	pushAttempts   = 4                // first try plus retries on 429/5xx
	pushBackoff    = 500 * time.Millisecond
	pushMaxBackoff = 8 * time.Second
	apnsMaxPayload = 5120 // bytes, VoIP pushes (Apple's limit)
	fcmMaxPayload  = 4096 // bytes of data, FCM's limit for data messages
)

// pushResult classifies a provider's answer the way the provider defines it.
type pushResult int

const (
	pushSent     pushResult = iota
	pushDead                // the token is gone for good (APNs 410/BadDeviceToken, FCM UNREGISTERED): forget it
	pushRetry               // 429 or 5xx: try again later
	pushRejected            // anything else: log it, do not retry
)

// pushTransport sends one payload to one token of its kind.
type pushTransport interface {
	kind() string // TokenVoIP or TokenFCM
	// send delivers p. retryAfter is the provider's hint for pushRetry (0:
	// none); err describes anything but pushSent, without the token.
	send(ctx context.Context, token string, p wire.PushPayload) (res pushResult, retryAfter time.Duration, err error)
}

// pushJob is one payload for one device.
type pushJob struct {
	dev     Device
	p       wire.PushPayload
	attempt int
}

// PushStats are the push deliverer's counters.
type PushStats struct {
	Sent, Retried, Rejected, Pruned, Dropped uint64
}

// pusher delivers pushes from bounded queues on a few worker goroutines, so
// the registry goroutine only ever enqueues. A device's pushes always go
// through the same worker (chosen by its token), so they arrive in the order
// sent: a phone never gets a call's "end" before its "initial". A retry is
// the one exception, so an "end" also cancels any retry of its call's
// "initial" still to come.
type pusher struct {
	log        *slog.Logger
	store      DeviceStore
	transports map[string]pushTransport // by token kind
	jobs       []chan pushJob           // one per worker

	endMu  sync.Mutex
	ended  map[string]time.Time // token+callId of "end"s sent, for pushEndMemory
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	sent, retried, rejected, pruned, dropped atomic.Uint64
}

func newPusher(log *slog.Logger, store DeviceStore, ts ...pushTransport) *pusher {
	ctx, cancel := context.WithCancel(context.Background())
	p := &pusher{log: log, store: store, transports: map[string]pushTransport{},
		ended: map[string]time.Time{}, ctx: ctx, cancel: cancel}
	for _, t := range ts {
		p.transports[t.kind()] = t
	}
	for range pushWorkers {
		jobs := make(chan pushJob, pushQueue)
		p.jobs = append(p.jobs, jobs)
		p.wg.Add(1)
		go p.work(jobs)
	}
	return p
}

// targets are the devices among devs that this pusher can reach.
func (p *pusher) targets(devs []Device) []Device {
	if p == nil {
		return nil
	}
	var out []Device
	for _, d := range devs {
		if kind, _ := pushToken(d); p.transports[kind] != nil {
			out = append(out, d)
		}
	}
	return out
}

// pushToken is the token a device is pushed with, and its kind.
func pushToken(d Device) (kind, token string) {
	switch {
	case d.VoIPToken != "":
		return TokenVoIP, d.VoIPToken
	case d.FCMToken != "":
		return TokenFCM, d.FCMToken
	}
	return "", ""
}

// send queues payload for every device in devs (which came from targets).
// It never blocks: with the queue full a push is dropped and counted.
func (p *pusher) send(devs []Device, payload wire.PushPayload) {
	if p == nil {
		return
	}
	for _, d := range devs {
		if payload.Event == wire.EventEnd {
			p.markEnded(d, payload.CallID)
		}
		p.enqueue(pushJob{dev: d, p: payload})
	}
}

func endKey(d Device, callID string) string {
	_, tok := pushToken(d)
	return tok + "\x00" + callID
}

// markEnded records that callID's "end" went to d, forgetting old records.
func (p *pusher) markEnded(d Device, callID string) {
	now := time.Now()
	p.endMu.Lock()
	defer p.endMu.Unlock()
	for k, t := range p.ended {
		if now.Sub(t) > pushEndMemory {
			delete(p.ended, k)
		}
	}
	p.ended[endKey(d, callID)] = now
}

// superseded reports whether j is an "initial" whose "end" has been sent.
func (p *pusher) superseded(j pushJob) bool {
	if j.p.Event == wire.EventEnd {
		return false
	}
	p.endMu.Lock()
	defer p.endMu.Unlock()
	_, ok := p.ended[endKey(j.dev, j.p.CallID)]
	return ok
}

func (p *pusher) enqueue(j pushJob) {
	if p.ctx.Err() != nil {
		return
	}
	_, tok := pushToken(j.dev)
	h := fnv.New32a()
	_, _ = h.Write([]byte(tok))
	select {
	case p.jobs[h.Sum32()%uint32(len(p.jobs))] <- j:
	default:
		p.dropped.Add(1)
		p.log.Warn("push queue full; push dropped", "account", j.dev.Account, "device", j.dev.DeviceID, "event", j.p.Event)
	}
}

func (p *pusher) work(jobs <-chan pushJob) {
	defer p.wg.Done()
	for {
		select {
		case <-p.ctx.Done():
			return
		case j := <-jobs:
			if p.superseded(j) && j.attempt > 0 {
				continue // the call ended before this retry: do not ring
			}
			p.deliver(j)
		}
	}
}

// deliver makes one attempt and decides what follows: done, forget the
// token, or a retry after backoff (scheduled, so the worker moves on).
func (p *pusher) deliver(j pushJob) {
	kind, token := pushToken(j.dev)
	if p.transports[kind] == nil {
		return
	}
	log := p.log.With("account", j.dev.Account, "device", j.dev.DeviceID, "kind", kind,
		"token", wire.Redact(token), "callId", j.p.CallID, "event", j.p.Event)
	ctx, cancel := context.WithTimeout(p.ctx, pushTimeout)
	res, after, err := p.attempt(ctx, j.dev, j.p)
	cancel()
	switch res {
	case pushSent:
		p.sent.Add(1)
		log.Debug("push sent", "attempt", j.attempt+1)
	case pushDead:
		log.Info("push token is no longer valid; device removed", "reason", err)
	case pushRetry:
		if j.attempt+1 >= pushAttempts || p.ctx.Err() != nil {
			p.rejected.Add(1)
			log.Warn("push failed; giving up", "attempts", j.attempt+1, "err", err)
			return
		}
		p.retried.Add(1)
		wait := max(after, min(pushBackoff<<j.attempt, pushMaxBackoff))
		log.Info("push deferred by the provider; retrying", "attempt", j.attempt+1, "in", wait, "err", err)
		j.attempt++
		time.AfterFunc(wait, func() { p.enqueue(j) })
	default:
		p.rejected.Add(1)
		log.Warn("push rejected", "err", err)
	}
}

// attempt sends payload once to d (whose provider is configured), stamped
// with d's platform, and forgets d's token if the provider says it is dead.
func (p *pusher) attempt(ctx context.Context, d Device, payload wire.PushPayload) (pushResult, time.Duration, error) {
	kind, token := pushToken(d)
	payload.Platform = d.Platform
	res, after, err := p.transports[kind].send(ctx, token, payload)
	if res == pushDead {
		n, derr := p.store.DropToken(context.WithoutCancel(ctx), d.Account, kind, token)
		p.pruned.Add(uint64(n))
		if derr != nil {
			err = fmt.Errorf("%w (and removing the token failed: %v)", err, derr)
		}
	}
	return res, after, err
}

// stats returns the counters.
func (p *pusher) stats() PushStats {
	if p == nil {
		return PushStats{}
	}
	return PushStats{Sent: p.sent.Load(), Retried: p.retried.Load(), Rejected: p.rejected.Load(),
		Pruned: p.pruned.Load(), Dropped: p.dropped.Load()}
}

// stop ends the workers, bounded by ctx; queued pushes are abandoned.
func (p *pusher) stop(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.cancel()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("push workers did not stop in time")
	}
}

// startPush builds the configured providers' transports and the pusher.
func (s *Server) startPush(hc *http.Client) error {
	var ts []pushTransport
	if c := s.cfg.Push.APNs; c != nil {
		t, err := newAPNs(*c, hc)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		ts = append(ts, t)
	}
	if c := s.cfg.Push.FCM; c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		t, err := newFCM(ctx, *c, hc)
		cancel()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		ts = append(ts, t)
	}
	if len(ts) > 0 {
		s.push = newPusher(s.log, s.devices, ts...)
	}
	return nil
}

// pushTargetsFor returns the devices a start message would ring by push:
// the callee's devices (app_to_app, or a DID routed to an app user) whose
// provider is configured. It reads the device store, so it runs on the
// leg's goroutine; a store failure rings the events connections only.
func (s *Server) pushTargetsFor(acct *account, m wire.Message) []Device {
	if s.push == nil || m.Type != wire.TypeStart {
		return nil
	}
	var callee string
	switch m.Kind {
	case wire.KindAppToApp:
		callee = m.To
	case wire.KindInbound:
		if rt, ok := acct.dids[m.To]; ok && rt.kind == routeApp {
			callee = rt.number
		}
	}
	if callee == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(s.base, 2*time.Second)
	defer cancel()
	devs, err := s.devices.ByNumber(ctx, acct.name, callee)
	if err != nil {
		s.log.Error("device registry lookup failed; ringing online devices only", "account", acct.name, "err", err)
		return nil
	}
	return s.push.targets(devs)
}

// PushReport is what happened to one device in TestPush.
type PushReport struct {
	DeviceID, Platform string
	Token              string // redacted
	Result             string // "sent", "token removed", "provider busy" or "rejected"
	Err                string // the provider's words, if not sent
}

// ErrNoPush is returned by TestPush when no push provider is configured.
var ErrNoPush = errors.New("no push provider is configured (push.apns or push.fcm)")

// TestPush sends a test call push to every push-capable device of number,
// synchronously, and reports each outcome; after ring it sends the matching
// "end" so the phones stop ringing. Dead tokens are removed as in a real
// call. It is the support tool behind `onecxi-server test-push`.
func (s *Server) TestPush(ctx context.Context, account, number string, ring time.Duration) ([]PushReport, error) {
	if s.push == nil {
		return nil, ErrNoPush
	}
	if !wire.ValidNumber(number) {
		return nil, fmt.Errorf("%q is not a registered number", number)
	}
	devs, err := s.devices.ByNumber(ctx, account, number)
	if err != nil {
		return nil, err
	}
	targets := s.push.targets(devs)
	p := wire.PushPayload{CallFrom: "0", CallTo: number, CallType: wire.PushAppToApp, RegisteredNumber: number,
		CallerName: "OneCxi test push", CallID: "test_" + newCallID(), Environment: s.cfg.Environment,
		Timestamp: time.Now().UnixMilli(), Event: wire.EventInitial}
	reports := make([]PushReport, 0, len(targets))
	var sent []Device
	for _, d := range targets {
		_, tok := pushToken(d)
		r := PushReport{DeviceID: d.DeviceID, Platform: d.Platform, Token: wire.Redact(tok)}
		res, _, err := s.push.attempt(ctx, d, p)
		switch res {
		case pushSent:
			r.Result = "sent"
			sent = append(sent, d)
		case pushDead:
			r.Result = "token removed"
		case pushRetry:
			r.Result = "provider busy"
		default:
			r.Result = "rejected"
		}
		if err != nil {
			r.Err = err.Error()
		}
		reports = append(reports, r)
	}
	if len(sent) > 0 {
		select {
		case <-time.After(ring):
		case <-ctx.Done():
		}
		p.Event, p.Timestamp = wire.EventEnd, time.Now().UnixMilli()
		for _, d := range sent {
			_, _, _ = s.push.attempt(context.WithoutCancel(ctx), d, p)
		}
	}
	return reports, nil
}

package push

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/wire"
)

// Push delivery limits and pacing.
const (
	queueLen   = 128              // jobs waiting per worker; beyond it pushes are dropped (and counted)
	workers    = 8                // concurrent provider requests
	endMemory  = time.Minute      // how long an "end" cancels a late retry of its "initial"
	Timeout    = 10 * time.Second // one provider request
	attempts   = 4                // first try plus retries on 429/5xx
	backoff    = 500 * time.Millisecond
	maxBackoff = 8 * time.Second
)

// Result classifies a provider's answer the way the provider defines it.
type Result int

const (
	Sent     Result = iota
	Dead            // the token is gone for good (APNs 410/BadDeviceToken, FCM UNREGISTERED): forget it
	Retry           // 429 or 5xx: try again later
	Rejected        // anything else: log it, do not retry
)

// Transport sends one payload to one token of its kind: APNs (package
// push/apns) or FCM (package push/fcm).
type Transport interface {
	Kind() string // devices.TokenVoIP or devices.TokenFCM
	// Send delivers p. retryAfter is the provider's hint for Retry (0:
	// none); err describes anything but Sent, without the token.
	Send(ctx context.Context, token string, p wire.PushPayload) (res Result, retryAfter time.Duration, err error)
}

// TokenDropper forgets a push token the provider reported dead: the device
// store (devices.Store) is one.
type TokenDropper interface {
	DropToken(ctx context.Context, account, kind, token string) (int, error)
}

// job is one payload for one device.
type job struct {
	dev     devices.Device
	p       wire.PushPayload
	attempt int
}

// Stats are the push deliverer's counters. Each push ends as one of Sent,
// Rejected (also: retried until given up), Dead (the provider says the token
// is gone) or Dropped (the queue was full); Retried counts retries
// scheduled, Pruned the device records forgotten for dead tokens.
type Stats struct {
	Sent, Retried, Rejected, Pruned, Dropped, Dead uint64
}

// Pusher delivers pushes from bounded queues on a few worker goroutines, so
// the registry goroutine only ever enqueues. A device's pushes always go
// through the same worker (chosen by its token), so they arrive in the order
// sent: a phone never gets a call's "end" before its "initial". A retry is
// the one exception, so an "end" also cancels any retry of its call's
// "initial" still to come.
//
// A nil *Pusher is valid and delivers nothing: a server without push
// providers rings events connections only.
type Pusher struct {
	log        *slog.Logger
	store      TokenDropper
	transports map[string]Transport // by token kind
	jobs       []chan job           // one per worker

	endMu  sync.Mutex
	ended  map[string]time.Time // token+callId of "end"s sent, for endMemory
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	sent, retried, rejected, pruned, dropped, dead atomic.Uint64
}

// New starts a pusher delivering through ts (one per token kind) and
// forgetting dead tokens in store. With no transports it returns nil (which
// delivers nothing). Stop ends its workers.
func New(log *slog.Logger, store TokenDropper, ts ...Transport) *Pusher {
	if len(ts) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pusher{log: log, store: store, transports: map[string]Transport{},
		ended: map[string]time.Time{}, ctx: ctx, cancel: cancel}
	for _, t := range ts {
		p.transports[t.Kind()] = t
	}
	for range workers {
		jobs := make(chan job, queueLen)
		p.jobs = append(p.jobs, jobs)
		p.wg.Add(1)
		go p.work(jobs)
	}
	return p
}

// Targets are the devices among devs that this pusher can reach.
func (p *Pusher) Targets(devs []devices.Device) []devices.Device {
	if p == nil {
		return nil
	}
	var out []devices.Device
	for _, d := range devs {
		if kind, _ := Token(d); p.transports[kind] != nil {
			out = append(out, d)
		}
	}
	return out
}

// Token is the token a device is pushed with, and its kind.
func Token(d devices.Device) (kind, token string) {
	switch {
	case d.VoIPToken != "":
		return devices.TokenVoIP, d.VoIPToken
	case d.FCMToken != "":
		return devices.TokenFCM, d.FCMToken
	}
	return "", ""
}

// Send queues payload for every device in devs (which came from Targets).
// It never blocks: with the queue full a push is dropped and counted.
func (p *Pusher) Send(devs []devices.Device, payload wire.PushPayload) {
	if p == nil {
		return
	}
	for _, d := range devs {
		if payload.Event == wire.EventEnd {
			p.markEnded(d, payload.CallID)
		}
		p.enqueue(job{dev: d, p: payload})
	}
}

func endKey(d devices.Device, callID string) string {
	_, tok := Token(d)
	return tok + "\x00" + callID
}

// markEnded records that callID's "end" went to d, forgetting old records.
func (p *Pusher) markEnded(d devices.Device, callID string) {
	now := time.Now()
	p.endMu.Lock()
	defer p.endMu.Unlock()
	for k, t := range p.ended {
		if now.Sub(t) > endMemory {
			delete(p.ended, k)
		}
	}
	p.ended[endKey(d, callID)] = now
}

// superseded reports whether j is an "initial" whose "end" has been sent.
func (p *Pusher) superseded(j job) bool {
	if j.p.Event == wire.EventEnd {
		return false
	}
	p.endMu.Lock()
	defer p.endMu.Unlock()
	_, ok := p.ended[endKey(j.dev, j.p.CallID)]
	return ok
}

func (p *Pusher) enqueue(j job) {
	if p.ctx.Err() != nil {
		return
	}
	_, tok := Token(j.dev)
	h := fnv.New32a()
	_, _ = h.Write([]byte(tok))
	select {
	case p.jobs[h.Sum32()%uint32(len(p.jobs))] <- j:
	default:
		p.dropped.Add(1)
		p.log.Warn("push queue full; push dropped", "account", j.dev.Account, "device", j.dev.DeviceID, "event", j.p.Event)
	}
}

func (p *Pusher) work(jobs <-chan job) {
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
func (p *Pusher) deliver(j job) {
	kind, token := Token(j.dev)
	if p.transports[kind] == nil {
		return
	}
	log := p.log.With("account", j.dev.Account, "device", j.dev.DeviceID, "kind", kind,
		"token", wire.Redact(token), "callId", j.p.CallID, "event", j.p.Event)
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	res, after, err := p.attempt(ctx, j.dev, j.p)
	cancel()
	switch res {
	case Sent:
		p.sent.Add(1)
		log.Debug("push sent", "attempt", j.attempt+1)
	case Dead:
		p.dead.Add(1)
		log.Info("push token is no longer valid; device removed", "reason", err)
	case Retry:
		if j.attempt+1 >= attempts || p.ctx.Err() != nil {
			p.rejected.Add(1)
			log.Warn("push failed; giving up", "attempts", j.attempt+1, "err", err)
			return
		}
		p.retried.Add(1)
		wait := max(after, min(backoff<<j.attempt, maxBackoff))
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
func (p *Pusher) attempt(ctx context.Context, d devices.Device, payload wire.PushPayload) (Result, time.Duration, error) {
	kind, token := Token(d)
	payload.Platform = d.Platform
	res, after, err := p.transports[kind].Send(ctx, token, payload)
	if res == Dead {
		n, derr := p.store.DropToken(context.WithoutCancel(ctx), d.Account, kind, token)
		p.pruned.Add(uint64(n))
		if derr != nil {
			err = fmt.Errorf("%w (and removing the token failed: %v)", err, derr)
		}
	}
	return res, after, err
}

// Stats returns the counters.
func (p *Pusher) Stats() Stats {
	if p == nil {
		return Stats{}
	}
	return Stats{Sent: p.sent.Load(), Retried: p.retried.Load(), Rejected: p.rejected.Load(),
		Pruned: p.pruned.Load(), Dropped: p.dropped.Load(), Dead: p.dead.Load()}
}

// Stop ends the workers, bounded by ctx; queued pushes are abandoned.
func (p *Pusher) Stop(ctx context.Context) error {
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

// Report is what happened to one device in Test.
type Report struct {
	DeviceID, Platform string
	Token              string // redacted
	Result             string // "sent", "token removed", "provider busy" or "rejected"
	Err                string // the provider's words, if not sent
}

// Test sends payload (an "initial") to each of devs synchronously, one
// attempt each, and reports every outcome; after ring it sends the matching
// "end" to the devices that took it, so the phones stop ringing. Dead
// tokens are forgotten as in a real call. It is the support tool behind
// `onecxi-server test-push`.
func (p *Pusher) Test(ctx context.Context, devs []devices.Device, payload wire.PushPayload, ring time.Duration) []Report {
	targets := p.Targets(devs)
	reports := make([]Report, 0, len(targets))
	var sent []devices.Device
	for _, d := range targets {
		_, tok := Token(d)
		r := Report{DeviceID: d.DeviceID, Platform: d.Platform, Token: wire.Redact(tok)}
		res, _, err := p.attempt(ctx, d, payload)
		switch res {
		case Sent:
			r.Result = "sent"
			sent = append(sent, d)
		case Dead:
			r.Result = "token removed"
		case Retry:
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
		payload.Event, payload.Timestamp = wire.EventEnd, time.Now().UnixMilli()
		for _, d := range sent {
			_, _, _ = p.attempt(context.WithoutCancel(ctx), d, payload)
		}
	}
	return reports
}

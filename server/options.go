package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/onecxi/phone/server/accounts"
	"github.com/onecxi/phone/server/cdr"
	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/server/push"
	"github.com/onecxi/phone/server/trunk"
	"github.com/onecxi/phone/wire"
)

// Option configures a Server.
type Option func(*options)

type options struct {
	log          *slog.Logger
	hook         func(Event)
	trunk        trunk.Trunk
	devices      devices.Store
	accounts     accounts.Store
	calls        cdr.Store
	push         []push.Transport
	startTimeout time.Duration
	authClock    func() time.Time // nil: time.Now
	metrics      func(*Server) http.Handler
	cluster      Cluster
}

func defaultOptions() options {
	return options{log: slog.Default(), startTimeout: wire.StartTimeout}
}

// check reports what cfg names that the options do not provide: New opens
// no database and builds no push client itself (see package
// server/providers), so a configuration asking for them without them is a
// mistake, not a silent downgrade.
func (o options) check(cfg Config) error {
	var errs []error
	if cfg.Trunk.Type == TrunkSIP && o.trunk == nil {
		errs = append(errs, fmt.Errorf("trunk.type %q: the SIP gateway (package sipgw) must be passed with WithTrunk", TrunkSIP))
	}
	if cfg.DeviceDB != "" && o.devices == nil {
		errs = append(errs, fmt.Errorf("deviceDb %s: open it (package server/providers) and pass it with WithDeviceStore", wire.QuotePath(cfg.DeviceDB)))
	}
	if cfg.MetricsListen != "" && o.metrics == nil {
		errs = append(errs, errors.New("metricsListen: no metrics handler was passed with WithMetrics (package server/metrics builds it)"))
	}
	if cfg.NATS != "" && o.cluster == nil {
		errs = append(errs, errors.New("nats: no cluster was passed with WithCluster (package server/natsbus connects it)"))
	}
	if cfg.Database != "" && (o.accounts == nil || o.calls == nil) {
		errs = append(errs, errors.New("database: open it (package server/providers) and pass its stores with WithAccountStore and WithCallRecords"))
	}
	kinds := map[string]bool{}
	for _, t := range o.push {
		kinds[t.Kind()] = true
	}
	if cfg.Push.APNs != nil && !kinds[devices.TokenVoIP] {
		errs = append(errs, errors.New("push.apns: no APNs transport was passed with WithPush (package server/providers builds it)"))
	}
	if cfg.Push.FCM != nil && !kinds[devices.TokenFCM] {
		errs = append(errs, errors.New("push.fcm: no FCM transport was passed with WithPush (package server/providers builds it)"))
	}
	return errors.Join(errs...)
}

// WithLogger sets the logger (default slog.Default()). Nothing secret is
// logged: API keys appear only as wire.Redact shows them.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithEventHook calls hook for every call Event, in order, on the registry
// goroutine: it must be quick and must not call back into the Server.
func WithEventHook(hook func(Event)) Option {
	return func(o *options) { o.hook = hook }
}

// WithTrunk replaces the trunk the configuration describes (for example with
// a SIP trunk, or a trunk.Simulated a test keeps a handle on).
func WithTrunk(t trunk.Trunk) Option {
	return func(o *options) { o.trunk = t }
}

// WithDeviceStore sets the device registry's storage (default: in memory).
// The caller keeps ownership: Shutdown does not close it.
func WithDeviceStore(ds devices.Store) Option {
	return func(o *options) { o.devices = ds }
}

// WithAccountStore sets where accounts and API key hashes live (default:
// in memory, seeded from the configuration). The server seeds it with the
// configuration's accounts (SeedAccounts) and checks every request's key
// against it, so keys added, rotated or revoked in it count at once. The
// caller keeps ownership: Shutdown does not close it.
func WithAccountStore(as accounts.Store) Option {
	return func(o *options) { o.accounts = as }
}

// WithCallRecords keeps a call detail record of every call in cs, written
// by a goroutine of the server's from a bounded queue (cdr.Writer): a slow
// store costs dropped records (counted and logged), never a held-up call.
// Shutdown writes what is queued; the caller keeps ownership of cs.
// Default: no records.
func WithCallRecords(cs cdr.Store) Option {
	return func(o *options) { o.calls = cs }
}

// WithPush adds push transports (APNs, FCM; package server/providers opens
// the ones a configuration names): devices registered with their tokens
// then ring by push as well as on their events connections.
func WithPush(ts ...push.Transport) Option {
	return func(o *options) {
		for _, t := range ts {
			if t != nil {
				o.push = append(o.push, t)
			}
		}
	}
}

// withAuthClock sets the clock of the failed-authentication back-off, so
// tests can move through minutes of it at once.
func withAuthClock(now func() time.Time) Option {
	return func(o *options) { o.authClock = now }
}

// withStartTimeout shortens wire.StartTimeout for tests.
func withStartTimeout(d time.Duration) Option {
	return func(o *options) { o.startTimeout = d }
}

package server

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/onecxi/phone/wire"
)

// Option configures a Server.
type Option func(*options)

type options struct {
	log          *slog.Logger
	hook         func(Event)
	trunk        Trunk
	notifiers    []Notifier
	devices      DeviceStore
	pushHTTP     *http.Client
	startTimeout time.Duration
}

func defaultOptions() options {
	return options{log: slog.Default(), startTimeout: wire.StartTimeout}
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
// a SIP trunk, or a SimulatedTrunk a test keeps a handle on).
func WithTrunk(t Trunk) Option {
	return func(o *options) { o.trunk = t }
}

// WithNotifier adds a way of telling callees about incoming calls (for
// example FCM or APNs push) besides the built-in events connections.
func WithNotifier(n Notifier) Option {
	return func(o *options) {
		if n != nil {
			o.notifiers = append(o.notifiers, n)
		}
	}
}

// WithDeviceStore sets the device registry's storage, overriding the
// configuration's DeviceDB. The caller keeps ownership: Shutdown does not
// close it.
func WithDeviceStore(ds DeviceStore) Option {
	return func(o *options) { o.devices = ds }
}

// WithPushHTTPClient sets the HTTP client push providers are reached with
// (a test's fake APNs and FCM, or an egress proxy). FCM's OAuth token is
// added on top of its transport.
func WithPushHTTPClient(c *http.Client) Option {
	return func(o *options) { o.pushHTTP = c }
}

// withStartTimeout shortens wire.StartTimeout for tests.
func withStartTimeout(d time.Duration) Option {
	return func(o *options) { o.startTimeout = d }
}

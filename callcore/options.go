package callcore

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"time"

	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/platform"
)

// Option configures New.
type Option func(*config)

type config struct {
	platform    platform.Platform
	audio       func() (audio.Device, error)
	store       Store
	httpClient  *http.Client
	tlsConfig   *tls.Config
	logger      *slog.Logger
	ringTimeout time.Duration

	qualityInterval time.Duration // QualityInterval unless a test sets it
}

// WithPlatform sets the OS integration (default platform.New()); tests and
// CLIs pass a *platform.Headless.
func WithPlatform(p platform.Platform) Option { return func(c *config) { c.platform = p } }

// WithAudioDevice sets the factory of audio devices. It is called once per
// call, and the device is stopped when the call ends; an error fails the
// start with ErrAudioSessionSetupFailed. The default opens the system's
// microphone and speaker through miniaudio.
func WithAudioDevice(factory func() (audio.Device, error)) Option {
	return func(c *config) { c.audio = factory }
}

// WithStore sets where kill-state data is kept (default: in memory for New,
// a file in the user's config directory for Default).
func WithStore(s Store) Option { return func(c *config) { c.store = s } }

// WithHTTPClient sets the client of the SDK's HTTP requests (credential
// check, decline). Its transport's TLS configuration is also used for the
// WebSockets unless WithTLSConfig is given.
func WithHTTPClient(h *http.Client) Option { return func(c *config) { c.httpClient = h } }

// WithTLSConfig sets the TLS configuration for HTTPS and WSS (for example a
// private CA's pool).
func WithTLSConfig(t *tls.Config) Option { return func(c *config) { c.tlsConfig = t } }

// WithLogger sets the logger (default: discard). API keys are never logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithRingTimeout sets how long an incoming call rings (default
// wire.DefaultRingTimeout): a push older than this is stale and ignored.
func WithRingTimeout(d time.Duration) Option { return func(c *config) { c.ringTimeout = d } }

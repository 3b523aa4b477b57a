package platform

import "log/slog"

// Option configures the Platform returned by [New]. The same options are
// accepted on every OS; an option a platform has no use for is ignored.
type Option func(*config)

// config is what the options set; each OS's twin reads it.
type config struct {
	incomingUI   func(call IncomingCall, respond func(Action))
	routeHandler func(Route) error
	notifier     func(title, body string) error
	logger       *slog.Logger
}

// WithIncomingUI sets the app's in-window incoming-call screen. The platform
// calls show with the call and a respond function; the screen calls respond
// once when the user accepts or declines, from any goroutine. respond is
// safe to call more than once and after the call was dismissed: only the
// first answer for a still-showing call reaches the action handler.
//
// show must not block: it should put the screen up and return.
func WithIncomingUI(show func(call IncomingCall, respond func(Action))) Option {
	return func(c *config) { c.incomingUI = show }
}

// WithRouteHandler sets the function that really switches call audio, for
// example the desktop app choosing a different output device. An error from
// it is returned by SetAudioRoute and the route is left unchanged.
func WithRouteHandler(h func(Route) error) Option {
	return func(c *config) { c.routeHandler = h }
}

// WithNotifier sets the function that posts an OS notification. The desktop
// platform uses it to announce an incoming call next to the in-window screen;
// a notifier error is logged, not returned, because the screen is already up.
func WithNotifier(n func(title, body string) error) Option {
	return func(c *config) { c.notifier = n }
}

// WithLogger sets the logger; the default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// New returns the Platform for the OS this binary was built for (see the
// package documentation for what each one can do).
func New(opts ...Option) Platform {
	return newPlatform(newConfig(opts))
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c
}

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
	jvm          JVMRunner
}

// JVMRunner runs f on an OS thread attached to the Java VM, with the VM
// (a JavaVM*), that thread's JNIEnv* and a global reference to the app's
// android.content.Context, and returns f's error (or its own, when it
// cannot attach). Fyne's driver.RunNative with a *driver.AndroidContext is
// one; the app adapts it (app/native.go), because this package must not
// import Fyne.
type JVMRunner func(f func(vm, env, ctx uintptr) error) error

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

// WithAndroidNative gives the Android platform its way into the Java VM,
// through which it calls the app's Java side (com.onecxi.phone.OneCxiBridge:
// permissions, FCM, the full-screen incoming-call notification, the
// foreground service, the audio route, kill-state recovery). Without it, or
// in a build without cgo, those operations return an error wrapping
// ErrUnsupported that names this option. Other platforms ignore it.
func WithAndroidNative(run JVMRunner) Option {
	return func(c *config) { c.jvm = run }
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

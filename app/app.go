package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/onecxi/phone/assets"
	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/screens"
	"github.com/onecxi/phone/wire"
)

// AppID is the application identifier (FyneApp.toml, preferences, storage).
const AppID = "com.onecxi.phone"

// Main runs the app and returns the process exit code.
func Main(args []string) int {
	cfg, err := ParseConfig(args, os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "onecxi-phone:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// One phone per user and profile: a second start (a tel: link, the
	// menu) hands its request to the running one and exits.
	inst, handed, code := claimInstance(cfg, log, os.Stdout)
	if handed {
		return code
	}
	defer inst.close()
	// macOS hands a clicked link over as an Apple Event, the one that
	// launched the app while Fyne starts NSApplication: listen before that.
	if err := platform.ListenOpenURL(); err != nil {
		log.Warn("links opened by the OS will not reach the phone", "err", err)
	}
	a := fyneapp.NewWithID(AppID)
	a.SetIcon(assets.Icon)
	p, err := Start(a, cfg, log, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "onecxi-phone:", err)
		return 1
	}
	inst.started(p)
	platform.OnOpenURL(p.openLinkLater) // the links held since ListenOpenURL too
	if cfg.Link != "" {
		p.openLinkLater(cfg.Link)
	}
	p.UI.Window.ShowAndRun() // returns once Quit (the window closed, the tray's Quit, SIGTERM)
	if !stopWithin(log, shutdownLimit, p.Stop) {
		return 1
	}
	return 0
}

// Phone is a running app: UI, SDK and, in demo mode, the embedded server.
type Phone struct {
	UI     *UI
	SDK    *callcore.SDK
	Config Config // the account in use: ServerURL, Account and APIKey follow Settings

	app     fyne.App
	log     *slog.Logger
	banner  io.Writer
	secrets secretStore
	sound   soundSystem
	audio   *callAudio
	ring    *ringer

	mu       sync.Mutex
	server   *embedded // nil unless the demo server runs
	key      keySource
	signInN  int                // generation of the latest sign-in
	cancel   context.CancelFunc // ends the latest sign-in and its listener
	signInWG sync.WaitGroup

	stopWatch context.CancelFunc // ends watchNetwork; nil when not watching
	watchWG   sync.WaitGroup
	// registered is the server and account this install is registered with
	// for calls (RegisterDevice); zero when none.
	registered registration
}

// registration names a server account a device is registered with.
type registration struct{ server, account string }

// keySource is where the API key in use came from, for Settings.
type keySource int

const (
	keyDemo     keySource = iota // the embedded server's own key
	keyAtStart                   // flag, environment or build setting
	keySaved                     // the secret store
	keyNotFound                  // a saved account whose key is missing
)

// Start wires everything and signs in in the background. banner receives the
// embedded server's address and key, once, for a second instance to use.
//
// The account is, in order: the one given by flags, environment or build
// settings; the one saved in Settings; else the built-in demo server.
func Start(a fyne.App, cfg Config, log *slog.Logger, banner io.Writer) (*Phone, error) {
	p := &Phone{Config: cfg, app: a, log: log, banner: banner, sound: cfg.sound, secrets: cfg.secrets}
	if p.sound == nil {
		p.sound = newSoundSystem(cfg.Audio)
	}
	if p.secrets == nil {
		fallback := newFileSecrets(filepath.Join(a.Storage().RootURI().Path(), "apikeys.json"))
		var why error
		p.secrets, why = chooseSecretStore(keychain{}, fallback, keychainProbeTimeout)
		if why != nil {
			log.Warn("no OS keychain; API keys are kept in the app's storage", "file", fallback.st.Path(), "reason", why)
		}
	}
	prefs := a.Preferences()
	number := cfg.Number
	if number == "" {
		number = prefs.StringWithFallback(prefNumber, defaultNumber)
	}
	prefs.SetString(prefNumber, number)
	p.Config.Number = number
	switch {
	case cfg.ServerURL != "":
		p.key = keyAtStart
	case prefs.String(prefServerURL) != "":
		p.Config.ServerURL, p.Config.Account = prefs.String(prefServerURL), prefs.String(prefAccount)
		p.Config.APIKey, p.key = p.savedKey(p.Config.Account, p.Config.ServerURL)
	default:
		if err := p.startEmbedded(); err != nil {
			return nil, err
		}
	}

	p.audio = newCallAudio(p.sound, DeviceChoice{
		Microphone:  prefs.String(prefMicrophone),
		Headset:     prefs.String(prefHeadset),
		Loudspeaker: prefs.String(prefLoudspeaker),
	}, log)
	p.ring = &ringer{sound: p.sound, output: func() string { return p.audio.Choice().Loudspeaker }, log: log}

	var ui *UI
	plat := dismissNotifier{Platform: platform.New(
		platform.WithLogger(log),
		platform.WithAndroidNative(runOnJVM),
		platform.WithIncomingUI(func(c platform.IncomingCall, respond func(platform.Action)) { ui.ShowIncoming(c, respond) }),
		platform.WithRouteHandler(p.audio.setRoute),
		platform.WithNotifier(func(title, body string) error {
			// The window shows the call already when it has the focus.
			if !ui.foreground.Load() {
				a.SendNotification(fyne.NewNotification(title, body))
			}
			return nil
		}),
	), dismissed: func(callID string) { ui.DismissIncoming(callID) }}
	p.SDK = callcore.New(
		callcore.WithPlatform(plat),
		callcore.WithLogger(log),
		callcore.WithAudioDevice(p.audio.newDevice),
		callcore.WithStore(callcore.NewFileStore(filepath.Join(a.Storage().RootURI().Path(), "callcore.json"))),
	)
	deps := uiDeps{
		sdk:           p.SDK,
		number:        number,
		history:       loadHistory(prefs, log),
		ring:          p.ring,
		calls:         func(done func(screens.CallRecord)) *callLog { return newCallLog(time.Now, done) },
		saveAccount:   p.saveAccount,
		keySaved:      p.haveKey,
		chooseDevices: p.chooseDevices,
		listDevices:   p.sound.Devices,
		devices:       p.deviceSelection,
		testMic:       p.testMic,
		quit:          p.quit,
	}
	if d, ok := a.(desktop.App); ok && trayAvailable(os.Getenv) {
		deps.setTray = d.SetSystemTrayMenu
	}
	ui = NewUI(a, deps)
	p.UI = ui
	if d, ok := a.(desktop.App); ok && deps.setTray != nil {
		d.SetSystemTrayWindow(ui.Window) // a click on the tray icon brings it back
		// SetSystemTrayWindow made closing the window hide it, call or
		// not: ours again, which asks during a call.
		ui.Window.SetCloseIntercept(ui.onCloseRequest)
	}
	p.SDK.SetCallProgressCallback(ui)
	ui.Settings.Load(p.account(), p.keyInfo())
	ui.Audio.SetDevices(nil, nil, p.deviceSelection()) // listed when Settings opens
	a.Lifecycle().SetOnEnteredForeground(func() {
		ui.foreground.Store(true)
		// Back from elsewhere: the call may have changed meanwhile (guide 13).
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = p.SDK.RefreshCallStatus(ctx)
		}()
	})
	a.Lifecycle().SetOnExitedForeground(func() { ui.foreground.Store(false) })
	p.signIn()
	if w := networkWatcher(cfg, plat.Platform); w != nil {
		p.watchNetwork(w)
	}
	return p, nil
}

// startEmbedded runs the demo server and makes it the account in use.
func (p *Phone) startEmbedded() error {
	e, err := startEmbedded(p.Config.Listen, p.log)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.server = e
	p.mu.Unlock()
	p.Config.ServerURL, p.Config.Account, p.Config.APIKey = e.url, "demo", e.key
	p.key = keyDemo
	fmt.Fprintf(p.banner, "OneCxi demo server: %s  account: demo  API key: %s\n"+
		"A second instance can call this one: ONECXI_API_KEY=<key> onecxi-phone -server %s -account demo -number 1002\n",
		e.url, e.key, e.url)
	return nil
}

// stopEmbedded stops the demo server, if it runs.
func (p *Phone) stopEmbedded() {
	p.mu.Lock()
	e := p.server
	p.server = nil
	p.mu.Unlock()
	if e != nil {
		e.stop()
	}
}

// savedKey reads the key of account on server from the secret store.
func (p *Phone) savedKey(account, server string) (string, keySource) {
	k, err := p.secrets.Get(secretUser(account, server))
	if err != nil {
		if !errors.Is(err, errNoSecret) {
			p.log.Warn("reading the saved API key", "account", wire.Quote(account), "server", wire.Quote(server), "err", err)
		}
		return "", keyNotFound
	}
	return k, keySaved
}

// signIn (re)initializes the SDK with the account in use and listens for
// incoming calls, in the background; the UI hears how it went. A newer
// sign-in supersedes one still under way.
func (p *Phone) signIn() {
	c := p.Config
	p.mu.Lock()
	if p.cancel != nil {
		p.cancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.signInN++
	gen := p.signInN
	where := c.ServerURL
	if p.server != nil {
		where = "built-in demo server"
	}
	p.mu.Unlock()
	p.signInWG.Add(1)
	go func() {
		defer p.signInWG.Done()
		var err error
		if c.APIKey == "" {
			err = &callcore.Error{Kind: callcore.ErrInitializationFailed, Detail: "no API key saved for " + wire.Quote(c.Account)}
		} else {
			p.keepNumber(ctx, c)
			p.unregisterElsewhere(ctx, c)
			ictx, icancel := context.WithTimeout(ctx, 15*time.Second)
			err = p.SDK.Initialize(ictx, c.Account, c.APIKey, c.ServerURL)
			icancel()
			if err == nil {
				err = p.SDK.ListenForIncomingCalls(ctx, c.Number)
			}
			if err == nil {
				p.recoverCalls(ctx, c)
				p.registerDevice(ctx, c)
			}
		}
		if err != nil {
			p.log.Warn("sign-in failed", "account", wire.Quote(c.Account), "server", wire.Quote(c.ServerURL), "api_key", wire.Redact(c.APIKey), "err", err)
		} else {
			releaseStartupMemory()
		}
		fyne.Do(func() {
			p.mu.Lock()
			current := gen == p.signInN
			p.mu.Unlock()
			if current {
				p.UI.SignedIn(c.Account, where, err)
			}
		})
	}()
}

// registerDevice tells the server this install answers c.Number, so calls
// ring it by push (iOS VoIP, Android FCM) when the app is not running; on
// desktop it records the install, which rings through its events connection.
// A failure does not fail sign-in: calls still ring while the app is open.
func (p *Phone) registerDevice(ctx context.Context, c Config) {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.SDK.RegisterDevice(rctx, c.Number); err != nil {
		p.log.Warn("device registration failed: calls ring only while the app is open", "number", c.Number, "err", err)
		return
	}
	p.mu.Lock()
	p.registered = registration{server: c.ServerURL, account: c.Account}
	p.mu.Unlock()
}

// keepNumber stores c.Number for kill-state recovery (the guide's
// storeRegisteredNumber), first thing at every sign-in and before any
// network: on Android this is also the app's first call into its Java
// side, which from then on hands pushes and notification answers to the
// running app instead of keeping them.
func (p *Phone) keepNumber(ctx context.Context, c Config) {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := p.SDK.StoreRegisteredNumber(sctx, c.Number); err != nil {
		p.log.Warn("keeping the registered number for calls that come while the app is closed", "number", c.Number, "err", err)
	}
}

// recoverTimeout bounds recoverCalls, an answer to a kept call included.
const recoverTimeout = 15 * time.Second

// recoverCalls is the guide's kill-state recovery, after every sign-in
// (answering needs the server): it answers a call the user accepted while
// the app was not running (Android: Accept on the lock-screen
// notification, which started the app), or else rings a call that came
// then and is still ringing. On desktop a call kept in the
// Store by an earlier run that ended while it rang rings again the same
// way. Failures are logged: sign-in goes on.
func (p *Phone) recoverCalls(ctx context.Context, c Config) {
	rctx, cancel := context.WithTimeout(ctx, recoverTimeout)
	defer cancel()
	accepted, err := p.SDK.CheckCallAcceptAction(rctx)
	if err != nil {
		p.log.Warn("checking for a call accepted while the app was closed", "err", err)
	}
	if accepted != nil {
		p.log.Info("answering the call accepted while the app was closed", "call_id", wire.Quote(accepted.Key()), "from", accepted.CallFrom)
		if err := p.SDK.AcceptIncomingCall(rctx, accepted.Key()); err != nil {
			p.log.Warn("answering the call accepted while the app was closed", "err", err)
		}
		return
	}
	pending, err := p.SDK.CheckPendingIncomingCall(rctx)
	if err != nil {
		p.log.Warn("checking for a call that came while the app was closed", "err", err)
	}
	if pending != nil {
		if err := p.SDK.HandleIncomingCallWithUI(rctx, pending.Map()); err != nil {
			p.log.Warn("ringing the call that came while the app was closed", "err", err)
		}
	}
}

// unregisterElsewhere signs this install out of the account it was
// registered with, if c is another one, so that account's calls stop
// ringing here. The SDK is still initialized with that account.
func (p *Phone) unregisterElsewhere(ctx context.Context, c Config) {
	p.mu.Lock()
	prev := p.registered
	p.mu.Unlock()
	if prev == (registration{}) || prev == (registration{server: c.ServerURL, account: c.Account}) {
		return
	}
	uctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := p.SDK.UnregisterDevice(uctx); err != nil {
		// The built-in server is already gone when leaving it, and kept
		// registrations in memory only.
		p.log.Info("could not unregister from the previous account", "server", prev.server, "account", prev.account, "err", err)
	}
	p.mu.Lock()
	if p.registered == prev {
		p.registered = registration{}
	}
	p.mu.Unlock()
}

// account is the account in use, for Settings: the demo server shows as an
// empty server address.
func (p *Phone) account() screens.Account {
	p.mu.Lock()
	demo := p.server != nil
	p.mu.Unlock()
	if demo {
		return screens.Account{Number: p.Config.Number}
	}
	return screens.Account{ServerURL: p.Config.ServerURL, Name: p.Config.Account, Number: p.Config.Number}
}

// keyInfo says which key is in use and where it is kept, never in full.
func (p *Phone) keyInfo() screens.KeyInfo {
	insecure := !p.secrets.Secure()
	switch p.key {
	case keyDemo:
		return screens.KeyInfo{Where: "The built-in demo server needs no account name or API key.", Insecure: insecure}
	case keyAtStart:
		return screens.KeyInfo{Saved: wire.Redact(p.Config.APIKey), Where: "given at start (command line, environment or build setting)", Insecure: insecure}
	case keyNotFound:
		return screens.KeyInfo{Where: "No API key is saved for this account: enter it and save.", Insecure: insecure}
	}
	where := "kept in the system keychain"
	if insecure {
		where = "kept in this app's storage"
	}
	return screens.KeyInfo{Saved: wire.Redact(p.Config.APIKey), Where: where, Insecure: insecure}
}

// haveKey reports whether a key is at hand for account on server, so the
// Settings key field may stay empty.
func (p *Phone) haveKey(server, account string) bool {
	if server == p.Config.ServerURL && account == p.Config.Account && p.Config.APIKey != "" {
		return true
	}
	_, src := p.savedKey(account, server)
	return src == keySaved
}

// saveAccount stores a validated account (the key in the secret store, the
// rest in preferences), switches to it and signs in. It runs on the UI
// goroutine.
func (p *Phone) saveAccount(a screens.Account) error {
	if p.SDK.IsCallActive() {
		return &callcore.Error{Kind: callcore.ErrCallInProgress, Detail: "cannot change the account during a call"}
	}
	next := p.Config
	next.Number = a.Number
	src := keyDemo
	if a.ServerURL != "" {
		next.ServerURL, next.Account = a.ServerURL, a.Name
		switch {
		case a.APIKey != "":
			if err := p.secrets.Set(secretUser(a.Name, a.ServerURL), a.APIKey); err != nil {
				return err
			}
			next.APIKey, src = a.APIKey, keySaved
		case a.ServerURL == p.Config.ServerURL && a.Name == p.Config.Account:
			src = p.key // the key in use already
		default:
			next.APIKey, src = p.savedKey(a.Name, a.ServerURL)
		}
	}
	prefs := p.app.Preferences()
	prefs.SetString(prefServerURL, a.ServerURL)
	prefs.SetString(prefAccount, a.Name)
	prefs.SetString(prefNumber, a.Number)
	p.log.Info("account saved", "server", a.ServerURL, "account", a.Name, "number", a.Number, "api_key", wire.Redact(next.APIKey))

	p.mu.Lock()
	demo := p.server != nil
	p.mu.Unlock()
	switch {
	case a.ServerURL == "" && !demo:
		p.Config.Number = a.Number
		if err := p.startEmbedded(); err != nil {
			return err
		}
	case a.ServerURL == "":
		p.Config.Number = a.Number
	default:
		// Off the demo server: stop listening to it before it goes away,
		// so the listener does not try to reconnect to it.
		p.SDK.StopListening()
		p.stopEmbedded()
		p.Config, p.key = next, src
	}
	p.UI.Settings.ShowKey(p.keyInfo())
	p.signIn()
	return nil
}

// deviceSelection is the chosen sound devices.
func (p *Phone) deviceSelection() screens.DeviceSelection {
	c := p.audio.Choice()
	return screens.DeviceSelection{Microphone: c.Microphone, Headset: c.Headset, Loudspeaker: c.Loudspeaker}
}

// chooseDevices applies and saves a choice of sound devices.
func (p *Phone) chooseDevices(s screens.DeviceSelection) {
	p.audio.setChoice(DeviceChoice{Microphone: s.Microphone, Headset: s.Headset, Loudspeaker: s.Loudspeaker})
	prefs := p.app.Preferences()
	prefs.SetString(prefMicrophone, s.Microphone)
	prefs.SetString(prefHeadset, s.Headset)
	prefs.SetString(prefLoudspeaker, s.Loudspeaker)
}

// meterWindow is how much audio one level reading covers: the bar moves ten
// times a second, smooth to the eye and cheap for the UI.
const meterWindow = audio.SampleRate / 10

// testMic meters microphone mic for the Settings level bar. Failing to open
// it is the guide's audioSessionSetupFailed.
func (p *Phone) testMic(mic string, level func(dBFS float64)) (func(), error) {
	var buf []int16
	stop, err := p.sound.Capture(mic, func(s []int16) {
		buf = append(buf, s...)
		if len(buf) >= meterWindow {
			level(dsp.Level(buf))
			buf = buf[:0]
		}
	})
	if err != nil {
		return nil, &callcore.Error{Kind: callcore.ErrAudioSessionSetupFailed, Detail: "opening the microphone for the level meter", Err: err}
	}
	return stop, nil
}

// flushTimeout bounds how long Stop waits for the SDK's last callbacks.
const flushTimeout = 3 * time.Second

// Stop ends any call, the SDK and the embedded server.
//
// Dispose does not wait for callback delivery, so Stop then flushes the
// SDK's last callbacks (the call's onCallEnded among them, which queues the
// UI's end of the call) before it stops the server. That cannot deadlock
// with the UI goroutine, even if Stop runs on it: the UI's callbacks only
// queue their work with fyne.Do, which never waits.
func (p *Phone) Stop() {
	// The window is gone (the Fyne loop has stopped): what the SDK has
	// queued is delivered, then its last events (the teardown's) must not
	// reach the window, or they would update widgets with no loop to run
	// on. Quitting from the window or the tray hangs up first (quit), so
	// this matters when a signal stopped the loop during a call.
	flushCtx, cancelFlush := context.WithTimeout(context.Background(), flushTimeout)
	_ = p.SDK.FlushCallbacks(flushCtx)
	cancelFlush()
	p.SDK.SetCallProgressCallback(nil)
	p.UI.InCall.Close() // nor its call timer
	p.mu.Lock()
	if p.cancel != nil {
		p.cancel()
	}
	p.mu.Unlock()
	if p.stopWatch != nil {
		p.stopWatch()
	}
	p.watchWG.Wait()
	p.ring.close()
	p.SDK.Dispose()
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	if err := p.SDK.FlushCallbacks(ctx); err != nil {
		p.log.Warn("the SDK's last callbacks were not delivered in time", "err", err)
	}
	p.signInWG.Wait()
	p.stopEmbedded()
}

// quit stops the app. A live call is hung up first, while the window still
// runs, so its last events (ended, the idle status) reach it; then the Fyne
// loop stops and Main's Stop finishes the rest.
func (p *Phone) quit() {
	if !p.SDK.IsCallActive() {
		p.app.Quit()
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), quitHangupLimit)
		defer cancel()
		if err := p.SDK.EndCall(ctx); err != nil && !errors.Is(err, callcore.ErrNoCallInProgress) {
			p.log.Warn("hanging up before quitting", "err", err)
		}
		if err := p.SDK.FlushCallbacks(ctx); err != nil {
			p.log.Warn("the call's last events before quitting", "err", err)
		}
		fyne.Do(p.app.Quit)
	}()
}

// quitHangupLimit bounds the hang-up Quit waits for before stopping the UI.
const quitHangupLimit = 5 * time.Second

// dismissNotifier tells the UI when the SDK dismisses an incoming call (the
// caller hung up, it stopped ringing, it was answered or declined): the
// desktop platform only forgets the call, and the in-window incoming screen
// must close itself.
type dismissNotifier struct {
	platform.Platform
	dismissed func(callID string)
}

// Unwrap lets platform.As find the wrapped platform's extensions
// (PushSource, KillState, NetworkWatcher).
func (p dismissNotifier) Unwrap() platform.Platform { return p.Platform }

func (p dismissNotifier) DismissIncomingCall(ctx context.Context, callID string) error {
	err := p.Platform.DismissIncomingCall(ctx, callID)
	p.dismissed(callID)
	return err
}

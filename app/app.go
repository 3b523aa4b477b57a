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
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/dialog"

	"github.com/onecxi/phone/assets"
	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/platform"
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
	a := fyneapp.NewWithID(AppID)
	a.SetIcon(assets.Icon)
	p, err := Start(a, cfg, log, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "onecxi-phone:", err)
		return 1
	}
	p.UI.Window.ShowAndRun()
	p.Stop()
	return 0
}

// Phone is a running app: UI, SDK and, in demo mode, the embedded server.
type Phone struct {
	UI     *UI
	SDK    *callcore.SDK
	Config Config
	server *embedded
	cancel context.CancelFunc
}

// Start wires everything and signs in in the background. banner receives the
// embedded server's address and key, once, for a second instance to use.
func Start(a fyne.App, cfg Config, log *slog.Logger, banner io.Writer) (*Phone, error) {
	p := &Phone{Config: cfg}
	if cfg.Embedded() {
		e, err := startEmbedded(cfg.Listen, log)
		if err != nil {
			return nil, err
		}
		p.server = e
		p.Config.ServerURL, p.Config.Account, p.Config.APIKey = e.url, "demo", e.key
		fmt.Fprintf(banner, "OneCxi demo server: %s  account: demo  API key: %s\n"+
			"A second instance can call this one: ONECXI_API_KEY=<key> onecxi-phone -server %s -account demo -number 1002\n",
			e.url, e.key, e.url)
	}
	number := cfg.Number
	if number == "" {
		number = a.Preferences().StringWithFallback(prefNumber, defaultNumber)
	}
	a.Preferences().SetString(prefNumber, number)

	var ui *UI
	plat := dismissNotifier{Platform: platform.New(
		platform.WithLogger(log),
		platform.WithIncomingUI(func(c platform.IncomingCall, respond func(platform.Action)) { ui.ShowIncoming(c, respond) }),
		platform.WithNotifier(func(title, body string) error {
			a.SendNotification(fyne.NewNotification(title, body))
			return nil
		}),
	), dismissed: func(callID string) { ui.DismissIncoming(callID) }}
	p.SDK = callcore.New(
		callcore.WithPlatform(plat),
		callcore.WithLogger(log),
		callcore.WithAudioDevice(audioFactory(cfg.Audio)),
		callcore.WithStore(callcore.NewFileStore(filepath.Join(a.Storage().RootURI().Path(), "callcore.json"))),
	)
	ui = NewUI(a, p.SDK, number)
	p.UI = ui
	p.SDK.SetCallProgressCallback(ui)
	a.Lifecycle().SetOnEnteredForeground(func() {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = p.SDK.RefreshCallStatus(ctx)
		}()
	})
	ui.Window.SetCloseIntercept(func() {
		if !p.SDK.IsCallActive() {
			ui.Window.Close()
			return
		}
		dialog.ShowConfirm("End the call?", "Closing OneCxi Phone hangs up the call in progress.", func(ok bool) {
			if ok {
				ui.Window.Close()
			}
		}, ui.Window)
	})

	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go p.signIn(ctx, number)
	return p, nil
}

func (p *Phone) signIn(ctx context.Context, number string) {
	c := p.Config
	ictx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	err := p.SDK.Initialize(ictx, c.Account, c.APIKey, c.ServerURL)
	if err == nil {
		err = p.SDK.ListenForIncomingCalls(ctx, number)
	}
	where := c.ServerURL
	if p.server != nil {
		where = "built-in demo server"
	}
	fyne.Do(func() { p.UI.SignedIn(c.Account, where, err) })
}

// Stop ends any call, the SDK and the embedded server.
func (p *Phone) Stop() {
	p.cancel()
	p.SDK.Dispose()
	if p.server != nil {
		p.server.stop()
	}
}

func audioFactory(spec string) func() (audio.Device, error) {
	return func() (audio.Device, error) {
		switch {
		case spec == "none":
			return audio.NewNullDevice(), nil
		case strings.HasPrefix(spec, "tone:"):
			hz, _ := strconv.ParseFloat(strings.TrimPrefix(spec, "tone:"), 64) // checked by ParseConfig
			return audio.NewToneDevice(hz, 0.3), nil
		}
		return audio.NewMalgoDevice(), nil
	}
}

// dismissNotifier tells the UI when the SDK dismisses an incoming call (the
// caller hung up, it stopped ringing, it was answered or declined): the
// desktop platform only forgets the call, and the in-window incoming screen
// must close itself.
type dismissNotifier struct {
	platform.Platform
	dismissed func(callID string)
}

func (p dismissNotifier) DismissIncomingCall(ctx context.Context, callID string) error {
	err := p.Platform.DismissIncomingCall(ctx, callID)
	p.dismissed(callID)
	return err
}

package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/screens"
	"github.com/onecxi/phone/screens/screentest"
)

// The UI tests run the whole app, as Start wires it, against its embedded
// reference server with null or tone audio. Every widget access goes through
// the screentest UI goroutine, where the app's fyne.Do calls also run.

const (
	waitUI   = 10 * time.Second
	tick     = 10 * time.Millisecond
	ownNum   = "1001"
	otherNum = "1002"

	kindDID   = "Service number (DID)"
	kindPhone = "Phone number"
	kindApp   = "App user"
)

// phone is a started app and its UI goroutine.
type phone struct {
	ui *screentest.UI
	p  *Phone
}

// startPhone starts the app like Main does, with the embedded server on a
// free port unless cfg names a server.
func startPhone(t *testing.T, ui *screentest.UI, cfg Config) *phone {
	t.Helper()
	if cfg.Audio == "" {
		cfg.Audio = "none"
	}
	if cfg.ServerURL == "" && cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Number == "" {
		cfg.Number = ownNum
	}
	if cfg.secrets == nil { // never the real keychain: the fallback file, per test
		cfg.secrets = newFileSecrets(filepath.Join(t.TempDir(), "apikeys.json"))
	}
	return startPhoneOn(t, ui, ui.App(), cfg)
}

// startPhoneOn is startPhone on an app wrapping ui's (a desktop app, to see
// its notifications and tray).
func startPhoneOn(t *testing.T, ui *screentest.UI, a fyne.App, cfg Config) *phone {
	t.Helper()
	p, err := Start(a, cfg, slog.New(slog.DiscardHandler), io.Discard)
	require.NoError(t, err)
	t.Cleanup(p.Stop)
	return &phone{ui: ui, p: p}
}

// newSignedInPhone is startPhone with the embedded server, signed in and
// listening for incoming calls.
func newSignedInPhone(t *testing.T, audio string) *phone {
	t.Helper()
	t.Setenv("TMPDIR", t.TempDir()) // the test app's storage root: keep the SDK's store per test
	ui := screentest.New(t)
	ph := startPhone(t, ui, Config{Audio: audio})
	ph.waitFor(t, "signed in", func(u *UI) bool { return strings.HasPrefix(u.Status.Text, "● Online as "+ownNum) })
	return ph
}

// waitFor waits until cond, run on the UI goroutine, holds.
func (ph *phone) waitFor(t *testing.T, what string, cond func(u *UI) bool) {
	t.Helper()
	ok := ph.ui.Eventually(func() bool { return cond(ph.p.UI) }, waitUI)
	require.True(t, ok, "%s never happened; UI: %s", what, ph.describe())
}

// waitScreen waits until the named screen is showing.
func (ph *phone) waitScreen(t *testing.T, name string) {
	t.Helper()
	ph.waitFor(t, "the "+name+" screen", func(u *UI) bool { return screenName(u) == name })
}

// waitAnswered waits until the in-call screen shows a call just answered.
func (ph *phone) waitAnswered(t *testing.T) {
	t.Helper()
	ph.waitFor(t, "the call answered", func(u *UI) bool { return screenName(u) == "in-call" && u.InCall.Timer.Text == "00:00" })
}

// describe is the UI's state, for failure messages.
func (ph *phone) describe() string {
	return screentest.Get(ph.ui, func() string {
		u := ph.p.UI
		return fmt.Sprintf("screen=%s status=%q errors=%q dialer=%q timer=%q in-call message=%q",
			screenName(u), u.Status.Text, u.Errors.Text, u.Dialer.Message.Text, u.InCall.Timer.Text, u.InCall.Message.Text)
	})
}

func screenName(u *UI) string {
	switch u.Showing() {
	case u.Dialer.Content():
		return "dialer"
	case u.InCall.Content():
		return "in-call"
	case u.Incoming.Content():
		return "incoming"
	}
	return "none"
}

// dial picks the call type, types number into the field and taps Call.
func (ph *phone) dial(kind, number string) {
	ph.ui.Do(func() {
		d := ph.p.UI.Dialer
		d.Kind.SetSelected(kind)
		d.Number.SetText("")
		test.Type(d.Number, number)
		test.Tap(d.Call)
	})
}

// tap taps a button on the UI goroutine.
func (ph *phone) tap(b func(u *UI) *widget.Button) {
	ph.ui.Do(func() { test.Tap(b(ph.p.UI)) })
}

// text reads a label on the UI goroutine.
func (ph *phone) text(l func(u *UI) *widget.Label) string {
	return screentest.Get(ph.ui, func() string { return l(ph.p.UI).Text })
}

// assertReset checks the in-call screen is back to its idle state and the
// dialer is ready for the next call.
func (ph *phone) assertReset(t *testing.T) {
	t.Helper()
	ph.ui.Do(func() {
		u := ph.p.UI
		assert.Equal(t, "dialer", screenName(u))
		assert.False(t, u.inCall)
		assert.Equal(t, "00:00", u.InCall.Timer.Text)
		assert.Empty(t, u.InCall.Who.Text)
		assert.Equal(t, "Mute", u.InCall.Mute.Text)
		assert.Equal(t, "Hold", u.InCall.Hold.Text)
		assert.Equal(t, "Speaker", u.InCall.Speaker.Text)
		assert.False(t, u.InCall.Hangup.Disabled())
		assert.False(t, u.Dialer.Call.Disabled())
	})
	assert.False(t, ph.p.SDK.IsCallActive())
}

// fakeClock is the in-call timer's clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestDialEchoShowsInCallWithTimerAndToggles(t *testing.T) {
	ph := newSignedInPhone(t, "tone:440")
	clk := &fakeClock{now: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
	ph.ui.Do(func() { ph.p.UI.InCall.SetClock(clk.Now) })

	ph.dial(kindDID, "90000")
	ph.waitScreen(t, "in-call")
	assert.Equal(t, "90000", ph.text(func(u *UI) *widget.Label { return u.InCall.Who }))
	ph.waitFor(t, "the call answered", func(u *UI) bool { return u.InCall.Timer.Text == "00:00" })
	require.Equal(t, callcore.CallStateActive, ph.p.SDK.GetCallStatus().State)
	ph.waitFor(t, "the dialer's message cleared", func(u *UI) bool { return u.Dialer.Message.Text == "" && !u.Dialer.Call.Disabled() })

	clk.Add(65 * time.Second) // the next tick shows it
	ph.waitFor(t, "the timer counting", func(u *UI) bool { return u.InCall.Timer.Text == "01:05" })

	toggles := []struct {
		name    string
		button  func(u *UI) *widget.Button
		on, off string
		kind    string // the call-type line while on
		state   func(callcore.CallStatus) bool
	}{
		{"mute", func(u *UI) *widget.Button { return u.InCall.Mute }, "Unmute", "Mute", "Service number · muted",
			func(s callcore.CallStatus) bool { return s.IsMuted }},
		{"hold", func(u *UI) *widget.Button { return u.InCall.Hold }, "Resume", "Hold", "Service number · on hold",
			func(s callcore.CallStatus) bool { return s.IsOnHold }},
		{"speaker", func(u *UI) *widget.Button { return u.InCall.Speaker }, "Speaker off", "Speaker", "Service number",
			func(s callcore.CallStatus) bool { return s.IsSpeakerOn }},
	}
	for _, tc := range toggles {
		t.Run(tc.name, func(t *testing.T) {
			ph.tap(tc.button)
			ph.waitFor(t, tc.name+" on", func(u *UI) bool { return tc.button(u).Text == tc.on })
			assert.True(t, tc.state(ph.p.SDK.GetCallStatus()))
			assert.Equal(t, widget.HighImportance, screentest.Get(ph.ui, func() widget.Importance { return tc.button(ph.p.UI).Importance }))
			assert.Equal(t, tc.kind, ph.text(func(u *UI) *widget.Label { return u.InCall.Kind }))

			ph.tap(tc.button)
			ph.waitFor(t, tc.name+" off", func(u *UI) bool { return tc.button(u).Text == tc.off })
			assert.False(t, tc.state(ph.p.SDK.GetCallStatus()))
			assert.Equal(t, "Service number", ph.text(func(u *UI) *widget.Label { return u.InCall.Kind }))
		})
	}

	t.Run("keypad sends DTMF", func(t *testing.T) {
		ph.ui.Do(func() { test.Tap(ph.p.UI.InCall.Keypad.Keys["5"]) })
		ph.ui.Flush()
		assert.Empty(t, ph.text(func(u *UI) *widget.Label { return u.InCall.Message }))
	})

	t.Run("end call", func(t *testing.T) {
		ph.tap(func(u *UI) *widget.Button { return u.InCall.Hangup })
		ph.waitScreen(t, "dialer")
		ph.assertReset(t)
		assert.Empty(t, ph.text(func(u *UI) *widget.Label { return u.Errors }))
	})
}

func TestRemoteEndReturnsToDialer(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, ph *phone)
	}{
		{"server shuts down", func(t *testing.T, ph *phone) { ph.p.server.stop() }},
		{"SDK ends the call", func(t *testing.T, ph *phone) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			require.NoError(t, ph.p.SDK.EndCall(ctx))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ph := newSignedInPhone(t, "none")
			ph.dial(kindDID, "90000")
			ph.waitAnswered(t)
			ph.tap(func(u *UI) *widget.Button { return u.InCall.Mute })
			ph.waitFor(t, "muted", func(u *UI) bool { return u.InCall.Mute.Text == "Unmute" })

			tc.end(t, ph)
			ph.waitScreen(t, "dialer")
			ph.assertReset(t)
			assert.NotContains(t, ph.text(func(u *UI) *widget.Label { return u.Errors }), "Something went wrong")
		})
	}
}

func TestInvalidNumberShowsGuideText(t *testing.T) {
	ph := newSignedInPhone(t, "none")
	invalid := screens.ErrorText(&callcore.Error{Kind: callcore.ErrInvalidInput})
	require.True(t, strings.HasPrefix(invalid, "Please check the number you entered"), invalid)

	for _, tc := range []struct {
		name, kind, number, want string
	}{
		{"empty", kindDID, "", invalid},
		{"blank", kindDID, "   ", invalid},
		{"letters", kindDID, "abc", invalid},
		{"letters in a phone number", kindPhone, "+1-415-CALL", invalid},
		{"letters for an app user", kindApp, "bob", invalid},
		{"own number", kindApp, ownNum, "That is your own number. Enter a colleague's registered number."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ph.dial(tc.kind, tc.number)
			ph.waitFor(t, "the error", func(u *UI) bool { return u.Dialer.Message.Text == tc.want && !u.Dialer.Call.Disabled() })
			assert.Equal(t, "dialer", screentest.Get(ph.ui, func() string { return screenName(ph.p.UI) }))
			assert.False(t, ph.p.SDK.IsCallActive())
		})
	}
}

// A number the server does not know fails after the call connected: the
// in-call screen comes up for "Connecting…" and must go away again.
func TestUnknownNumberReturnsToDialer(t *testing.T) {
	ph := newSignedInPhone(t, "none")
	ph.dial(kindDID, "12345")
	ph.waitFor(t, "the error", func(u *UI) bool { return u.Dialer.Message.Text == "The number was not found." })
	ph.waitScreen(t, "dialer")
	ph.assertReset(t)
}

func TestKeyboardDialing(t *testing.T) {
	ph := newSignedInPhone(t, "none")
	ph.ui.Do(func() {
		c := ph.p.UI.Window.Canvas()
		c.Unfocus()
		test.TypeOnCanvas(c, "9x0000") // letters are ignored
		c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyBackspace})
		test.TypeOnCanvas(c, "0")
	})
	assert.Equal(t, "90000", screentest.Get(ph.ui, func() string { return ph.p.UI.Dialer.Number.Text }))

	ph.ui.Do(func() { ph.p.UI.Window.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn}) })
	ph.waitAnswered(t)

	ph.ui.Do(func() { ph.p.UI.Window.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape}) })
	ph.waitScreen(t, "dialer")
	ph.assertReset(t)
}

// caller is a second app user: a plain SDK with a headless platform, signed
// in to the app's embedded server.
type caller struct {
	sdk *callcore.SDK

	mu     sync.Mutex
	events []string
	state  callcore.CallState
}

func newCaller(t *testing.T, ph *phone) *caller {
	t.Helper()
	c := &caller{}
	c.sdk = callcore.New(
		callcore.WithPlatform(platform.NewHeadless()),
		callcore.WithStore(callcore.NewMemoryStore()),
		callcore.WithAudioDevice(func() (audio.Device, error) { return audio.NewToneDevice(880, 0.3), nil }),
	)
	c.sdk.SetCallProgressCallback(callcore.CallbackFuncs{
		StatusChanged: func(s callcore.CallStatus) { c.mu.Lock(); c.state = s.State; c.mu.Unlock() },
		Started:       func(ct callcore.CallType, did, _ string) { c.add("started " + did) },
		Ended:         func(ct callcore.CallType, did string) { c.add("ended " + did) },
		Declined:      func(ct callcore.CallType, from string) { c.add("declined " + from) },
	})
	t.Cleanup(c.sdk.Dispose)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.sdk.Initialize(ctx, ph.p.Config.Account, ph.p.Config.APIKey, ph.p.Config.ServerURL))
	return c
}

func (c *caller) add(e string) { c.mu.Lock(); c.events = append(c.events, e); c.mu.Unlock() }

func (c *caller) got(e string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range c.events {
		if x == e {
			return true
		}
	}
	return false
}

func (c *caller) waitFor(t *testing.T, e string) {
	t.Helper()
	require.Eventually(t, func() bool { return c.got(e) }, waitUI, tick, "the caller never got %q", e)
}

func (c *caller) call(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.sdk.StartAppToAppInboundCall(ctx, ownNum, otherNum))
}

func (c *caller) hangUp(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, c.sdk.EndCall(ctx))
}

func TestIncomingAppToAppCall(t *testing.T) {
	// answeredThenHangUpHere: the call connects, and this phone ends it.
	answeredThenHangUpHere := func(t *testing.T, ph *phone, c *caller) {
		ph.waitAnswered(t)
		c.waitFor(t, "started "+ownNum)
		ph.tap(func(u *UI) *widget.Button { return u.InCall.Hangup })
		ph.waitScreen(t, "dialer")
		ph.assertReset(t)
		c.waitFor(t, "ended "+ownNum)
	}
	for _, tc := range []struct {
		name    string
		outcome screens.Outcome
		then    func(t *testing.T, ph *phone, c *caller)
	}{
		{"accept, then the caller hangs up", screens.Answered, func(t *testing.T, ph *phone, c *caller) {
			ph.tap(func(u *UI) *widget.Button { return u.Incoming.Accept })
			ph.waitAnswered(t)
			assert.Equal(t, otherNum, ph.text(func(u *UI) *widget.Label { return u.InCall.Who }))
			assert.Equal(t, "App call", ph.text(func(u *UI) *widget.Label { return u.InCall.Kind }))
			c.waitFor(t, "started "+ownNum)
			assert.Equal(t, callcore.CallStateActive, ph.p.SDK.GetCallStatus().State)

			c.hangUp(t)
			ph.waitScreen(t, "dialer")
			ph.assertReset(t)
		}},
		{"accept, then hang up here", screens.Answered, func(t *testing.T, ph *phone, c *caller) {
			ph.tap(func(u *UI) *widget.Button { return u.Incoming.Accept })
			answeredThenHangUpHere(t, ph, c)
		}},
		{"decline", screens.Declined, func(t *testing.T, ph *phone, c *caller) {
			ph.tap(func(u *UI) *widget.Button { return u.Incoming.Decline })
			assert.Equal(t, "dialer", screentest.Get(ph.ui, func() string { return screenName(ph.p.UI) }))
			c.waitFor(t, "declined "+ownNum)
			c.waitFor(t, "ended "+ownNum)
			assert.False(t, ph.p.SDK.IsCallActive())
		}},
		{"answered from the dialer", screens.Answered, func(t *testing.T, ph *phone, c *caller) {
			ph.dial("Answer an app user's call", otherNum)
			answeredThenHangUpHere(t, ph, c)
		}},
		{"the caller gives up while it rings", screens.Missed, func(t *testing.T, ph *phone, c *caller) {
			c.hangUp(t)
			ph.waitScreen(t, "dialer")
			ph.assertReset(t)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ph := newSignedInPhone(t, "tone:440")
			c := newCaller(t, ph)
			c.call(t)
			ph.waitScreen(t, "incoming")
			assert.Equal(t, "Incoming app call", ph.text(func(u *UI) *widget.Label { return u.Incoming.Title }))
			assert.Equal(t, otherNum, ph.text(func(u *UI) *widget.Label { return u.Incoming.Caller }))
			snd := ph.p.sound.(*virtualSound)
			require.Eventually(t, func() bool { return snd.Playing() == 1 }, waitUI, tick, "the ringtone never started")
			tc.then(t, ph, c)
			require.Eventually(t, func() bool { return snd.Playing() == 0 }, waitUI, tick, "the ringtone never stopped")

			ph.waitFor(t, "the call in the history", func(u *UI) bool { return len(u.History.Records()) == 1 })
			r := screentest.Get(ph.ui, func() screens.CallRecord { return ph.p.UI.History.Records()[0] })
			assert.Equal(t, screens.DirectionIncoming, r.Direction)
			assert.Equal(t, callcore.CallTypeAppToApp, r.Type)
			assert.Equal(t, otherNum, r.Number)
			assert.Equal(t, tc.outcome, r.Outcome)
		})
	}
}

func TestSignInFailureIsShown(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	ui := screentest.New(t)
	good := startPhone(t, ui, Config{})
	good.waitFor(t, "signed in", func(u *UI) bool { return strings.HasPrefix(u.Status.Text, "● Online") })

	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"wrong API key", Config{ServerURL: good.p.Config.ServerURL, Account: "demo", APIKey: "not-the-key"},
			"Sign-in failed: check the account name and API key."},
		{"no server there", Config{ServerURL: "http://127.0.0.1:1", Account: "demo", APIKey: "k"},
			"No connection to the server. Check your network and the server address."},
		{"not a server address", Config{ServerURL: "ftp://example.com", Account: "demo", APIKey: "k"},
			"Sign-in failed: check the server address, account name and API key."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ph := startPhone(t, ui, tc.cfg)
			ph.waitFor(t, "the sign-in failure", func(u *UI) bool { return u.Status.Text == "Not signed in" })
			assert.Equal(t, tc.want, ph.text(func(u *UI) *widget.Label { return u.Errors }))
		})
	}
}

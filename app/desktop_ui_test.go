package app

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/screens"
	"github.com/onecxi/phone/screens/screentest"
)

// desktopApp is the test app as a desktop app: it keeps the notifications
// sent and the tray menu set, and counts Quit.
type desktopApp struct {
	fyne.App
	mu    sync.Mutex
	notes []fyne.Notification
	menu  *fyne.Menu
	quits int
}

func (a *desktopApp) SendNotification(n *fyne.Notification) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.notes = append(a.notes, *n)
}

func (a *desktopApp) SetSystemTrayMenu(m *fyne.Menu)  { a.mu.Lock(); a.menu = m; a.mu.Unlock() }
func (a *desktopApp) SetSystemTrayIcon(fyne.Resource) {}
func (a *desktopApp) Quit()                           { a.mu.Lock(); a.quits++; a.mu.Unlock() }

// SetSystemTrayWindow does what Fyne 2.7's desktop driver does: closing the
// window now hides it.
func (a *desktopApp) SetSystemTrayWindow(w fyne.Window) { w.SetCloseIntercept(w.Hide) }

// NewWindow returns windows whose close button tests can press.
func (a *desktopApp) NewWindow(title string) fyne.Window {
	return &closableWindow{Window: a.App.NewWindow(title)}
}

// closableWindow is a test window with the desktop driver's close path:
// the close button runs the close intercept if one is set, else closes. It
// also records whether it is shown.
type closableWindow struct {
	fyne.Window
	mu        sync.Mutex
	intercept func()
	hidden    bool
}

func (w *closableWindow) SetCloseIntercept(f func()) {
	w.mu.Lock()
	w.intercept = f
	w.mu.Unlock()
	w.Window.SetCloseIntercept(f)
}

func (w *closableWindow) Hide() { w.mu.Lock(); w.hidden = true; w.mu.Unlock(); w.Window.Hide() }
func (w *closableWindow) Show() { w.mu.Lock(); w.hidden = false; w.mu.Unlock(); w.Window.Show() }

func (w *closableWindow) isHidden() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.hidden }

// pressClose is the user clicking the window's close button.
func (w *closableWindow) pressClose() {
	w.mu.Lock()
	f := w.intercept
	w.mu.Unlock()
	if f != nil {
		f()
		return
	}
	w.Close()
}

func (a *desktopApp) notifications() []fyne.Notification {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]fyne.Notification(nil), a.notes...)
}

func (a *desktopApp) quitCount() int { a.mu.Lock(); defer a.mu.Unlock(); return a.quits }

// newDesktopPhone starts a signed-in phone on a desktopApp with a session
// bus address, so it sets up its tray.
func newDesktopPhone(t *testing.T) (*phone, *desktopApp) {
	t.Helper()
	return newDesktopPhoneTray(t, true)
}

// newDesktopPhoneTray is newDesktopPhone with or without a tray.
func newDesktopPhoneTray(t *testing.T, tray bool) (*phone, *desktopApp) {
	t.Helper()
	t.Setenv("TMPDIR", t.TempDir())
	bus := ""
	if tray {
		bus = "unix:path=/nonexistent" // only looked at, never dialled
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus)
	ui := screentest.New(t)
	da := &desktopApp{App: ui.App()}
	ph := startPhoneOn(t, ui, da, Config{Audio: "none", Listen: "127.0.0.1:0", Number: ownNum,
		secrets: newFileSecrets(t.TempDir() + "/k.json")})
	ph.waitFor(t, "signed in", func(u *UI) bool { return strings.HasPrefix(u.Status.Text, "● Online as "+ownNum) })
	return ph, da
}

func TestNotificationOnlyWhenTheWindowIsNotFocused(t *testing.T) {
	ph, da := newDesktopPhone(t)
	c := newCaller(t, ph)

	c.call(t)
	ph.waitScreen(t, "incoming")
	assert.Empty(t, da.notifications(), "the focused window shows the call itself")
	ph.tap(func(u *UI) *widget.Button { return u.Incoming.Decline })
	c.waitFor(t, "ended "+ownNum)

	ph.ui.Do(func() { ph.p.app.Lifecycle().(interface{ OnExitedForeground() func() }).OnExitedForeground()() })
	c.call(t)
	ph.waitScreen(t, "incoming")
	require.Eventually(t, func() bool { return len(da.notifications()) == 1 }, waitUI, tick, "no notification")
	assert.Equal(t, fyne.Notification{Title: "Incoming call", Content: otherNum}, da.notifications()[0])
}

func TestTrayFollowsTheCall(t *testing.T) {
	ph, da := newDesktopPhone(t)
	tr := screentest.Get(ph.ui, func() *tray { return ph.p.UI.tray })
	require.NotNil(t, tr, "a desktop app with a session bus gets a tray")
	da.mu.Lock()
	assert.Same(t, tr.menu, da.menu)
	da.mu.Unlock()
	state := func() (string, bool) {
		var s string
		var off bool
		ph.ui.Do(func() { s, off = tr.Status.Label, tr.Hangup.Disabled })
		return s, off
	}
	s, off := state()
	assert.True(t, strings.HasPrefix(s, "● Online as "+ownNum), s)
	assert.True(t, off, "nothing to hang up")

	ph.dial(kindDID, "90000")
	ph.waitAnswered(t)
	ph.waitFor(t, "the call's connection shown", func(u *UI) bool { return strings.HasSuffix(u.Status.Text, " · call connected") })
	s, off = state()
	assert.True(t, strings.HasSuffix(s, " · call connected"), s)
	assert.False(t, off)

	ph.ui.Do(func() { tr.Hangup.Action() })
	ph.waitScreen(t, "dialer")
	ph.assertReset(t)
	s, off = state()
	assert.False(t, strings.HasSuffix(s, " · call connected"), s)
	assert.True(t, off)
}

// With a tray, closing the window hides it, unless a call is up: then it
// asks, and either way the window goes but the phone runs on. The tray's
// Quit asks during a call too. All through the window's real close path
// (the intercept the desktop driver runs), after the tray took it over.
func TestCloseWithATray(t *testing.T) {
	ph, da := newDesktopPhone(t)
	w := ph.p.UI.Window.(*closableWindow)
	ph.ui.Do(w.pressClose)
	assert.True(t, w.isHidden(), "no call: closing hides to the tray")
	assert.Equal(t, 0, da.quitCount())

	ph.ui.Do(ph.p.UI.onShowWindow)
	ph.dial(kindDID, "90000")
	ph.waitAnswered(t)
	ph.ui.Do(w.pressClose)
	assert.False(t, w.isHidden(), "not without asking")
	ph.ui.Do(func() { test.Tap(findButton(w.Canvas().Overlays().Top(), "Keep the call")) })
	assert.True(t, w.isHidden())
	assert.True(t, ph.p.SDK.IsCallActive(), "the call goes on")
	assert.Equal(t, 0, da.quitCount())

	// The tray's Quit during the call: asked, refused, then accepted.
	tr := ph.p.UI.tray
	ph.ui.Do(func() { tr.Quit.Action() })
	assert.False(t, w.isHidden(), "the window comes up for the question")
	ph.ui.Do(func() { test.Tap(findButton(w.Canvas().Overlays().Top(), "No")) })
	assert.True(t, ph.p.SDK.IsCallActive())
	assert.Equal(t, 0, da.quitCount())
	ph.ui.Do(func() { tr.Quit.Action() })
	ph.ui.Do(func() { test.Tap(findButton(w.Canvas().Overlays().Top(), "Yes")) })
	// The call is hung up first, its end shown, then the app quits.
	ph.waitScreen(t, "dialer")
	require.Eventually(t, func() bool { return da.quitCount() == 1 }, waitUI, 10*time.Millisecond)
	assert.False(t, ph.p.SDK.IsCallActive())
	assert.True(t, tr.Quit.IsQuit, "Fyne adds no Quit of its own")
}

// Closing during a call with a tray and choosing to hang up ends the call
// and hides the window; the phone runs on.
func TestCloseWithATrayHangsUpWhenAsked(t *testing.T) {
	ph, da := newDesktopPhone(t)
	w := ph.p.UI.Window.(*closableWindow)
	ph.dial(kindDID, "90000")
	ph.waitAnswered(t)
	ph.ui.Do(w.pressClose)
	ph.ui.Do(func() { test.Tap(findButton(w.Canvas().Overlays().Top(), "Hang up")) })
	ph.waitScreen(t, "dialer")
	assert.True(t, w.isHidden())
	assert.False(t, ph.p.SDK.IsCallActive())
	assert.Equal(t, 0, da.quitCount())
}

// Without a tray, closing quits, asking first during a call.
func TestCloseWithoutATray(t *testing.T) {
	ph, da := newDesktopPhoneTray(t, false) // no session bus: no tray
	require.Nil(t, ph.p.UI.tray)
	w := ph.p.UI.Window.(*closableWindow)
	ph.dial(kindDID, "90000")
	ph.waitAnswered(t)
	ph.ui.Do(w.pressClose)
	assert.Equal(t, 0, da.quitCount(), "not without asking")
	ph.ui.Do(func() { test.Tap(findButton(w.Canvas().Overlays().Top(), "No")) })
	assert.True(t, ph.p.SDK.IsCallActive(), "the call goes on")

	ph.ui.Do(w.pressClose)
	ph.ui.Do(func() { test.Tap(findButton(w.Canvas().Overlays().Top(), "Yes")) })
	ph.waitScreen(t, "dialer")
	require.Eventually(t, func() bool { return da.quitCount() == 1 }, waitUI, 10*time.Millisecond)

	ph.ui.Do(w.pressClose)
	assert.Equal(t, 2, da.quitCount(), "no call: closing quits at once")
}

// findButton finds the button labelled text in o's tree.
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	if o == nil {
		return nil
	}
	if b, ok := o.(*widget.Button); ok && b.Text == text {
		return b
	}
	var kids []fyne.CanvasObject
	switch x := o.(type) {
	case *fyne.Container:
		kids = x.Objects
	case fyne.Widget:
		kids = test.WidgetRenderer(x).Objects() // the cached renderer: the dialog is showing
	}
	for _, k := range kids {
		if b := findButton(k, text); b != nil {
			return b
		}
	}
	return nil
}

// listedSound is a virtual sound system with two devices to choose from.
type listedSound struct{ virtualSound }

func (*listedSound) Devices() ([]audio.DeviceInfo, error) {
	return []audio.DeviceInfo{
		{ID: "aa", Name: "USB headset", Capture: true, Playback: true},
		{ID: "bb", Name: "Laptop speakers", Playback: true, IsDefault: true},
	}, nil
}

func TestSoundSettings(t *testing.T) {
	t.Run("choosing devices", func(t *testing.T) {
		t.Setenv("TMPDIR", t.TempDir())
		ui := screentest.New(t)
		ph := startPhone(t, ui, Config{sound: &listedSound{virtualSound{toneHz: 440}}})
		ph.ui.Do(func() { ph.p.UI.Tabs.Select(ph.p.UI.SettingsTab) })
		ph.waitFor(t, "the devices listed", func(u *UI) bool { return len(u.Audio.Headset.Options) == 3 })
		ph.ui.Do(func() {
			a := ph.p.UI.Audio
			assert.Equal(t, []string{screens.SystemDefault, "USB headset"}, a.Microphone.Options, "speakers are no microphone")
			assert.Equal(t, screens.SystemDefault, a.Headset.Selected)
			a.Microphone.SetSelected("USB headset")
			a.Headset.SetSelected("USB headset")
			a.Loudspeaker.SetSelected("Laptop speakers")
		})
		assert.Equal(t, DeviceChoice{Microphone: "aa", Headset: "aa", Loudspeaker: "bb"}, ph.p.audio.Choice())
		prefs := ui.App().Preferences()
		assert.Equal(t, []string{"aa", "aa", "bb"}, []string{prefs.String(prefMicrophone), prefs.String(prefHeadset), prefs.String(prefLoudspeaker)})

		again := startPhone(t, ui, Config{sound: &listedSound{}})
		assert.Equal(t, DeviceChoice{Microphone: "aa", Headset: "aa", Loudspeaker: "bb"}, again.p.audio.Choice(), "kept across restarts")
	})

	t.Run("the level meter", func(t *testing.T) {
		for _, tc := range []struct {
			audio string
			level float64 // the bar's value while testing
		}{
			{"tone:440", (60 + 10*math.Log10(virtualLevel*virtualLevel/2)) / 60}, // a sine's power is A²/2
			{"none", 0},
		} {
			t.Run(tc.audio, func(t *testing.T) {
				ph := newSignedInPhone(t, tc.audio)
				ph.ui.Do(func() {
					ph.p.UI.Tabs.Select(ph.p.UI.SettingsTab)
					test.Tap(ph.p.UI.Audio.Test)
				})
				assert.Equal(t, "Stop test", screentest.Get(ph.ui, func() string { return ph.p.UI.Audio.Test.Text }))
				if tc.level > 0 {
					ph.waitFor(t, "the bar moving", func(u *UI) bool { return u.Audio.Level.Value > 0 })
				}
				ph.ui.Flush()
				assert.InDelta(t, tc.level, screentest.Get(ph.ui, func() float64 { return ph.p.UI.Audio.Level.Value }), 0.02)

				ph.ui.Do(func() { ph.p.UI.Tabs.Select(ph.p.UI.PhoneTab) }) // leaving stops the test
				ph.ui.Do(func() {
					assert.False(t, ph.p.UI.Audio.Testing())
					assert.Zero(t, ph.p.UI.Audio.Level.Value)
					assert.Equal(t, "Test microphone", ph.p.UI.Audio.Test.Text)
				})
			})
		}
	})
}

// noSound is a machine without a usable sound device.
type noSound struct{}

var errNoCard = fmt.Errorf("%w: no sound card", audio.ErrNoDevice)

func (noSound) Devices() ([]audio.DeviceInfo, error)            { return nil, errNoCard }
func (noSound) CallDevice(string, string) (audio.Device, error) { return nil, errNoCard }
func (noSound) Play(dsp.Source, string) (func(), error)         { return nil, errNoCard }
func (noSound) Capture(string, func([]int16)) (func(), error)   { return nil, errNoCard }

func TestNoSoundDevice(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	ui := screentest.New(t)
	ph := startPhone(t, ui, Config{sound: noSound{}})
	ph.waitFor(t, "signed in", func(u *UI) bool { return strings.HasPrefix(u.Status.Text, "● Online as "+ownNum) })
	want := "No usable microphone or speaker was found. Connect a headset and try again."

	ph.dial(kindDID, "90000")
	ph.waitFor(t, "the audio error", func(u *UI) bool { return u.Dialer.Message.Text == want && !u.Dialer.Call.Disabled() })
	ph.waitScreen(t, "dialer")
	assert.False(t, ph.p.SDK.IsCallActive())

	ph.ui.Do(func() { ph.p.UI.Tabs.Select(ph.p.UI.SettingsTab) })
	ph.waitFor(t, "the devices note", func(u *UI) bool { return strings.HasPrefix(u.Audio.Note.Text, "No sound devices could be listed") })
	ph.ui.Do(func() { test.Tap(ph.p.UI.Audio.Test) })
	ph.ui.Do(func() {
		assert.Equal(t, want, ph.p.UI.Audio.Note.Text)
		assert.False(t, ph.p.UI.Audio.Testing())
	})

	// An incoming call still rings on screen, without a ringtone.
	c := newCaller(t, ph)
	c.call(t)
	ph.waitScreen(t, "incoming")
	ph.tap(func(u *UI) *widget.Button { return u.Incoming.Decline })
	c.waitFor(t, "declined "+ownNum)
}

func TestKeysOnlyDialOnThePhoneTab(t *testing.T) {
	ph := newSignedInPhone(t, "none")
	ph.ui.Do(func() {
		u := ph.p.UI
		u.Tabs.Select(u.SettingsTab)
		u.Window.Canvas().Unfocus()
		test.TypeOnCanvas(u.Window.Canvas(), "123")
		u.Window.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
		assert.Empty(t, u.Dialer.Number.Text)
		u.Tabs.Select(u.PhoneTab)
		test.TypeOnCanvas(u.Window.Canvas(), "123")
		assert.Equal(t, "123", u.Dialer.Number.Text)
	})
	assert.False(t, ph.p.SDK.IsCallActive())
}

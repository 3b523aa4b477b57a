package app

import (
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/screens"
	"github.com/onecxi/phone/screens/screentest"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/servertest"
)

// otherServer is a second reference server with account "acme".
func otherServer(t *testing.T) (url, key string) {
	t.Helper()
	cfg, key := server.DemoConfig()
	cfg.Accounts[0].Name = "acme"
	_, url = servertest.StartServer(t, cfg)
	return url, key
}

// fillSettings types a into the account form and taps Save.
func (ph *phone) fillSettings(a screens.Account) {
	ph.ui.Do(func() {
		s := ph.p.UI.Settings
		ph.p.UI.Tabs.Select(ph.p.UI.SettingsTab)
		s.Server.SetText(a.ServerURL)
		s.Name.SetText(a.Name)
		s.APIKey.SetText("")
		test.Type(s.APIKey, a.APIKey)
		s.Number.SetText(a.Number)
		test.Tap(s.Save)
	})
}

func TestSettingsValidation(t *testing.T) {
	ph := newSignedInPhone(t, "none")
	invalid := screens.ErrorText(callcore.ErrInvalidInput)
	for _, tc := range []struct {
		name string
		form screens.Account
		want string
	}{
		{"no number", screens.Account{}, screens.MsgFillRequired},
		{"a number with letters", screens.Account{Number: "10o1"}, invalid},
		{"a server without an account", screens.Account{ServerURL: "https://calls.example.com", APIKey: "k", Number: "1001"}, screens.MsgFillRequired},
		{"a server without a key", screens.Account{ServerURL: "https://calls.example.com", Name: "acme", Number: "1001"}, screens.MsgFillRequired},
		{"a server address without https://", screens.Account{ServerURL: "calls.example.com", Name: "acme", APIKey: "k", Number: "1001"}, screens.MsgBadServer},
		{"a server address of another kind", screens.Account{ServerURL: "ftp://calls.example.com", Name: "acme", APIKey: "k", Number: "1001"}, screens.MsgBadServer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ph.fillSettings(tc.form)
			assert.Equal(t, tc.want, ph.text(func(u *UI) *widget.Label { return u.Settings.Message }))
			assert.Empty(t, ph.ui.App().Preferences().String(prefServerURL), "nothing saved")
			assert.True(t, strings.HasPrefix(ph.text(func(u *UI) *widget.Label { return u.Status }), "● Online as 1001 · demo"))
		})
	}

	t.Run("during a call", func(t *testing.T) {
		ph.ui.Do(func() { ph.p.UI.Tabs.Select(ph.p.UI.PhoneTab) })
		ph.dial(kindDID, "90000")
		ph.waitAnswered(t)
		ph.fillSettings(screens.Account{Number: "1005"})
		assert.Equal(t, "A call is already in progress. End it first.", ph.text(func(u *UI) *widget.Label { return u.Settings.Message }))
		assert.Equal(t, "1001", ph.ui.App().Preferences().String(prefNumber))
		ph.tap(func(u *UI) *widget.Button { return u.InCall.Hangup })
		ph.waitScreen(t, "dialer")
	})
}

// Saving another server signs in there, keeps the key out of sight and out
// of the preferences, and survives a restart; clearing the server returns to
// the demo server.
func TestSettingsSaveSwitchesServer(t *testing.T) {
	for _, tc := range []struct {
		name        string
		secrets     func(t *testing.T) secretStore
		warning     bool
		where       string
		storedKeyOf func(s secretStore, user string) string
	}{
		{"no keychain: the app's storage, with a warning",
			func(t *testing.T) secretStore { return newFileSecrets(filepath.Join(t.TempDir(), "apikeys.json")) },
			true, "kept in this app's storage",
			func(s secretStore, user string) string { k, _ := s.Get(user); return k }},
		{"the OS keychain",
			func(*testing.T) secretStore { return newFakeKeychain() },
			false, "kept in the system keychain",
			func(s secretStore, user string) string { return s.(*fakeKeychain).get(user) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			ui := screentest.New(t)
			url, key := otherServer(t)
			secrets := tc.secrets(t)
			ph := startPhone(t, ui, Config{secrets: secrets})
			ph.waitFor(t, "signed in", func(u *UI) bool { return strings.HasPrefix(u.Status.Text, "● Online as 1001 · demo") })
			assert.Equal(t, tc.warning, screentest.Get(ui, func() bool { return ph.p.UI.Settings.KeyWarning.Visible() }),
				"the warning shows whenever keys would go to the app's storage")

			ph.fillSettings(screens.Account{ServerURL: url, Name: "acme", APIKey: key, Number: "1003"})
			ph.waitFor(t, "signed in to the other server", func(u *UI) bool { return u.Status.Text == "● Online as 1003 · acme · "+url })
			ph.waitFor(t, "the form told", func(u *UI) bool { return u.Settings.Message.Text == "Signed in." })
			ui.Do(func() {
				s := ph.p.UI.Settings
				assert.Empty(t, s.APIKey.Text, "the key is not kept in the field")
				assert.True(t, s.APIKey.Password)
				assert.Equal(t, "API key ****"+key[len(key)-4:]+", "+tc.where+".", s.KeyInfo.Text)
				assert.NotContains(t, s.KeyInfo.Text+s.APIKey.PlaceHolder, key)
				assert.Equal(t, tc.warning, s.KeyWarning.Visible())
			})
			assert.Equal(t, key, tc.storedKeyOf(secrets, secretUser("acme", url)))
			prefs := ui.App().Preferences()
			assert.Equal(t, url, prefs.String(prefServerURL))
			assert.Equal(t, "acme", prefs.String(prefAccount))
			assert.Equal(t, "1003", prefs.String(prefNumber))
			for _, k := range []string{prefServerURL, prefAccount, prefNumber, prefHistory} {
				assert.NotContains(t, prefs.String(k), key)
			}
			ph.p.mu.Lock()
			assert.Nil(t, ph.p.server, "the demo server stopped")
			ph.p.mu.Unlock()

			// The SDK calls through the new server.
			ui.Do(func() { ph.p.UI.Tabs.Select(ph.p.UI.PhoneTab) })
			ph.dial(kindDID, "90000")
			ph.waitAnswered(t)
			ph.tap(func(u *UI) *widget.Button { return u.InCall.Hangup })
			ph.waitScreen(t, "dialer")

			// A restart signs in with the saved account and key.
			again := startPhone(t, ui, Config{secrets: secrets, Number: "1003"})
			again.waitFor(t, "signed in after a restart", func(u *UI) bool { return u.Status.Text == "● Online as 1003 · acme · "+url })
			assert.Equal(t, url, screentest.Get(ui, func() string { return again.p.UI.Settings.Server.Text }))
			ph.p.Stop() // one phone per number on the server

			// An empty server goes back to the demo server.
			again.fillSettings(screens.Account{Number: "1003"})
			again.waitFor(t, "back on the demo server", func(u *UI) bool {
				return u.Status.Text == "● Online as 1003 · demo · built-in demo server"
			})
		})
	}
}

func TestSettingsWrongKeyIsShown(t *testing.T) {
	ph := newSignedInPhone(t, "none")
	url, _ := otherServer(t)
	ph.fillSettings(screens.Account{ServerURL: url, Name: "acme", APIKey: "not-the-key", Number: "1001"})
	ph.waitFor(t, "the sign-in failure", func(u *UI) bool { return u.Status.Text == "Not signed in" })
	want := "Sign-in failed: check the account name and API key."
	ph.waitFor(t, "the form told", func(u *UI) bool { return u.Settings.Message.Text == want })
	assert.Equal(t, want, ph.text(func(u *UI) *widget.Label { return u.Errors }))
	assert.False(t, screentest.Get(ph.ui, func() bool { return ph.p.UI.Settings.Save.Disabled() }), "the form can be corrected")
}

func TestSettingsRequireASavedKey(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	ui := screentest.New(t)
	url, _ := otherServer(t)
	prefs := ui.App().Preferences()
	prefs.SetString(prefServerURL, url) // saved earlier, but its key is gone
	prefs.SetString(prefAccount, "acme")
	ph := startPhone(t, ui, Config{})
	ph.waitFor(t, "the sign-in failure", func(u *UI) bool { return u.Status.Text == "Not signed in" })
	assert.Equal(t, "No API key is saved for this account: enter it and save.", ph.text(func(u *UI) *widget.Label { return u.Settings.KeyInfo }))

	ph.fillSettings(screens.Account{ServerURL: url, Name: "acme", Number: "1001"})
	assert.Equal(t, screens.MsgFillRequired, ph.text(func(u *UI) *widget.Label { return u.Settings.Message }))
}

func TestKeysFromTheEnvironmentAreNotSaved(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	ui := screentest.New(t)
	url, key := otherServer(t)
	secrets := newFakeKeychain()
	ph := startPhone(t, ui, Config{ServerURL: url, Account: "acme", APIKey: key, secrets: secrets})
	ph.waitFor(t, "signed in", func(u *UI) bool { return u.Status.Text == "● Online as 1001 · acme · "+url })
	assert.Equal(t, "API key ****"+key[len(key)-4:]+", given at start (command line, environment or build setting).",
		ph.text(func(u *UI) *widget.Label { return u.Settings.KeyInfo }))

	// Saving the same account without typing the key keeps using it.
	ph.fillSettings(screens.Account{ServerURL: url, Name: "acme", Number: "1004"})
	ph.waitFor(t, "signed in as 1004", func(u *UI) bool { return u.Status.Text == "● Online as 1004 · acme · "+url })
	assert.Empty(t, secrets.get(secretUser("acme", url)), "a key given at start stays where it came from")
	require.Equal(t, "Signed in.", ph.text(func(u *UI) *widget.Label { return u.Settings.Message }))
}

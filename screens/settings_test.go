package screens

import (
	"errors"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/screens/screentest"
)

func TestAccountValidate(t *testing.T) {
	invalid := ErrorText(callcore.ErrInvalidInput)
	for _, tc := range []struct {
		name     string
		a        Account
		keySaved bool
		want     string
	}{
		{"the demo server needs only a number", Account{Number: "1001"}, false, ""},
		{"a server with everything", Account{ServerURL: "https://calls.example.com", Name: "acme", APIKey: "k", Number: "+4930123"}, false, ""},
		{"a saved key may be left out", Account{ServerURL: "https://calls.example.com:8443", Name: "acme", Number: "1001"}, true, ""},
		{"ws and http are servers too", Account{ServerURL: "http://127.0.0.1:8471", Name: "demo", APIKey: "k", Number: "1001"}, false, ""},
		{"blanks around are fine", Account{ServerURL: " https://x.example.com ", Name: " acme ", APIKey: " k ", Number: " 1001 "}, false, ""},

		{"no number", Account{}, false, MsgFillRequired},
		{"a blank number", Account{Number: "  "}, false, MsgFillRequired},
		{"letters in the number", Account{Number: "12ab"}, false, invalid},
		{"no account name", Account{ServerURL: "https://x.example.com", APIKey: "k", Number: "1"}, false, MsgFillRequired},
		{"no key and none saved", Account{ServerURL: "https://x.example.com", Name: "a", Number: "1"}, false, MsgFillRequired},
		{"no scheme", Account{ServerURL: "x.example.com", Name: "a", APIKey: "k", Number: "1"}, false, MsgBadServer},
		{"no host", Account{ServerURL: "https://", Name: "a", APIKey: "k", Number: "1"}, false, MsgBadServer},
		{"another scheme", Account{ServerURL: "ftp://x.example.com", Name: "a", APIKey: "k", Number: "1"}, false, MsgBadServer},
		{"a line break in the key", Account{ServerURL: "https://x.example.com", Name: "a", APIKey: "k\nX-Evil: 1", Number: "1"}, false, MsgFillRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.a.Validate(tc.keySaved))
		})
	}
}

func TestSettingsForm(t *testing.T) {
	ui := screentest.New(t)
	var saved []Account
	var saveErr error
	var s *Settings
	ui.Do(func() {
		s = NewSettings(func(a Account) error { saved = append(saved, a); return saveErr },
			func(server, account string) bool { return server == "https://calls.example.com" && account == "acme" })
	})

	ui.Do(func() {
		s.Load(Account{ServerURL: "https://calls.example.com", Name: "acme", Number: "1001"},
			KeyInfo{Saved: "****9xyz", Where: "kept in the system keychain"})
		assert.Equal(t, "https://calls.example.com", s.Server.Text)
		assert.Empty(t, s.APIKey.Text, "a saved key is never put back in the field")
		assert.True(t, s.APIKey.Password)
		assert.Equal(t, "Saved key ****9xyz (type to replace)", s.APIKey.PlaceHolder)
		assert.Equal(t, "API key ****9xyz, kept in the system keychain.", s.KeyInfo.Text)
		assert.False(t, s.KeyWarning.Visible())

		test.Tap(s.Save) // the saved key will do
		require.Len(t, saved, 1)
		assert.Equal(t, Account{ServerURL: "https://calls.example.com", Name: "acme", Number: "1001"}, saved[0])
		assert.Equal(t, "Saved. Signing in…", s.Message.Text)
		assert.True(t, s.Save.Disabled(), "until the sign-in is over")

		s.SignInResult(&callcore.Error{Kind: callcore.ErrInitializationFailed})
		assert.Equal(t, "Sign-in failed: check the account name and API key.", s.Message.Text)
		assert.Equal(t, widget.DangerImportance, s.Message.Importance)
		assert.False(t, s.Save.Disabled())

		test.Type(s.APIKey, "new-secret-key")
		test.Tap(s.Save)
		require.Len(t, saved, 2)
		assert.Equal(t, "new-secret-key", saved[1].APIKey)
		assert.Empty(t, s.APIKey.Text, "typed, saved, gone from sight")
		s.SignInResult(nil)
		assert.Equal(t, "Signed in.", s.Message.Text)

		s.Name.SetText("other") // no key saved for this account
		test.Tap(s.Save)
		assert.Len(t, saved, 2)
		assert.Equal(t, MsgFillRequired, s.Message.Text)

		saveErr = errors.New("the keychain is locked")
		s.Name.SetText("acme")
		test.Tap(s.Save)
		assert.Equal(t, "The settings could not be saved: the keychain is locked", s.Message.Text)
		saveErr = &callcore.Error{Kind: callcore.ErrCallInProgress}
		test.Tap(s.Save)
		assert.Equal(t, "A call is already in progress. End it first.", s.Message.Text)

		s.ShowKey(KeyInfo{Where: "The built-in demo server needs no account name or API key.", Insecure: true})
		assert.Equal(t, "API key", s.APIKey.PlaceHolder)
		assert.True(t, s.KeyWarning.Visible())
		assert.Equal(t, InsecureKeyWarning, s.KeyWarning.Text)
	})
}

func TestAudioSettings(t *testing.T) {
	ui := screentest.New(t)
	var chosen []DeviceSelection
	var stopped int
	var level func(float64)
	var a *AudioSettings
	ui.Do(func() {
		a = NewAudioSettings(func(s DeviceSelection) { chosen = append(chosen, s) },
			func(mic string, l func(float64)) (func(), error) {
				if mic == "broken" {
					return nil, &callcore.Error{Kind: callcore.ErrAudioSessionSetupFailed}
				}
				level = l
				return func() { stopped++ }, nil
			})
	})
	devs := []audio.DeviceInfo{
		{ID: "m1", Name: "Desk mic", Capture: true},
		{ID: "h1", Name: "Headset", Capture: true, Playback: true},
		{ID: "s1", Name: "Speakers", Playback: true},
		{ID: "broken", Name: "Broken mic", Capture: true},
	}
	ui.Do(func() {
		assert.Equal(t, "No sound devices were found. Connect a headset; calls use the system default meanwhile.", a.Note.Text)
		assert.Equal(t, []string{SystemDefault}, a.Microphone.Options)

		a.SetDevices(devs, nil, DeviceSelection{Microphone: "h1", Headset: "h1", Loudspeaker: "gone"})
		assert.Empty(t, chosen, "showing the choice is not choosing")
		assert.Equal(t, []string{SystemDefault, "Desk mic", "Headset", "Broken mic"}, a.Microphone.Options)
		assert.Equal(t, []string{SystemDefault, "Headset", "Speakers"}, a.Headset.Options)
		assert.Equal(t, "Headset", a.Microphone.Selected)
		assert.Equal(t, SystemDefault, a.Loudspeaker.Selected, "a device no longer there")
		assert.Empty(t, a.Note.Text)

		a.Loudspeaker.SetSelected("Speakers")
		require.Len(t, chosen, 1)
		assert.Equal(t, DeviceSelection{Microphone: "h1", Headset: "h1", Loudspeaker: "s1"}, chosen[0])

		test.Tap(a.Test)
		assert.True(t, a.Testing())
		assert.Equal(t, "Stop test", a.Test.Text)
	})
	level(-30) // from the capture goroutine
	ui.Flush()
	ui.Do(func() {
		assert.InDelta(t, 0.5, a.Level.Value, 1e-9, "-30 dBFS is half way up the bar")
		level(0)
	})
	ui.Flush()
	ui.Do(func() {
		assert.InDelta(t, 1, a.Level.Value, 1e-9)
		test.Tap(a.Test)
		assert.Equal(t, 1, stopped)
		assert.False(t, a.Testing())
		assert.Zero(t, a.Level.Value)
		level(-10) // a last reading after stop
	})
	ui.Flush()
	ui.Do(func() {
		assert.Zero(t, a.Level.Value, "a reading after stop does not refill the bar")
		a.Microphone.SetSelected("Broken mic")
		test.Tap(a.Test)
		assert.False(t, a.Testing())
		assert.Equal(t, "No usable microphone or speaker was found. Connect a headset and try again.", a.Note.Text)

		a.SetDevices(nil, errors.New("no backend"), DeviceSelection{})
		assert.Equal(t, "No sound devices could be listed (no backend). Calls use the system default.", a.Note.Text)
	})
}

package screens

import (
	"errors"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/wire"
)

// Account is what the account form edits. An empty ServerURL means the
// built-in demo server, which needs no account name or key.
type Account struct {
	ServerURL string
	Name      string
	APIKey    string // a new key typed in; "" keeps the saved one
	Number    string // the registered number
}

// Validation messages. Empty fields read as the guide's invalidInput
// example; a bad number as ErrorText's; a bad address points at the
// guide's first troubleshooting step (the URL including https://).
const (
	MsgFillRequired = "Please fill in all required fields."
	MsgBadServer    = "Check the server address: it starts with https://, for example https://calls.example.com."
)

// Validate returns what is wrong with a, in words for the user, or "".
// keySaved says whether a key is already saved for a's server and account.
func (a Account) Validate(keySaved bool) string {
	a = a.trimmed()
	if a.Number == "" || a.ServerURL != "" && (a.Name == "" || a.APIKey == "" && !keySaved) {
		return MsgFillRequired
	}
	if !wire.ValidNumber(a.Number) {
		return ErrorText(callcore.ErrInvalidInput)
	}
	if a.ServerURL != "" {
		u, err := url.Parse(a.ServerURL)
		if err != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" || u.Scheme == "wss" || u.Scheme == "ws") {
			return MsgBadServer
		}
	}
	if strings.ContainsAny(a.Name+a.APIKey, "\r\n\x00") {
		return MsgFillRequired
	}
	return ""
}

func (a Account) trimmed() Account {
	return Account{ServerURL: strings.TrimSpace(a.ServerURL), Name: strings.TrimSpace(a.Name),
		APIKey: strings.TrimSpace(a.APIKey), Number: strings.TrimSpace(a.Number)}
}

// KeyInfo says where the account's API key comes from, for the form.
type KeyInfo struct {
	Saved    string // the saved key, redacted ("****1a2b"); "" when none
	Where    string // "in the system keychain", "from the environment (ONECXI_API_KEY)"…
	Insecure bool   // kept in the app's storage, not a keychain: warn
}

// Settings is the account form: server, account name, API key (masked,
// never shown once saved), registered number. Saving re-initializes the
// SDK; the app reports the sign-in through SignInResult.
type Settings struct {
	save     func(Account) error
	keySaved func(server, account string) bool

	Server     *widget.Entry
	Name       *widget.Entry
	APIKey     *widget.Entry
	Number     *widget.Entry
	KeyInfo    *widget.Label
	KeyWarning *widget.Label
	Save       *widget.Button
	Message    *widget.Label
	content    fyne.CanvasObject
}

// InsecureKeyWarning is shown while keys are kept in the app's storage.
const InsecureKeyWarning = "⚠ No system keychain was found (on Linux: no Secret Service such as GNOME Keyring or KWallet is running). " +
	"The API key is kept in a file in this app's storage, readable by your user account only."

// NewSettings builds the form. save stores and applies an account (its
// error is shown); keySaved reports whether a key is saved for server and
// account, so the key field may be left empty.
func NewSettings(save func(Account) error, keySaved func(server, account string) bool) *Settings {
	s := &Settings{save: save, keySaved: keySaved}
	s.Server = widget.NewEntry()
	s.Server.SetPlaceHolder("Empty: the built-in demo server")
	s.Name = widget.NewEntry()
	s.Name.SetPlaceHolder("Account name")
	s.APIKey = widget.NewPasswordEntry()
	s.APIKey.SetPlaceHolder("API key")
	s.Number = widget.NewEntry()
	s.Number.SetPlaceHolder("Your registered number, e.g. 1001")
	s.KeyInfo = widget.NewLabel("")
	s.KeyInfo.Wrapping = fyne.TextWrapWord
	s.KeyInfo.Importance = widget.LowImportance
	s.KeyWarning = widget.NewLabel(InsecureKeyWarning)
	s.KeyWarning.Wrapping = fyne.TextWrapWord
	s.KeyWarning.Importance = widget.WarningImportance
	s.KeyWarning.Hide()
	s.Save = widget.NewButton("Save and sign in", s.onSave)
	s.Save.Importance = widget.HighImportance
	s.Message = widget.NewLabel("")
	s.Message.Wrapping = fyne.TextWrapWord
	for _, e := range []*widget.Entry{s.Server, s.Name, s.APIKey, s.Number} {
		e.OnSubmitted = func(string) { s.onSave() }
	}
	form := widget.NewForm(
		widget.NewFormItem("Server", s.Server),
		widget.NewFormItem("Account", s.Name),
		widget.NewFormItem("API key", s.APIKey),
		widget.NewFormItem("My number", s.Number),
	)
	s.content = container.NewVBox(form, s.KeyInfo, s.KeyWarning, s.Save, s.Message)
	return s
}

// Content is the form's root object.
func (s *Settings) Content() fyne.CanvasObject { return s.content }

// Load shows the account in use; the key field stays empty and says which
// key is saved instead.
func (s *Settings) Load(a Account, key KeyInfo) {
	s.Server.SetText(a.ServerURL)
	s.Name.SetText(a.Name)
	s.Number.SetText(a.Number)
	s.APIKey.SetText("")
	s.ShowKey(key)
}

// ShowKey says which key is in use and where it is kept.
func (s *Settings) ShowKey(key KeyInfo) {
	switch {
	case key.Saved != "":
		s.APIKey.SetPlaceHolder("Saved key " + key.Saved + " (type to replace)")
		s.KeyInfo.SetText("API key " + key.Saved + ", " + key.Where + ".")
	case key.Where != "":
		s.APIKey.SetPlaceHolder("API key")
		s.KeyInfo.SetText(key.Where)
	default:
		s.APIKey.SetPlaceHolder("API key")
		s.KeyInfo.SetText("")
	}
	if key.Insecure {
		s.KeyWarning.Show()
	} else {
		s.KeyWarning.Hide()
	}
}

// Form is what the fields hold now.
func (s *Settings) Form() Account {
	return Account{ServerURL: s.Server.Text, Name: s.Name.Text, APIKey: s.APIKey.Text, Number: s.Number.Text}.trimmed()
}

func (s *Settings) onSave() {
	a := s.Form()
	if msg := a.Validate(s.keySaved(a.ServerURL, a.Name)); msg != "" {
		s.Message.Importance = widget.DangerImportance
		s.Message.SetText(msg)
		return
	}
	if err := s.save(a); err != nil {
		s.Message.Importance = widget.DangerImportance
		if ce := (*callcore.Error)(nil); errors.As(err, &ce) {
			s.Message.SetText(ErrorText(err))
		} else { // the keychain or the disk: its own words say more
			s.Message.SetText("The settings could not be saved: " + err.Error())
		}
		return
	}
	s.APIKey.SetText("") // saved: never shown again
	s.Message.Importance = widget.MediumImportance
	s.Message.SetText("Saved. Signing in…")
	s.Save.Disable()
}

// SignInResult shows how signing in with the saved account went.
func (s *Settings) SignInResult(err error) {
	s.Save.Enable()
	if err != nil {
		s.Message.Importance = widget.DangerImportance
		s.Message.SetText(SignInErrorText(err))
		return
	}
	s.Message.Importance = widget.SuccessImportance
	s.Message.SetText("Signed in.")
}

// SignInErrorText is ErrorText for Initialize and ListenForIncomingCalls:
// their invalid input is the account, not a dialled number.
func SignInErrorText(err error) string {
	if callcore.KindOf(err) == callcore.ErrInvalidInput {
		return "Sign-in failed: check the server address, account name and API key."
	}
	return ErrorText(err)
}

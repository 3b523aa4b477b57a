package app

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/screens"
)

// UI is the main window: a status line, the current screen and an error
// line. It implements callcore.CallProgressCallback; every callback hops to
// the Fyne goroutine with fyne.Do before touching a widget.
type UI struct {
	app    fyne.App
	Window fyne.Window
	sdk    *callcore.SDK
	number string

	Dialer   *screens.Dialer
	InCall   *screens.InCall
	Incoming *screens.Incoming
	Status   *widget.Label
	Errors   *widget.Label
	body     *fyne.Container
	current  fyne.CanvasObject
}

var _ callcore.CallProgressCallback = (*UI)(nil)

// NewUI builds the window and its screens.
func NewUI(a fyne.App, sdk *callcore.SDK, number string) *UI {
	u := &UI{app: a, sdk: sdk, number: number}
	u.Window = a.NewWindow("OneCxi Phone")
	u.Dialer = screens.NewDialer(sdk, func() string { return u.number }, nil)
	u.InCall = screens.NewInCall(sdk)
	u.Incoming = screens.NewIncoming()
	u.Status = widget.NewLabel("Signing in…")
	u.Status.Truncation = fyne.TextTruncateEllipsis
	u.Errors = widget.NewLabel("")
	u.Errors.Wrapping = fyne.TextWrapWord
	u.body = container.NewStack()
	u.show(u.Dialer.Content())
	u.Window.SetContent(container.NewBorder(u.Status, u.Errors, nil, nil, container.NewPadded(u.body)))
	u.Window.Resize(fyne.NewSize(380, 640))
	u.Window.Canvas().SetOnTypedKey(u.onTypedKey)
	u.Window.Canvas().SetOnTypedRune(u.onTypedRune)
	return u
}

func (u *UI) show(o fyne.CanvasObject) {
	u.current = o
	u.body.Objects = []fyne.CanvasObject{o}
	u.body.Refresh()
}

// Showing reports which screen is up (for tests).
func (u *UI) Showing() fyne.CanvasObject { return u.current }

func (u *UI) onTypedKey(k *fyne.KeyEvent) {
	switch u.current {
	case u.Dialer.Content():
		u.Dialer.TypedKey(k)
	case u.InCall.Content():
		u.InCall.TypedKey(k)
	}
}

func (u *UI) onTypedRune(r rune) {
	switch u.current {
	case u.Dialer.Content():
		u.Dialer.TypedRune(r)
	case u.InCall.Content():
		u.InCall.TypedRune(r)
	}
}

// SignedIn shows who and where the phone is.
func (u *UI) SignedIn(account, server string, err error) {
	if err != nil {
		u.Status.SetText("Not signed in")
		u.Errors.SetText(screens.ErrorText(err))
		return
	}
	u.Status.SetText(fmt.Sprintf("● Online as %s · %s · %s", u.number, account, server))
}

// ShowIncoming is the platform's in-window incoming-call UI.
func (u *UI) ShowIncoming(call platform.IncomingCall, respond func(platform.Action)) {
	fyne.Do(func() {
		u.Incoming.Show(call, func(a platform.Action) {
			if a == platform.ActionDecline {
				u.show(u.Dialer.Content())
			}
			respond(a)
		})
		u.show(u.Incoming.Content())
		u.Window.RequestFocus()
	})
}

// DismissIncoming returns from the incoming screen if callID is on it.
func (u *UI) DismissIncoming(callID string) {
	fyne.Do(func() {
		if u.current == u.Incoming.Content() && u.Incoming.CallID() == callID {
			u.show(u.Dialer.Content())
		}
	})
}

// OnCallStatusChanged updates the toggles and brings up the in-call screen
// when a call begins.
func (u *UI) OnCallStatusChanged(s callcore.CallStatus) {
	fyne.Do(func() {
		if s.IsCallOngoing && u.current != u.InCall.Content() {
			u.InCall.Begin(s.CurrentDID, s.CallType)
			u.Errors.SetText("")
			u.show(u.InCall.Content())
		}
		u.InCall.Update(s)
	})
}

// OnCallStarted starts the call timer.
func (u *UI) OnCallStarted(t callcore.CallType, did, registeredNumber string) {
	fyne.Do(func() {
		if u.current != u.InCall.Content() {
			u.InCall.Begin(did, t)
			u.show(u.InCall.Content())
		}
		u.InCall.Started()
	})
}

// OnCallEnded resets everything and returns to the dialer.
func (u *UI) OnCallEnded(t callcore.CallType, did string) {
	fyne.Do(func() {
		u.InCall.Reset()
		u.show(u.Dialer.Content())
	})
}

// OnCallError shows what went wrong in words the user can act on.
func (u *UI) OnCallError(err error, t callcore.CallType) {
	fyne.Do(func() { u.Errors.SetText(screens.ErrorText(err)) })
}

// OnWebSocketStatusChanged reflects the call connection.
func (u *UI) OnWebSocketStatusChanged(connected bool) {
	fyne.Do(func() {
		if !connected && u.sdk.IsCallActive() {
			u.Errors.SetText("Connection to the server lost.")
		}
	})
}

// OnCallDeclined tells the caller.
func (u *UI) OnCallDeclined(t callcore.CallType, callFrom string) {
	fyne.Do(func() { u.Errors.SetText(callFrom + " declined the call.") })
}

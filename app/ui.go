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
	number string

	Dialer   *screens.Dialer
	InCall   *screens.InCall
	Incoming *screens.Incoming
	Status   *widget.Label
	Errors   *widget.Label
	body     *fyne.Container
	current  fyne.CanvasObject

	// Call state as the events tell it (not the SDK's state now, which may
	// be ahead of the events still queued).
	inCall    bool // the in-call screen belongs to a call
	accepting bool // an incoming call was accepted and has not begun yet
}

var _ callcore.CallProgressCallback = (*UI)(nil)

// NewUI builds the window and its screens.
func NewUI(a fyne.App, sdk *callcore.SDK, number string) *UI {
	u := &UI{app: a, number: number}
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
		u.Status.Importance = widget.DangerImportance
		u.Status.SetText("Not signed in")
		if callcore.KindOf(err) == callcore.ErrInvalidInput {
			u.Errors.SetText("Sign-in failed: check the server address, account name and API key.")
		} else {
			u.Errors.SetText(screens.ErrorText(err))
		}
		return
	}
	u.Status.Importance = widget.SuccessImportance
	u.Status.SetText(fmt.Sprintf("● Online as %s · %s · %s", u.number, account, server))
}

// home is the screen under the incoming-call screen: the call in progress,
// or the dialer.
func (u *UI) home() fyne.CanvasObject {
	if u.inCall {
		return u.InCall.Content()
	}
	return u.Dialer.Content()
}

// beginCall puts the in-call screen up for a call with who.
func (u *UI) beginCall(who string, t callcore.CallType) {
	u.inCall = true
	u.InCall.Begin(who, t)
	u.Errors.SetText("")
	u.Dialer.Message.SetText("")
	u.show(u.InCall.Content())
}

// endCall resets the in-call screen and returns to the dialer, unless an
// incoming call is on screen.
func (u *UI) endCall() {
	u.inCall, u.accepting = false, false
	u.InCall.Reset()
	if u.current != u.Incoming.Content() {
		u.show(u.Dialer.Content())
	}
}

// ShowIncoming is the platform's in-window incoming-call UI.
func (u *UI) ShowIncoming(call platform.IncomingCall, respond func(platform.Action)) {
	fyne.Do(func() {
		u.Incoming.Show(call, func(a platform.Action) {
			if a == platform.ActionAccept && !u.inCall {
				// Straight to the in-call screen, connecting; the SDK's status
				// events take over from here, or an error takes us back.
				t, err := callcore.ParsePushCallType(call.CallType)
				if err != nil {
					t = callcore.CallTypeAppToApp
				}
				u.beginCall(call.Handle, t)
				u.accepting = true
			} else {
				u.show(u.home())
			}
			respond(a)
		})
		u.show(u.Incoming.Content())
		u.Window.RequestFocus()
	})
}

// DismissIncoming returns from the incoming screen if callID is on it: the
// caller hung up, another device answered, or it stopped ringing.
func (u *UI) DismissIncoming(callID string) {
	fyne.Do(func() {
		if u.current == u.Incoming.Content() && u.Incoming.CallID() == callID {
			u.show(u.home())
		}
	})
}

// OnCallStatusChanged updates the toggles, brings up the in-call screen when
// a call begins and leaves it when the call is over, including a call that
// failed while connecting (which gets no onCallEnded).
func (u *UI) OnCallStatusChanged(s callcore.CallStatus) {
	fyne.Do(func() {
		if s.IsCallOngoing {
			u.accepting = false
			if !u.inCall {
				u.beginCall(s.CurrentDID, s.CallType)
			}
		}
		u.InCall.Update(s)
		if !s.IsCallOngoing && u.inCall && !u.accepting {
			u.endCall()
		}
	})
}

// OnCallStarted starts the call timer.
func (u *UI) OnCallStarted(t callcore.CallType, did, registeredNumber string) {
	fyne.Do(func() {
		if !u.inCall {
			u.beginCall(did, t)
		}
		u.InCall.Started()
	})
}

// OnCallEnded resets everything and returns to the dialer. An incoming call
// accepted meanwhile (its events follow this one) keeps its screen.
func (u *UI) OnCallEnded(t callcore.CallType, did string) {
	fyne.Do(func() {
		if !u.accepting {
			u.endCall()
		}
	})
}

// OnCallError shows what went wrong in words the user can act on. An
// accepted incoming call that failed before it began returns to the dialer.
func (u *UI) OnCallError(err error, t callcore.CallType) {
	fyne.Do(func() {
		u.Errors.SetText(screens.ErrorText(err))
		if u.accepting {
			u.endCall()
		}
	})
}

// OnWebSocketStatusChanged does nothing: the socket also closes at every
// normal end, and a lost connection arrives as OnCallError.
func (u *UI) OnWebSocketStatusChanged(connected bool) {}

// OnCallDeclined tells the caller.
func (u *UI) OnCallDeclined(t callcore.CallType, callFrom string) {
	fyne.Do(func() { u.Errors.SetText(callFrom + " declined the call.") })
}

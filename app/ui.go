package app

import (
	"fmt"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/screens"
)

// UI is the main window: the connection state on top (and a banner under it
// while the phone is offline), the Phone, History and Settings tabs, and an
// error line at the bottom, so the state and the last error are visible
// whatever the tab. It implements callcore.CallProgressCallback and the
// SDK's optional callbacks (listening, quality, reconnecting, end reason);
// every callback hops to the Fyne goroutine with fyne.Do before touching a
// widget.
type UI struct {
	app    fyne.App
	deps   uiDeps
	Window fyne.Window
	number string

	Dialer      *screens.Dialer
	InCall      *screens.InCall
	Incoming    *screens.Incoming
	History     *screens.History
	Settings    *screens.Settings
	Audio       *screens.AudioSettings
	Tabs        *container.AppTabs
	PhoneTab    *container.TabItem
	HistoryTab  *container.TabItem
	SettingsTab *container.TabItem
	Status      *widget.Label
	Offline     *screens.Banner // shown while signed in but not listening: calls cannot ring
	// DialLinks (Settings) makes a click-to-call link place its call at
	// once instead of only filling the dialer.
	DialLinks *widget.Check
	Errors    *widget.Label
	body      *fyne.Container
	current   fyne.CanvasObject
	tray      *tray // nil where the OS or driver has no system tray

	// Call state as the events tell it (not the SDK's state now, which may
	// be ahead of the events still queued).
	inCall    bool // the in-call screen belongs to a call
	accepting bool // an incoming call was accepted and has not begun yet

	// Connection state for the status line.
	signIn        signInState
	online        string // "● Online as 1001 · demo · built-in demo server"
	callConnected bool   // the call's WebSocket is open
	listening     bool   // the events connection is registered: calls ring here
	saving        bool   // Settings waits for the sign-in of a saved account

	calls      *callLog
	foreground atomic.Bool // the window has focus; read by the notifier's goroutine
}

type signInState int

const (
	signingIn signInState = iota
	signedIn
	signInFailed
)

// uiDeps is what the UI needs from the rest of the app.
type uiDeps struct {
	sdk     *callcore.SDK
	number  string
	history *callHistory
	ring    *ringer
	calls   func(done func(screens.CallRecord)) *callLog

	saveAccount   func(screens.Account) error
	keySaved      func(server, account string) bool
	chooseDevices func(screens.DeviceSelection)
	listDevices   func() ([]audio.DeviceInfo, error)
	devices       func() screens.DeviceSelection
	testMic       func(mic string, level func(dBFS float64)) (stop func(), err error)
	quit          func()
	setTray       func(*fyne.Menu) // nil: no system tray
}

var (
	_ callcore.CallProgressCallback = (*UI)(nil)
	_ callcore.ListeningCallback    = (*UI)(nil)
	_ callcore.QualityCallback      = (*UI)(nil)
	_ callcore.ReconnectCallback    = (*UI)(nil)
	_ callcore.EndReasonCallback    = (*UI)(nil)
)

// NewUI builds the window, its tabs and screens.
func NewUI(a fyne.App, d uiDeps) *UI {
	u := &UI{app: a, deps: d, number: d.number}
	u.foreground.Store(true) // the window opens focused
	u.calls = d.calls(u.recordCall)
	u.Window = a.NewWindow("OneCxi Phone")
	u.Dialer = screens.NewDialer(d.sdk, func() string { return u.number }, u.calls)
	u.InCall = screens.NewInCall(d.sdk)
	u.Incoming = screens.NewIncoming()
	u.History = screens.NewHistory(u.onRedial, u.onClearHistory)
	u.Settings = screens.NewSettings(u.onSaveAccount, d.keySaved)
	u.Audio = screens.NewAudioSettings(d.chooseDevices, d.testMic)
	u.DialLinks = widget.NewCheck("Call click-to-call links at once (tel:, callto:, sip:)", nil)
	u.DialLinks.SetChecked(a.Preferences().Bool(prefDialLinks))
	u.DialLinks.OnChanged = func(on bool) { a.Preferences().SetBool(prefDialLinks, on) }
	u.Status = widget.NewLabel("")
	u.Status.Truncation = fyne.TextTruncateEllipsis
	u.Offline = screens.NewBanner(theme.WarningIcon(), theme.ColorNameWarning, theme.ColorNameForegroundOnWarning)
	u.Errors = widget.NewLabel("")
	u.Errors.Wrapping = fyne.TextWrapWord
	u.Errors.Importance = widget.DangerImportance
	u.body = container.NewStack()
	u.show(u.Dialer.Content())

	u.PhoneTab = container.NewTabItemWithIcon("Phone", screens.PhoneIcon, container.NewPadded(u.body))
	u.HistoryTab = container.NewTabItemWithIcon("History", theme.HistoryIcon(), u.History.Content())
	u.SettingsTab = container.NewTabItemWithIcon("Settings", theme.SettingsIcon(), container.NewVScroll(container.NewVBox(
		widget.NewCard("Account", "", u.Settings.Content()),
		widget.NewCard("Sound", "", u.Audio.Content()),
		widget.NewCard("Click-to-call", "", container.NewVBox(u.DialLinks,
			widget.NewLabel("Off: a link puts the number in the dialer, and you press Call."))),
	)))
	u.Tabs = container.NewAppTabs(u.PhoneTab, u.HistoryTab, u.SettingsTab)
	u.Tabs.OnSelected = u.onTab
	u.Window.SetContent(container.NewBorder(container.NewVBox(u.Status, u.Offline), u.Errors, nil, nil, u.Tabs))
	u.Window.Resize(fyne.NewSize(400, 680))
	u.Window.Canvas().SetOnTypedKey(u.onTypedKey)
	u.Window.Canvas().SetOnTypedRune(u.onTypedRune)
	u.Window.SetCloseIntercept(u.onCloseRequest)
	if d.setTray != nil {
		u.tray = newTray(d.setTray, u.onShowWindow, u.InCall.Hangup.OnTapped, u.onQuitRequest)
	}
	u.historyChanged()
	u.refreshStatus()
	return u
}

func (u *UI) show(o fyne.CanvasObject) {
	u.current = o
	u.body.Objects = []fyne.CanvasObject{o}
	u.body.Refresh()
}

// Showing reports which screen the Phone tab shows (for tests).
func (u *UI) Showing() fyne.CanvasObject { return u.current }

func (u *UI) onTab(t *container.TabItem) {
	if t != u.SettingsTab {
		u.Audio.StopTest()
		return
	}
	// Devices come and go (a headset plugged in): list them afresh.
	go func() {
		devs, err := u.deps.listDevices()
		fyne.Do(func() { u.Audio.SetDevices(devs, err, u.deps.devices()) })
	}()
}

func (u *UI) onTypedKey(k *fyne.KeyEvent) {
	if u.Tabs.Selected() != u.PhoneTab {
		return
	}
	switch u.current {
	case u.Dialer.Content():
		u.Dialer.TypedKey(k)
	case u.InCall.Content():
		u.InCall.TypedKey(k)
	}
}

func (u *UI) onTypedRune(r rune) {
	if u.Tabs.Selected() != u.PhoneTab {
		return
	}
	switch u.current {
	case u.Dialer.Content():
		u.Dialer.TypedRune(r)
	case u.InCall.Content():
		u.InCall.TypedRune(r)
	}
}

// onCloseRequest is the window's close button. With a tray it hides the
// window (calls still ring, the tray brings it back); without one it quits.
// A live call is never cut off silently: closing asks first — with a tray,
// hang up or keep the call and hide; without one, hang up and quit or stay.
func (u *UI) onCloseRequest() {
	inCall := u.deps.sdk.IsCallActive()
	switch {
	case !inCall && u.tray != nil:
		u.Window.Hide()
	case !inCall:
		u.deps.quit()
	case u.tray != nil:
		d := dialog.NewCustomConfirm("A call is in progress",
			"Hang up", "Keep the call",
			widget.NewLabel("Hide the window and keep talking (the tray brings it back), or hang up?"),
			func(hangUp bool) {
				if hangUp {
					u.InCall.Hangup.OnTapped()
				}
				u.Window.Hide()
			}, u.Window)
		d.Show()
	default:
		dialog.ShowConfirm("End the call?", "Closing OneCxi Phone hangs up the call in progress.", func(ok bool) {
			if ok {
				u.deps.quit()
			}
		}, u.Window)
	}
}

// onQuitRequest is the tray's Quit: it quits, asking first when a call
// would be cut off (the window comes up for the question).
func (u *UI) onQuitRequest() {
	if !u.deps.sdk.IsCallActive() {
		u.deps.quit()
		return
	}
	u.onShowWindow()
	dialog.ShowConfirm("Quit and hang up?", "Quitting OneCxi Phone hangs up the call in progress.", func(ok bool) {
		if ok {
			u.deps.quit()
		}
	}, u.Window)
}

func (u *UI) onShowWindow() {
	u.Window.Show()
	u.Window.RequestFocus()
}

// SigningIn shows that the phone is (re)connecting.
func (u *UI) SigningIn() {
	u.signIn = signingIn
	u.refreshStatus()
}

// SignedIn shows who and where the phone is, or why it is not signed in.
func (u *UI) SignedIn(account, server string, err error) {
	if u.saving {
		u.saving = false
		u.Settings.SignInResult(err)
	}
	if err != nil {
		u.signIn = signInFailed
		u.Errors.SetText(screens.SignInErrorText(err))
		u.refreshStatus()
		return
	}
	u.signIn = signedIn
	u.listening = true // sign-in includes ListenForIncomingCalls
	u.online = fmt.Sprintf("● Online as %s · %s · %s", u.number, account, server)
	u.Errors.SetText("")
	u.refreshStatus()
}

// Texts of the connection state.
const (
	// offlineStatus is the status line while the events connection is
	// down; offlineBanner, under it, says what that means.
	offlineStatus = "○ Offline: reconnecting…"
	offlineBanner = "Offline — incoming calls can't ring here until the connection is back. Reconnecting…"
	// callReconnectingStatus is the status line while the call's own
	// connection is being restored (the in-call screen's banner says so too).
	callReconnectingStatus = "○ Call connection lost: reconnecting…"
)

// refreshStatus shows the sign-in and connection state, in the window and
// the tray, and the offline banner while incoming calls cannot ring.
func (u *UI) refreshStatus() {
	var text string
	offline := false
	switch u.signIn {
	case signingIn:
		text = "Signing in…"
		u.Status.Importance = widget.MediumImportance
	case signInFailed:
		text = "Not signed in"
		u.Status.Importance = widget.DangerImportance
	case signedIn:
		text = u.online
		u.Status.Importance = widget.SuccessImportance
		if !u.listening {
			text, offline = offlineStatus, true
			u.Status.Importance = widget.WarningImportance
		}
		if u.inCall && u.callConnected && u.listening {
			// The account and server would push this off a narrow window.
			text = fmt.Sprintf("● Online as %s · call connected", u.number)
		}
	}
	if u.inCall && u.InCall.IsReconnecting() {
		text = callReconnectingStatus
		u.Status.Importance = widget.WarningImportance
	}
	banner := ""
	if offline {
		banner = offlineBanner
	}
	if u.Offline.Set(banner) {
		u.Window.Content().Refresh()
	}
	u.Status.SetText(text)
	if u.tray != nil {
		u.tray.update(text, u.inCall)
	}
}

// home is the screen under the incoming-call screen: the call in progress,
// or the dialer.
func (u *UI) home() fyne.CanvasObject {
	if u.inCall {
		return u.InCall.Content()
	}
	return u.Dialer.Content()
}

// beginCall puts the in-call screen up for a call with who. The dialer's
// message is left alone: it belongs to the dialer's Start, whose result may
// arrive before this call's first event (a start that failed at once).
func (u *UI) beginCall(who string, t callcore.CallType) {
	u.inCall = true
	u.InCall.Begin(who, t)
	u.Errors.SetText("")
	u.deps.ring.stop() // the in-call screen replaces any ringing one
	u.Audio.StopTest() // the call needs the microphone
	u.show(u.InCall.Content())
	u.Tabs.Select(u.PhoneTab)
	u.refreshStatus()
}

// endCall resets the in-call screen and returns to the dialer, unless an
// incoming call is on screen.
func (u *UI) endCall() {
	u.inCall, u.accepting, u.callConnected = false, false, false
	u.InCall.Reset()
	u.calls.ended()
	if u.current != u.Incoming.Content() {
		u.show(u.Dialer.Content())
	}
	u.refreshStatus()
}

// ShowIncoming is the platform's in-window incoming-call UI: the Phone tab
// shows the call and the ringtone plays until it is answered, declined or
// dismissed.
func (u *UI) ShowIncoming(call platform.IncomingCall, respond func(platform.Action)) {
	fyne.Do(func() {
		u.calls.ringingCall(call)
		u.Incoming.Show(call, func(a platform.Action) {
			u.deps.ring.stop()
			switch {
			case a == platform.ActionAccept && !u.inCall:
				// Straight to the in-call screen, connecting; the SDK's status
				// events take over from here, or an error takes us back.
				t, err := callcore.ParsePushCallType(call.CallType)
				if err != nil {
					t = callcore.CallTypeAppToApp
				}
				u.calls.accepted(call.CallID)
				u.Dialer.Message.SetText("") // an old dialling error is no longer news
				u.beginCall(call.Handle, t)
				u.accepting = true
			case a == platform.ActionDecline:
				u.calls.declinedIncoming(call.CallID)
				u.show(u.home())
			default:
				u.show(u.home())
			}
			respond(a)
		})
		u.show(u.Incoming.Content())
		u.Tabs.Select(u.PhoneTab)
		u.deps.ring.start()
		u.Window.Show()
		u.Window.RequestFocus()
	})
}

// DismissIncoming returns from the incoming screen if callID is on it: the
// caller hung up, another device answered, or it stopped ringing.
func (u *UI) DismissIncoming(callID string) {
	fyne.Do(func() {
		u.calls.gone(callID)
		if u.Incoming.CallID() != callID {
			return
		}
		u.deps.ring.stop()
		if u.current == u.Incoming.Content() {
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
		u.refreshStatus() // a call reconnecting, or back
	})
}

// OnCallStarted starts the call timer.
func (u *UI) OnCallStarted(t callcore.CallType, did, registeredNumber string) {
	fyne.Do(func() {
		if !u.inCall {
			u.beginCall(did, t)
		}
		u.InCall.Started()
		u.calls.answered()
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
		if u.inCall {
			u.calls.callFailed()
		}
		if u.accepting {
			u.endCall()
		}
	})
}

// OnListeningChanged shows whether incoming calls can ring: the SDK's events
// connection is lost (the SDK reconnects with backoff) or back.
func (u *UI) OnListeningChanged(connected bool) {
	fyne.Do(func() {
		u.listening = connected
		u.refreshStatus()
	})
}

// OnCallQuality shows each second's call quality sample on the in-call
// screen's indicator.
func (u *UI) OnCallQuality(q callcore.CallQuality) {
	fyne.Do(func() {
		if u.inCall {
			u.InCall.SetQuality(q)
		}
	})
}

// OnQualityWarning needs nothing more: the sample delivered just before it
// already lists the warnings active, and the indicator shows them.
func (u *UI) OnQualityWarning(callcore.QualityWarning, bool) {}

// OnWebSocketStatusChanged shows whether the call's connection is up. (The
// phone's own sign-in connection is shown by SignedIn. A lost call
// connection is being restored, OnCallReconnecting, or if it cannot be,
// arrives as OnCallError.)
func (u *UI) OnWebSocketStatusChanged(connected bool) {
	fyne.Do(func() {
		u.callConnected = connected
		u.refreshStatus()
	})
}

// OnCallDeclined tells the caller.
func (u *UI) OnCallDeclined(t callcore.CallType, callFrom string) {
	fyne.Do(func() {
		u.calls.calleeDeclined()
		u.Errors.SetText(callFrom + " declined the call.")
	})
}

// recordCall adds a finished call to the history.
func (u *UI) recordCall(r screens.CallRecord) {
	u.deps.history.add(r)
	u.historyChanged()
}

func (u *UI) historyChanged() {
	recs := u.deps.history.all()
	u.History.Set(recs)
	u.Dialer.SetRecent(recs)
}

func (u *UI) onClearHistory() {
	u.deps.history.clear()
	u.historyChanged()
}

// onRedial calls a number from the history back.
func (u *UI) onRedial(r screens.CallRecord) {
	u.Tabs.Select(u.PhoneTab)
	if u.inCall {
		u.Errors.SetText(screens.ErrorText(callcore.ErrCallInProgress))
		return
	}
	u.Dialer.Redial(r.Number, r.Type)
}

// onSaveAccount stores the account and signs in with it; SignedIn reports
// the outcome to the Settings tab.
func (u *UI) onSaveAccount(a screens.Account) error {
	if err := u.deps.saveAccount(a); err != nil {
		return err
	}
	u.number = a.Number
	u.saving = true
	u.SigningIn()
	return nil
}

package screens

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onecxi/phone/callcore"
)

// Dialer is the idle screen: call type, number, keypad, call button.
type Dialer struct {
	sdk     *callcore.SDK
	own     func() string // this user's registered number
	track   DialTracker
	placing bool // a Start call is under way

	Kind    *widget.Select
	Number  *widget.Entry
	Recent  *fyne.Container // buttons of the last numbers called
	Call    *widget.Button
	Keypad  *Keypad
	Message *widget.Label
	content fyne.CanvasObject
}

// recentMax is how many recent numbers the dialer offers.
const recentMax = 3

// DialTracker is told of each call the dialer places (the call history):
// Dialing before Start is called, Dialed with its result. Both run on the
// UI goroutine.
type DialTracker interface {
	Dialing(number string, t callcore.CallType)
	Dialed(err error)
}

// NewDialer builds the dialer. own returns the registered number to call
// from; track (may be nil) follows the calls placed.
func NewDialer(sdk *callcore.SDK, own func() string, track DialTracker) *Dialer {
	d := &Dialer{sdk: sdk, own: own, track: track}
	d.Number = widget.NewEntry()
	d.Number.OnSubmitted = func(string) { d.onCall() }
	d.Number.OnChanged = func(string) { // a new number: the last error no longer applies
		if !d.placing {
			d.say("")
		}
	}
	labels := make([]string, len(CallChoices))
	for i, c := range CallChoices {
		labels[i] = c.Label
	}
	d.Kind = widget.NewSelect(labels, func(label string) { d.Number.SetPlaceHolder(choiceByLabel(label).Hint) })
	d.Kind.SetSelectedIndex(0)
	d.Call = widget.NewButtonWithIcon("Call", callIcon, d.onCall)
	d.Call.Importance = widget.SuccessImportance
	d.Keypad = NewKeypad(d.onDigit)
	d.Message = widget.NewLabel("")
	d.Message.Wrapping = fyne.TextWrapWord
	d.Recent = container.NewHBox()
	d.content = container.NewBorder(
		container.NewVBox(d.Kind, textSized(d.Number, numberTextSize), d.Recent),
		container.NewVBox(tall(d.Call, bigButtonH), d.Message),
		nil, nil,
		d.Keypad.Content(), // the keys take the height that is left
	)
	return d
}

// Content is the screen's root object.
func (d *Dialer) Content() fyne.CanvasObject { return d.content }

func (d *Dialer) onDigit(digit string) { d.Number.SetText(d.Number.Text + digit) }

// Say shows a message under the Call button in the ordinary colour.
func (d *Dialer) Say(text string) { d.say(text) }

// say shows a message under the Call button in the ordinary colour.
func (d *Dialer) say(text string) {
	d.Message.Importance = widget.MediumImportance
	d.Message.SetText(text)
}

// ShowEnded says why the last call ended, in the warning colour when it
// failed (the connection lost, the server gone) rather than was hung up.
// The next number typed or call placed replaces it.
func (d *Dialer) ShowEnded(r callcore.EndReason) {
	d.Message.Importance = endedImportance(r)
	d.Message.SetText(EndedText(r))
}

// onCall places the call. It runs the SDK call off the UI goroutine: placing
// an app-to-app call waits for the server's first reply. The SDK checks the
// number; its ErrInvalidInput is shown like any other error.
func (d *Dialer) onCall() {
	if d.placing { // Enter pressed again while the button is disabled
		return
	}
	number := strings.TrimSpace(d.Number.Text)
	choice := choiceByLabel(d.Kind.Selected)
	own := d.own()
	if choice.Type == callcore.CallTypeAppToApp && number != "" && number == own {
		d.say("That is your own number. Enter a colleague's registered number.")
		return
	}
	d.placing = true
	if d.track != nil {
		d.track.Dialing(number, choice.Type)
	}
	d.say(strings.TrimSpace("Calling "+number) + "…")
	d.Call.Disable()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		var err error
		switch choice.Type {
		case callcore.CallTypeInbound:
			err = d.sdk.StartInBoundCall(ctx, number, own)
		case callcore.CallTypeOutbound:
			err = d.sdk.StartOutBoundCall(ctx, number, own)
		case callcore.CallTypeAppToApp:
			if choice.Answer { // the caller's number is the caller ID to show
				err = d.sdk.StartAppToAppOutboundCall(ctx, number, own, number)
			} else {
				err = d.sdk.StartAppToAppInboundCall(ctx, number, own)
			}
		}
		fyne.Do(func() {
			d.placing = false
			d.Call.Enable()
			if d.track != nil {
				d.track.Dialed(err)
			}
			if err != nil {
				d.say(ErrorText(err))
				return
			}
			d.say("")
		})
	}()
}

// SetRecent offers the numbers of the latest records (newest first), each
// once, as buttons that fill in the number and its call type.
func (d *Dialer) SetRecent(records []CallRecord) {
	d.Recent.RemoveAll()
	seen := map[string]bool{}
	for _, r := range records {
		if len(seen) == recentMax {
			break
		}
		if seen[r.Number] || r.Number == "" {
			continue
		}
		seen[r.Number] = true
		b := widget.NewButtonWithIcon(r.Number, theme.HistoryIcon(), func() { d.Fill(r.Number, r.Type) })
		b.Importance = widget.LowImportance
		d.Recent.Add(b)
	}
	d.Recent.Refresh()
}

// Fill puts number in the field with the call type that calls it.
func (d *Dialer) Fill(number string, t callcore.CallType) {
	d.Kind.SetSelected(choiceFor(t).Label)
	d.Number.SetText(number)
}

// Redial fills in number and calls it.
func (d *Dialer) Redial(number string, t callcore.CallType) {
	d.Fill(number, t)
	d.onCall()
}

// TypedKey handles desktop keyboard entry: digits, Enter to call.
func (d *Dialer) TypedKey(k *fyne.KeyEvent) {
	switch k.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		d.onCall()
	case fyne.KeyBackspace:
		if r := []rune(d.Number.Text); len(r) > 0 {
			d.Number.SetText(string(r[:len(r)-1]))
		}
	}
}

// TypedRune adds typed digits when the number field is not focused.
func (d *Dialer) TypedRune(r rune) {
	if strings.ContainsRune("0123456789*#+", r) {
		d.onDigit(string(r))
	}
}

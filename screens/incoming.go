package screens

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onecxi/phone/platform"
)

// Incoming is the ringing screen: who calls, accept, decline.
type Incoming struct {
	respond func(platform.Action)
	call    platform.IncomingCall

	Caller  *widget.Label
	Number  *widget.Label
	Accept  *widget.Button
	Decline *widget.Button
	content fyne.CanvasObject
}

// NewIncoming builds the incoming-call screen.
func NewIncoming() *Incoming {
	in := &Incoming{}
	in.Caller = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	in.Number = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	in.Accept = widget.NewButtonWithIcon("Accept", theme.ConfirmIcon(), func() { in.answer(platform.ActionAccept) })
	in.Accept.Importance = widget.SuccessImportance
	in.Decline = widget.NewButtonWithIcon("Decline", theme.CancelIcon(), func() { in.answer(platform.ActionDecline) })
	in.Decline.Importance = widget.DangerImportance
	in.content = container.NewVBox(
		widget.NewLabelWithStyle("Incoming call", fyne.TextAlignCenter, fyne.TextStyle{Italic: true}),
		in.Caller, in.Number, container.NewGridWithColumns(2, in.Decline, in.Accept))
	return in
}

// Content is the screen's root object.
func (in *Incoming) Content() fyne.CanvasObject { return in.content }

// Show presents call; respond receives the user's answer once.
func (in *Incoming) Show(call platform.IncomingCall, respond func(platform.Action)) {
	in.call, in.respond = call, respond
	name := call.CallerName
	if name == "" {
		name = call.Handle
	}
	in.Caller.SetText(name)
	in.Number.SetText(call.Handle)
}

// CallID is the call on screen.
func (in *Incoming) CallID() string { return in.call.CallID }

func (in *Incoming) answer(a platform.Action) {
	if r := in.respond; r != nil {
		in.respond = nil
		r(a)
	}
}

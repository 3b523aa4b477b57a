package screens

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/platform"
)

// Incoming is the ringing screen: who calls, accept, decline.
type Incoming struct {
	respond func(platform.Action)
	call    platform.IncomingCall

	Title   *widget.Label // "Incoming app call"
	Caller  *widget.Label // the caller's name, or number
	Number  *widget.Label // the number under a name
	Accept  *widget.Button
	Decline *widget.Button
	content fyne.CanvasObject
}

// NewIncoming builds the incoming-call screen.
func NewIncoming() *Incoming {
	in := &Incoming{}
	in.Caller = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	in.Caller.SizeName = theme.SizeNameHeadingText
	in.Caller.Truncation = fyne.TextTruncateEllipsis
	in.Number = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	in.Accept = widget.NewButtonWithIcon("Accept", callIcon, func() { in.answer(platform.ActionAccept) })
	in.Accept.Importance = widget.SuccessImportance
	in.Decline = widget.NewButtonWithIcon("Decline", hangupIcon, func() { in.answer(platform.ActionDecline) })
	in.Decline.Importance = widget.DangerImportance
	in.Title = widget.NewLabelWithStyle("Incoming call", fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	in.content = container.NewBorder(
		in.Title,
		tall(container.NewGridWithColumns(2, in.Decline, in.Accept), bigButtonH),
		nil, nil,
		container.NewVBox(layout.NewSpacer(), in.Caller, in.Number, layout.NewSpacer()))
	return in
}

// Content is the screen's root object.
func (in *Incoming) Content() fyne.CanvasObject { return in.content }

// Show presents call; respond receives the user's answer once.
func (in *Incoming) Show(call platform.IncomingCall, respond func(platform.Action)) {
	in.call, in.respond = call, respond
	in.Title.SetText(incomingTitle(call.CallType))
	if call.CallerName != "" && call.CallerName != call.Handle {
		in.Caller.SetText(call.CallerName)
		in.Number.SetText(call.Handle)
	} else {
		in.Caller.SetText(call.Handle)
		in.Number.SetText("")
	}
}

// CallID is the call on screen.
func (in *Incoming) CallID() string { return in.call.CallID }

func (in *Incoming) answer(a platform.Action) {
	if r := in.respond; r != nil {
		in.respond = nil
		r(a)
	}
}

// incomingTitle says what kind of call rings, from the push's call type.
func incomingTitle(pushType string) string {
	t, _ := callcore.ParsePushCallType(pushType)
	switch t {
	case callcore.CallTypeAppToApp:
		return "Incoming app call"
	case callcore.CallTypeOutbound:
		return "Incoming phone call"
	case callcore.CallTypeInbound:
		return "Incoming call from a service number"
	}
	return "Incoming call"
}

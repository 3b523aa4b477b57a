package screens

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Phone icons (Material Design "call" and "call_end", Apache License 2.0):
// Fyne's theme has none. Themed, so they take the button's text colour.
var (
	callIcon = theme.NewThemedResource(fyne.NewStaticResource("call.svg", []byte(
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="#000000" d="M20.01 15.38c-1.23 0-2.42-.2-3.53-.56-.35-.12-.74-.03-1.01.24l-1.57 1.97c-2.83-1.35-5.48-3.9-6.89-6.83l1.95-1.66c.27-.28.35-.67.24-1.02-.37-1.11-.56-2.3-.56-3.53 0-.54-.45-.99-.99-.99H4.19C3.65 3 3 3.24 3 3.99 3 13.28 10.73 21 20.01 21c.71 0 .99-.63.99-1.18v-3.45c0-.54-.45-.99-.99-.99z"/></svg>`)))
	hangupIcon = theme.NewThemedResource(fyne.NewStaticResource("call_end.svg", []byte(
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="#000000" d="M12 9c-1.6 0-3.15.25-4.6.72v3.1c0 .39-.23.74-.56.9-.98.49-1.87 1.12-2.66 1.85-.18.18-.43.28-.7.28-.28 0-.53-.11-.71-.29L.29 13.08c-.18-.17-.29-.42-.29-.7 0-.28.11-.53.29-.71C3.34 8.78 7.46 7 12 7s8.66 1.78 11.71 4.67c.18.18.29.43.29.71 0 .28-.11.53-.29.71l-2.48 2.48c-.18.18-.43.29-.71.29-.27 0-.52-.11-.7-.28-.79-.74-1.69-1.36-2.67-1.85-.33-.16-.56-.5-.56-.9v-3.1C15.15 9.25 13.6 9 12 9z"/></svg>`)))
)

// History icons (Material Design "call_made" and "call_received", Apache
// License 2.0).
var (
	callMadeIcon = theme.NewThemedResource(fyne.NewStaticResource("call_made.svg", []byte(
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="#000000" d="M9 5v2h6.59L4 18.59 5.41 20 17 8.41V15h2V5z"/></svg>`)))
	callReceivedIcon = theme.NewThemedResource(fyne.NewStaticResource("call_received.svg", []byte(
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="#000000" d="M20 5.41L18.59 4 7 15.59V9H5v10h10v-2H8.41z"/></svg>`)))
)

// PhoneIcon is the Phone tab's icon: the handset of the Call button.
var PhoneIcon fyne.Resource = callIcon

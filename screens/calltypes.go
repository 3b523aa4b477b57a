package screens

import "github.com/onecxi/phone/callcore"

// CallChoice is one of the dialer's call types in plain language.
type CallChoice struct {
	Label string
	Type  callcore.CallType
	Hint  string // placeholder for the number field
	// Answer joins a call ringing from the number (StartAppToAppOutboundCall)
	// instead of placing one: for a colleague's call whose ringing screen
	// was missed here.
	Answer bool
}

// CallChoices are the guide's four call types, in menu order. The fourth,
// answering an app-to-app call, usually happens on the incoming screen; the
// dialer offers it for a call still ringing from a colleague.
var CallChoices = []CallChoice{
	{Label: "Service number (DID)", Type: callcore.CallTypeInbound, Hint: "Service number, e.g. 90000 echo test"},
	{Label: "Phone number", Type: callcore.CallTypeOutbound, Hint: "Phone number, e.g. +14155550100"},
	{Label: "App user", Type: callcore.CallTypeAppToApp, Hint: "Colleague's registered number"},
	{Label: "Answer an app user's call", Type: callcore.CallTypeAppToApp, Hint: "Number of the colleague calling you", Answer: true},
}

func choiceByLabel(label string) CallChoice {
	for _, c := range CallChoices {
		if c.Label == label {
			return c
		}
	}
	return CallChoices[0]
}

// choiceFor is the choice that calls a number from the history back.
func choiceFor(t callcore.CallType) CallChoice {
	for _, c := range CallChoices {
		if c.Type == t && !c.Answer {
			return c
		}
	}
	return CallChoices[0]
}

package screens

import "github.com/onecxi/phone/callcore"

// CallChoice is one of the dialer's call types in plain language.
type CallChoice struct {
	Label string
	Type  callcore.CallType
	Hint  string // placeholder for the number field
}

// CallChoices are the dialer's call types, in menu order. Answering an
// app-to-app call (the guide's fourth type) happens on the incoming screen.
var CallChoices = []CallChoice{
	{"Service number (DID)", callcore.CallTypeInbound, "Service number, e.g. 90000 echo test"},
	{"Phone number", callcore.CallTypeOutbound, "Phone number, e.g. +14155550100"},
	{"App user", callcore.CallTypeAppToApp, "Colleague's registered number"},
}

func choiceByLabel(label string) CallChoice {
	for _, c := range CallChoices {
		if c.Label == label {
			return c
		}
	}
	return CallChoices[0]
}

package callcore

import (
	"fmt"

	"github.com/onecxi/phone/wire"
)

// CallType is the guide's call type. The zero value, CallTypeNone, means no
// call (the guide's null).
type CallType int

// Call types.
const (
	CallTypeNone     CallType = iota // no call
	CallTypeInbound                  // app dials a server DID
	CallTypeOutbound                 // app dials a phone number via the server
	CallTypeAppToApp                 // app-to-app, either direction
)

// String returns the guide's CallStatus.callType spelling: "inbound",
// "outbound", "app_to_app", or "" for CallTypeNone.
func (t CallType) String() string {
	switch t {
	case CallTypeNone:
		return ""
	case CallTypeInbound:
		return "inbound"
	case CallTypeOutbound:
		return "outbound"
	case CallTypeAppToApp:
		return "app_to_app"
	}
	return fmt.Sprintf("CallType(%d)", int(t))
}

// PushString returns the push payload spelling: "Inbound", "Outbound",
// "APPTOAPP", or "" for CallTypeNone.
func (t CallType) PushString() string {
	switch t {
	case CallTypeInbound:
		return wire.PushInbound
	case CallTypeOutbound:
		return wire.PushOutbound
	case CallTypeAppToApp:
		return wire.PushAppToApp
	}
	return ""
}

// ParseCallType parses String's output. It is lenient about case and
// separators ("App_To_App", "appToApp", "app-to-app") because call types
// come back from app storage and UIs; "" parses as CallTypeNone.
func ParseCallType(s string) (CallType, error) {
	switch normalizeCode(s) {
	case "":
		return CallTypeNone, nil
	case "inbound":
		return CallTypeInbound, nil
	case "outbound":
		return CallTypeOutbound, nil
	case "apptoapp":
		return CallTypeAppToApp, nil
	}
	return CallTypeNone, fmt.Errorf("callcore: unknown call type %s (inbound, outbound, app_to_app)", wire.Quote(s))
}

// ParsePushCallType parses a push payload's callType: "Inbound", "Outbound"
// or "APPTOAPP", ignoring case (backends differ). Empty is an error: the
// field is required.
func ParsePushCallType(s string) (CallType, error) {
	switch normalizeCode(s) {
	case "inbound":
		return CallTypeInbound, nil
	case "outbound":
		return CallTypeOutbound, nil
	case "apptoapp":
		return CallTypeAppToApp, nil
	}
	return CallTypeNone, fmt.Errorf("callcore: push callType %s is not Outbound, Inbound or APPTOAPP", wire.Quote(s))
}

// MarshalText encodes String's spelling, so CallType reads well in JSON.
func (t CallType) MarshalText() ([]byte, error) {
	if t < CallTypeNone || t > CallTypeAppToApp {
		return nil, fmt.Errorf("callcore: cannot marshal %v", t)
	}
	return []byte(t.String()), nil
}

// UnmarshalText accepts ParseCallType's input.
func (t *CallType) UnmarshalText(b []byte) error {
	v, err := ParseCallType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

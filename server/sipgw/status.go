package sipgw

import (
	"fmt"

	"github.com/onecxi/phone/wire"
)

// failure maps the final SIP status of an outbound INVITE to the error code
// the app sees and a message a person can read.
func failure(status int, reason string) (wire.Code, string) {
	detail := fmt.Sprintf("%d %s", status, wire.Quote(reason)) // the trunk's words
	switch status {
	case 486, 600:
		return wire.CodeBusy, "the number is busy (" + detail + ")"
	case 404, 484, 604:
		return wire.CodeNotFound, "the number does not exist (" + detail + ")"
	case 410:
		return wire.CodeNotFound, "the number is no longer in service (" + detail + ")"
	case 408, 480:
		return wire.CodeNoAnswer, "the number did not answer (" + detail + ")"
	case 603:
		return wire.CodeBusy, "the call was declined (" + detail + ")"
	case 487:
		return wire.CodeNoAnswer, "the call was cancelled (" + detail + ")"
	case 401, 403, 407:
		return wire.CodeTrunkFailed, "the trunk refused the call: check its credentials (" + detail + ")"
	case 503, 502, 504:
		return wire.CodeUnreachable, "the network is unavailable (" + detail + ")"
	case 488, 606:
		return wire.CodeTrunkFailed, "the far end accepts none of our codecs (" + detail + ")"
	}
	return wire.CodeTrunkFailed, "the call failed (" + detail + ")"
}

// sipStatus maps what the server says about an inbound call that did not
// connect to the SIP final response the caller gets.
func sipStatus(m wire.Message) (int, string) {
	if m.Type == wire.TypeDeclined {
		return 603, "Decline"
	}
	switch m.Code {
	case wire.CodeNotFound:
		return 404, "Not Found"
	case wire.CodeBusy, wire.CodeNumberInUse:
		return 486, "Busy Here"
	case wire.CodeUnreachable, wire.CodeNoAnswer:
		return 480, "Temporarily Unavailable"
	case wire.CodeTooManyRequests, wire.CodeShuttingDown:
		return 503, "Service Unavailable"
	}
	return 500, "Server Internal Error"
}

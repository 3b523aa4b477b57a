package screens

import (
	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/wire"
)

// ErrorText turns an SDK error into words a user can act on, per kind, as the
// guide's section 12 suggests. It never shows the SDK's developer detail
// (parameter names, timeouts): that goes to the log. The server's code, when
// there is one, says more than the kind (busy, offline, no answer).
func ErrorText(err error) string {
	if err == nil {
		return ""
	}
	code := callcore.ServerCode(err)
	switch callcore.KindOf(err) {
	case callcore.ErrNotInitialized:
		return "Not signed in yet. Wait a moment, or check the account settings."
	case callcore.ErrInvalidInput:
		if code == wire.CodeSelfCall {
			return "You cannot call your own number."
		}
		return "Please check the number you entered: digits only, with an optional leading +."
	case callcore.ErrCallInProgress:
		return "A call is already in progress. End it first."
	case callcore.ErrNoCallInProgress:
		return "There is no call right now."
	case callcore.ErrPermissionDenied:
		return "Microphone access is needed to call. Allow it in your system settings."
	case callcore.ErrWebSocketConnectionFailed:
		if code == wire.CodeShuttingDown || code == wire.CodeTooManyRequests {
			return callcore.DescribeServerCode(code) + "."
		}
		return "No connection to the server. Check your network and the server address."
	case callcore.ErrAudioSessionSetupFailed:
		return "No usable microphone or speaker was found. Connect a headset and try again."
	case callcore.ErrInitializationFailed:
		return "Sign-in failed: check the account name and API key."
	case callcore.ErrCallFailed:
		if code != "" {
			return callcore.DescribeServerCode(code) + "."
		}
		return "The call could not be connected. Please try again."
	case callcore.ErrCallEndFailed:
		return "The call did not end cleanly; it has been dropped."
	case callcore.ErrMuteControlFailed:
		return "Mute could not be changed. Try again."
	case callcore.ErrHoldControlFailed:
		return "Hold could not be changed. Try again."
	case callcore.ErrSpeakerControlFailed:
		return "The audio output could not be switched."
	case callcore.ErrIncomingCallFailed:
		return "The incoming call could not be answered. The caller may have hung up."
	case callcore.ErrUnknown:
		return "An unexpected problem occurred. Please try again."
	}
	return "Something went wrong: " + err.Error()
}

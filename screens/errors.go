package screens

import (
	"errors"

	"github.com/onecxi/phone/callcore"
)

// ErrorText turns an SDK error into words a user can act on, per kind, as the
// guide's section 12 suggests; never a raw error string alone.
func ErrorText(err error) string {
	if err == nil {
		return ""
	}
	var e *callcore.Error
	detail := ""
	if errors.As(err, &e) && e.Detail != "" {
		detail = " (" + e.Detail + ")"
	}
	switch callcore.KindOf(err) {
	case callcore.ErrNotInitialized:
		return "Not signed in yet. Check the account settings."
	case callcore.ErrInvalidInput:
		return "Please check the number you entered" + detail + "."
	case callcore.ErrCallInProgress:
		return "A call is already in progress. End it first."
	case callcore.ErrNoCallInProgress:
		return "There is no call right now."
	case callcore.ErrPermissionDenied:
		return "Microphone access is needed to call. Allow it in your system settings."
	case callcore.ErrWebSocketConnectionFailed:
		return "No connection to the server. Check your network and the server address."
	case callcore.ErrAudioSessionSetupFailed:
		return "No usable microphone or speaker was found. Connect a headset and try again."
	case callcore.ErrInitializationFailed:
		return "Sign-in failed: check the account name and API key."
	case callcore.ErrCallFailed:
		if code := callcore.ServerCode(err); code != "" {
			return callcore.DescribeServerCode(code) + "."
		}
		return "The call could not be connected" + detail + "."
	case callcore.ErrCallEndFailed:
		return "The call did not end cleanly; it has been dropped."
	case callcore.ErrMuteControlFailed:
		return "Mute could not be changed. Try again."
	case callcore.ErrHoldControlFailed:
		return "Hold could not be changed. Try again."
	case callcore.ErrSpeakerControlFailed:
		return "The audio output could not be switched."
	case callcore.ErrIncomingCallFailed:
		return "An incoming call could not be shown" + detail + "."
	}
	return "Something went wrong: " + err.Error()
}

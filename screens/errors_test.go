package screens

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/wire"
)

func TestErrorTextEveryKind(t *testing.T) {
	want := map[callcore.ErrorKind]string{
		callcore.ErrNotInitialized:            "Not signed in yet. Wait a moment, or check the account settings.",
		callcore.ErrInvalidInput:              "Please check the number you entered: digits only, with an optional leading +.",
		callcore.ErrCallInProgress:            "A call is already in progress. End it first.",
		callcore.ErrNoCallInProgress:          "There is no call right now.",
		callcore.ErrPermissionDenied:          "Microphone access is needed to call. Allow it in your system settings.",
		callcore.ErrWebSocketConnectionFailed: "No connection to the server. Check your network and the server address.",
		callcore.ErrAudioSessionSetupFailed:   "No usable microphone or speaker was found. Connect a headset and try again.",
		callcore.ErrInitializationFailed:      "Sign-in failed: check the account name and API key.",
		callcore.ErrCallFailed:                "The call could not be connected. Please try again.",
		callcore.ErrCallEndFailed:             "The call did not end cleanly; it has been dropped.",
		callcore.ErrIncomingCallFailed:        "The incoming call could not be answered. The caller may have hung up.",
		callcore.ErrSpeakerControlFailed:      "The audio output could not be switched.",
		callcore.ErrHoldControlFailed:         "Hold could not be changed. Try again.",
		callcore.ErrMuteControlFailed:         "Mute could not be changed. Try again.",
		callcore.ErrUnknown:                   "An unexpected problem occurred. Please try again.",
	}
	kinds := callcore.AllErrorKinds()
	require.Len(t, kinds, 15)
	seen := map[string]callcore.ErrorKind{}
	for _, k := range kinds {
		t.Run(k.String(), func(t *testing.T) {
			err := &callcore.Error{Kind: k, Detail: "registeredNumber \"x\" is empty", Err: errors.New("dial tcp: refused")}
			got := ErrorText(err)
			assert.Equal(t, want[k], got)
			assert.NotContains(t, got, "Something went wrong")
			assert.NotContains(t, got, "registeredNumber", "developer detail leaks into the UI")
			assert.NotContains(t, got, "dial tcp")
			assert.Equal(t, got, ErrorText(k), "a bare kind reads the same")
			assert.Equal(t, got, ErrorText(fmt.Errorf("wrapped: %w", err)), "a wrapped error reads the same")
			if other, dup := seen[got]; dup {
				t.Errorf("%v and %v read the same", k, other)
			}
			seen[got] = k
		})
	}
}

func TestErrorTextSpecialCases(t *testing.T) {
	server := func(kind callcore.ErrorKind, code wire.Code) error {
		return &callcore.Error{Kind: kind, Detail: "start", Err: &callcore.ServerError{Code: code}}
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"foreign error", errors.New("boom"), "An unexpected problem occurred. Please try again."},
		{"busy", server(callcore.ErrCallFailed, wire.CodeBusy), "The line is busy."},
		{"offline", server(callcore.ErrCallFailed, wire.CodeUnreachable), "The other user is offline."},
		{"no answer", server(callcore.ErrCallFailed, wire.CodeNoAnswer), "No answer."},
		{"not found", server(callcore.ErrCallFailed, wire.CodeNotFound), "The number was not found."},
		{"self call", server(callcore.ErrInvalidInput, wire.CodeSelfCall), "You cannot call your own number."},
		{"server restarting", server(callcore.ErrWebSocketConnectionFailed, wire.CodeShuttingDown), "The server is restarting; try again shortly."},
		{"server full", server(callcore.ErrWebSocketConnectionFailed, wire.CodeTooManyRequests), "The server is busy; try again shortly."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ErrorText(tc.err))
		})
	}
}

func TestErrorTextInvalidInputReadsLikeTheGuide(t *testing.T) {
	for _, detail := range []string{"did is empty", `did "abc" is not a number`} {
		got := ErrorText(&callcore.Error{Kind: callcore.ErrInvalidInput, Detail: detail})
		assert.True(t, strings.HasPrefix(got, "Please check the number you entered"), got)
	}
}

package callcore

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/wire"
)

func TestErrorKindsNamesAndMessages(t *testing.T) {
	tests := []struct {
		kind    ErrorKind
		name    string
		message string
	}{
		{ErrNotInitialized, "notInitialized", "SDK not initialized"},
		{ErrInvalidInput, "invalidInput", "Invalid input"},
		{ErrCallInProgress, "callInProgress", "A call is already in progress"},
		{ErrNoCallInProgress, "noCallInProgress", "No call in progress"},
		{ErrPermissionDenied, "permissionDenied", "Permission denied"},
		{ErrWebSocketConnectionFailed, "webSocketConnectionFailed", "WebSocket connection failed"},
		{ErrAudioSessionSetupFailed, "audioSessionSetupFailed", "Audio session setup failed"},
		{ErrInitializationFailed, "initializationFailed", "Initialization failed"},
		{ErrCallFailed, "callFailed", "Call failed"},
		{ErrCallEndFailed, "callEndFailed", "Failed to end call"},
		{ErrIncomingCallFailed, "incomingCallFailed", "Failed to handle incoming call"},
		{ErrSpeakerControlFailed, "speakerControlFailed", "Failed to control speaker"},
		{ErrHoldControlFailed, "holdControlFailed", "Failed to control hold"},
		{ErrMuteControlFailed, "muteControlFailed", "Failed to control mute"},
		{ErrUnknown, "unknown", "Unknown error"},
	}
	require.Len(t, AllErrorKinds(), 15)
	require.Len(t, tests, 15)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, AllErrorKinds()[i], tt.kind, "guide order")
			assert.Equal(t, tt.name, tt.kind.String())
			assert.Equal(t, tt.message, tt.kind.Message())
			assert.Equal(t, tt.message, tt.kind.Error())
			var err error = tt.kind
			assert.ErrorIs(t, err, tt.kind)
			assert.Equal(t, tt.kind, KindOf(err))
			assert.Equal(t, tt.kind, KindFromPlatformCode(tt.name), "camelCase code")
		})
	}
	assert.Equal(t, "none", ErrorKind(0).String())
	assert.Equal(t, "ErrorKind(99)", ErrorKind(99).String())
	assert.Equal(t, "Unknown error", ErrorKind(99).Message())
}

func TestErrorWrappingAndIs(t *testing.T) {
	cause := &ServerError{Code: wire.CodeUnreachable, Message: "1002 has no device online"}
	e := &Error{Kind: ErrCallFailed, Detail: "1002 has no device online", Err: cause}
	assert.Equal(t, "Call failed: 1002 has no device online (server code unreachable)", e.Error())

	wrapped := fmt.Errorf("starting: %w", e)
	assert.ErrorIs(t, wrapped, ErrCallFailed)
	assert.NotErrorIs(t, wrapped, ErrCallEndFailed)
	assert.ErrorIs(t, wrapped, &Error{Kind: ErrCallFailed})
	assert.Equal(t, ErrCallFailed, KindOf(wrapped))
	assert.Equal(t, wire.CodeUnreachable, ServerCode(wrapped))
	var se *ServerError
	require.ErrorAs(t, wrapped, &se)
	assert.Equal(t, "1002 has no device online", se.Message)

	inner := &Error{Kind: ErrPermissionDenied, Err: io.EOF}
	assert.ErrorIs(t, inner, io.EOF, "Unwrap reaches the cause")
	assert.Equal(t, "Permission denied: EOF", inner.Error())
	assert.Equal(t, "Permission denied", (&Error{Kind: ErrPermissionDenied}).Error())

	assert.Equal(t, ErrorKind(0), KindOf(nil))
	assert.Equal(t, ErrUnknown, KindOf(errors.New("plain")))
	assert.Equal(t, ErrNoCallInProgress, KindOf(fmt.Errorf("x: %w", ErrNoCallInProgress)))
	assert.Equal(t, wire.Code(""), ServerCode(errors.New("plain")))
	assert.Equal(t, wire.Code(""), ServerCode(nil))
}

func TestKindFromPlatformCode(t *testing.T) {
	tests := map[string]ErrorKind{
		"NOT_INITIALIZED":              ErrNotInitialized,
		"not_initialized":              ErrNotInitialized,
		"INVALID_INPUT":                ErrInvalidInput,
		"INVALID_ARGUMENT":             ErrInvalidInput,
		"CALL_IN_PROGRESS":             ErrCallInProgress,
		"NO_CALL_IN_PROGRESS":          ErrNoCallInProgress,
		"PERMISSION_DENIED":            ErrPermissionDenied,
		"permission-denied":            ErrPermissionDenied,
		"WEBSOCKET_CONNECTION_FAILED":  ErrWebSocketConnectionFailed,
		"WEB_SOCKET_CONNECTION_FAILED": ErrWebSocketConnectionFailed,
		"AUDIO_SESSION_SETUP_FAILED":   ErrAudioSessionSetupFailed,
		"INITIALIZATION_FAILED":        ErrInitializationFailed,
		"CALL_FAILED":                  ErrCallFailed,
		"CALL_END_FAILED":              ErrCallEndFailed,
		"INCOMING_CALL_FAILED":         ErrIncomingCallFailed,
		"SPEAKER_CONTROL_FAILED":       ErrSpeakerControlFailed,
		"HOLD_CONTROL_FAILED":          ErrHoldControlFailed,
		"MUTE_CONTROL_FAILED":          ErrMuteControlFailed,
		"UNKNOWN":                      ErrUnknown,
		"  Permission Denied ":         ErrPermissionDenied,
		"":                             ErrUnknown,
		"SOMETHING_ELSE":               ErrUnknown,
	}
	for code, want := range tests {
		assert.Equal(t, want, KindFromPlatformCode(code), "code %q", code)
	}
}

func TestServerCodeMapping(t *testing.T) {
	tests := []struct {
		code wire.Code
		kind ErrorKind
	}{
		{wire.CodeUnauthorized, ErrInitializationFailed},
		{wire.CodeUnsupported, ErrInitializationFailed},
		{wire.CodeInvalidInput, ErrInvalidInput},
		{wire.CodeBadRequest, ErrInvalidInput},
		{wire.CodeSelfCall, ErrInvalidInput},
		{wire.CodeNotFound, ErrCallFailed},
		{wire.CodeUnreachable, ErrCallFailed},
		{wire.CodeBusy, ErrCallFailed},
		{wire.CodeNoAnswer, ErrCallFailed},
		{wire.CodeNumberInUse, ErrCallFailed},
		{wire.CodeAlreadyAnswered, ErrCallFailed},
		{wire.CodeTrunkFailed, ErrCallFailed},
		{wire.CodeCallEnded, ErrCallFailed},
		{wire.CodeTooManyRequests, ErrWebSocketConnectionFailed},
		{wire.CodeShuttingDown, ErrWebSocketConnectionFailed},
		{wire.CodeInternal, ErrUnknown},
		{wire.CodeControlRejected, ErrUnknown},
		{"brand_new", ErrUnknown},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.kind, KindFromServerCode(tt.code), "code %q", tt.code)
		assert.NotEmpty(t, DescribeServerCode(tt.code))
	}
	assert.Equal(t, "The other user is offline", DescribeServerCode(wire.CodeUnreachable))
	se := &ServerError{Code: wire.CodeUnauthorized, HTTPStatus: 401}
	assert.Contains(t, se.Error(), "HTTP 401")
	assert.Contains(t, se.Error(), "rejected")
}

func TestServerRefusalIsNotRepeated(t *testing.T) {
	se := &ServerError{Code: wire.CodeUnreachable, Message: "1009 has no device online"}
	err := newError(ErrCallFailed, se, "%s", se.Message)
	assert.Equal(t, "Call failed: 1009 has no device online (server code unreachable)", err.Error())
	assert.Equal(t, wire.CodeUnreachable, ServerCode(err))
	other := newError(ErrCallFailed, se, "dialling")
	assert.Contains(t, other.Error(), "dialling: server said unreachable: 1009 has no device online")
}

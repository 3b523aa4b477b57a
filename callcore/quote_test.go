package callcore

import (
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/internal/testlog"
	"github.com/onecxi/phone/wire"
)

// hugeNumber is a 1 MiB "number": digits, then one letter so it is not one.
var hugeNumber = strings.Repeat("9", 1<<20-1) + "x"

// maxErrLen is how long an error about one huge input may be.
const maxErrLen = 200

// assertShortError checks that err names field and quotes little of the
// input: the whole message is under maxErrLen bytes.
func assertShortError(t *testing.T, err error, kind ErrorKind, field string) {
	t.Helper()
	require.Error(t, err)
	msg := err.Error()
	assert.Less(t, len(msg), maxErrLen, "%s", wire.Quote(msg))
	assert.Contains(t, msg, field)
	assert.Equal(t, kind, KindOf(err), "%s", wire.Quote(msg))
	assert.NotContains(t, msg, strings.Repeat("9", wire.QuoteRunes+1), "at most QuoteRunes characters of the input")
}

// Every SDK method that takes a number answers a 1 MiB one with a short
// error that names the argument.
func TestSDKErrorsQuoteHugeInputsShort(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	tests := []struct {
		name  string
		call  func() error
		kind  ErrorKind
		field string
	}{
		{"StartInBoundCall did", func() error { return e.sdk.StartInBoundCall(ctx, hugeNumber, "1001") }, ErrInvalidInput, "did"},
		{"StartInBoundCall registeredNumber", func() error { return e.sdk.StartInBoundCall(ctx, "90000", hugeNumber) }, ErrInvalidInput, "registeredNumber"},
		{"StartOutBoundCall userMobile", func() error { return e.sdk.StartOutBoundCall(ctx, hugeNumber, "1001") }, ErrInvalidInput, "userMobile"},
		{"StartAppToAppInboundCall inputNumber", func() error { return e.sdk.StartAppToAppInboundCall(ctx, hugeNumber, "1001") }, ErrInvalidInput, "inputNumber"},
		{"StartAppToAppOutboundCall callFromNumber", func() error {
			return e.sdk.StartAppToAppOutboundCall(ctx, "1002", "1001", hugeNumber)
		}, ErrInvalidInput, "callFromNumber"},
		{"StoreRegisteredNumber", func() error { return e.sdk.StoreRegisteredNumber(ctx, hugeNumber) }, ErrInvalidInput, "registered number"},
		{"ListenForIncomingCalls", func() error { return e.sdk.ListenForIncomingCalls(ctx, hugeNumber) }, ErrInvalidInput, "registeredNumber"},
		{"RegisterDevice", func() error { return e.sdk.RegisterDevice(ctx, hugeNumber) }, ErrInvalidInput, "registeredNumber"},
		{"SendDTMF", func() error { return e.sdk.SendDTMF(hugeNumber) }, ErrInvalidInput, "DTMF digit"},
		{"AcceptIncomingCall", func() error { return e.sdk.AcceptIncomingCall(ctx, hugeNumber) }, ErrIncomingCallFailed, "no pending incoming call"},
		{"HandleIncomingCallWithUI callType", func() error {
			p := guidePayload()
			p["callType"] = hugeNumber
			return e.sdk.HandleIncomingCallWithUI(ctx, p)
		}, ErrIncomingCallFailed, "callType"},
		{"HandleIncomingCallWithUI timestamp", func() error {
			p := guidePayload()
			p["timestamp"] = hugeNumber
			return e.sdk.HandleIncomingCallWithUI(ctx, p)
		}, ErrIncomingCallFailed, "timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertShortError(t, tt.call(), tt.kind, tt.field)
		})
	}
	assert.Zero(t, e.fs.callCount(), "nothing was dialled")
}

// A decline that cannot reach the server names the call short. Its error
// wraps another (cannot connect, naming the server) and a network error, so
// it gets more room than maxErrLen.
func TestDeclineQuotesHugeCallIDShort(t *testing.T) {
	e := newEnv(t)
	e.fs.close()
	err := e.sdk.DeclineIncomingCall(ctxT(t), hugeNumber)
	require.Error(t, err)
	msg := err.Error()
	assert.Less(t, len(msg), 2*maxErrLen, "%s", wire.Quote(msg))
	assert.Contains(t, msg, "declining call")
	assert.Contains(t, msg, "cannot connect to the server")
	assert.NotContains(t, msg, strings.Repeat("9", wire.QuoteRunes+1))
}

// Initialize with a huge account name or server name fails with a short
// error, and its log line is short too.
func TestInitializeQuotesHugeInputsShort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadAddr := l.Addr().String()
	require.NoError(t, l.Close())
	fs := newFakeServer(t)
	hugePath := "/" + strings.Repeat("p", 1<<20)
	tests := []struct {
		name, account, server string
		kind                  ErrorKind
		field                 string
	}{
		{"server not a URL", testAccount, "ftp://" + hugePath, ErrInvalidInput, "server name"},
		{"server with a query", testAccount, fs.URL() + "/?" + hugePath, ErrInvalidInput, "server name"},
		{"unreachable server with a huge path", testAccount, "http://" + deadAddr + hugePath, ErrWebSocketConnectionFailed, "cannot connect to the server at"},
		{"huge account name", strings.Repeat("a", 1<<20), fs.URL(), ErrInitializationFailed, "account name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs testlog.Buffer
			s, _ := newSDK(t, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			err := s.Initialize(ctxT(t), tt.account, testAPIKey, tt.server)
			require.Error(t, err)
			msg := err.Error()
			assert.Less(t, len(msg), maxErrLen, "%s", wire.Quote(msg))
			assert.Contains(t, msg, tt.field)
			assert.Equal(t, tt.kind, KindOf(err), "%s", wire.Quote(msg))
			assert.Less(t, len(logs.String()), 1000, "the log line quotes the inputs short: %s", wire.Quote(logs.String()))
		})
	}
}

func TestParseCallTypesQuoteShort(t *testing.T) {
	for _, parse := range []func(string) (CallType, error){ParseCallType, ParsePushCallType} {
		_, err := parse(hugeNumber)
		require.Error(t, err)
		assert.Less(t, len(err.Error()), maxErrLen)
		assert.Contains(t, err.Error(), "call")
	}
}

package callcore

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/onecxi/phone/wire"
)

// TestEndReasons: every way a call ends maps to one reason, and the loss of
// a connection is never reported as a hang-up.
func TestEndReasons(t *testing.T) {
	deadline := &os.PathError{Op: "read", Err: os.ErrDeadlineExceeded}
	cases := []struct {
		name string
		c    *call
		run  error
		want EndReason
	}{
		{"this side hung up", &call{localEnd: true}, nil, EndReasonHangup},
		{"declined", &call{declined: true, remoteEnd: wire.ReasonDeclined}, nil, EndReasonDeclined},
		{"far party hung up", &call{remoteEnd: wire.ReasonRemote}, nil, EndReasonRemoteHangup},
		{"caller cancelled", &call{remoteEnd: wire.ReasonCancelled}, nil, EndReasonRemoteHangup},
		{"ring timeout", &call{remoteEnd: wire.ReasonNoAnswer}, nil, EndReasonNoAnswer},
		{"far party lost", &call{remoteEnd: wire.ReasonNetworkLost, remoteLost: true}, nil, EndReasonRemoteLost},
		{"far party lost, never told reconnecting", &call{remoteEnd: wire.ReasonNetworkLost}, nil, EndReasonRemoteLost},
		{"this side lost, told on resume", &call{remoteEnd: wire.ReasonNetworkLost, reconnecting: true, lostSelf: true}, nil, EndReasonNetworkLost},
		{"this side gave up", &call{endReason: EndReasonNetworkLost, reconnecting: true}, errSilent, EndReasonNetworkLost},
		{"keep-alive", &call{remoteEnd: wire.ReasonKeepaliveTimeout}, nil, EndReasonKeepaliveTimeout},
		{"own keep-alive, no resumption", &call{}, deadline, EndReasonKeepaliveTimeout},
		{"socket failed, no resumption", &call{}, errors.New("read: connection reset"), EndReasonNetworkLost},
		{"server shutdown", &call{remoteEnd: wire.ReasonShutdown}, nil, EndReasonServerShutdown},
		{"trunk busy", &call{p: callParams{kind: wire.KindOutbound}, remoteEnd: string(wire.CodeBusy)}, nil, EndReasonTrunkFailed},
		{"trunk failed", &call{remoteEnd: string(wire.CodeTrunkFailed)}, nil, EndReasonTrunkFailed},
		{"app callee busy", &call{p: callParams{kind: wire.KindAppToApp}, remoteEnd: string(wire.CodeBusy)}, nil, EndReasonFailed},
		{"error reported", &call{endErr: newError(ErrCallFailed, &ServerError{Code: wire.CodeTrunkFailed}, "x")}, nil, EndReasonTrunkFailed},
		{"clean close without end", &call{}, nil, EndReasonRemoteHangup},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.c.endReasonLocked(tc.run))
		})
	}
}

func TestEndReasonDescriptions(t *testing.T) {
	seen := map[string]EndReason{}
	for _, r := range []EndReason{EndReasonHangup, EndReasonRemoteHangup, EndReasonDeclined, EndReasonNoAnswer,
		EndReasonNetworkLost, EndReasonRemoteLost, EndReasonKeepaliveTimeout, EndReasonServerShutdown,
		EndReasonTrunkFailed, EndReasonFailed} {
		d := r.Describe()
		assert.NotEqual(t, EndReason("").Describe(), d, r)
		assert.NotContains(t, seen, d, "%s and %s read the same", r, seen[d])
		seen[d] = r
	}
}

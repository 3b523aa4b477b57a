package sipgw

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/onecxi/phone/wire"
)

func TestFailureMapping(t *testing.T) {
	tests := []struct {
		status int
		want   wire.Code
	}{
		{486, wire.CodeBusy}, {600, wire.CodeBusy}, {603, wire.CodeBusy},
		{404, wire.CodeNotFound}, {484, wire.CodeNotFound}, {604, wire.CodeNotFound}, {410, wire.CodeNotFound},
		{480, wire.CodeNoAnswer}, {408, wire.CodeNoAnswer}, {487, wire.CodeNoAnswer},
		{503, wire.CodeUnreachable}, {502, wire.CodeUnreachable},
		{401, wire.CodeTrunkFailed}, {407, wire.CodeTrunkFailed}, {403, wire.CodeTrunkFailed},
		{488, wire.CodeTrunkFailed}, {500, wire.CodeTrunkFailed}, {420, wire.CodeTrunkFailed},
	}
	for _, tt := range tests {
		code, msg := failure(tt.status, "Reason")
		assert.Equal(t, tt.want, code, "%d", tt.status)
		assert.Contains(t, msg, "Reason", "the message carries the trunk's own words")
	}
}

func TestSIPStatusMapping(t *testing.T) {
	tests := []struct {
		m    wire.Message
		want int
	}{
		{wire.Message{Type: wire.TypeDeclined}, 603},
		{wire.Message{Type: wire.TypeError, Code: wire.CodeNotFound}, 404},
		{wire.Message{Type: wire.TypeError, Code: wire.CodeBusy}, 486},
		{wire.Message{Type: wire.TypeError, Code: wire.CodeUnreachable}, 480},
		{wire.Message{Type: wire.TypeError, Code: wire.CodeNoAnswer}, 480},
		{wire.Message{Type: wire.TypeError, Code: wire.CodeTooManyRequests}, 503},
		{wire.Message{Type: wire.TypeError, Code: wire.CodeShuttingDown}, 503},
		{wire.Message{Type: wire.TypeError, Code: wire.CodeInternal}, 500},
	}
	for _, tt := range tests {
		got, _ := sipStatus(tt.m)
		assert.Equal(t, tt.want, got, "%+v", tt.m)
	}
}

package sip_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Each way an outbound call can fail at the trunk reaches the app as the
// error code and a message naming the SIP status.
func TestOutboundFailuresReachTheAppAsClearErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    trunkOptions
		code string // the wire code the app gets
		text string
	}{
		{"404", trunkOptions{reject: 404}, "not_found", "the number does not exist (404 "},
		{"410", trunkOptions{reject: 410}, "not_found", "no longer in service (410 "},
		{"480", trunkOptions{reject: 480}, "no_answer", "did not answer (480 "},
		{"503", trunkOptions{reject: 503}, "unreachable", "network is unavailable (503 "},
		{"603", trunkOptions{reject: 603}, "busy", "declined (603 "},
		{"488", trunkOptions{reject: 488}, "trunk_failed", "none of our codecs (488 "},
		{"rings too long", trunkOptions{ringOnly: true}, "no_answer", "no answer within 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			peer := startTrunkPeer(t, tt.o)
			cfg := strings.Replace(trunkTo(peer.port, ""), `"answerTimeout":"6s"`, `"answerTimeout":"1s"`, 1)
			e := startGateway(t, cfg, nil)
			a := e.newPhone(t, appTone)
			start := time.Now()
			got := failedOutboundCall(t, a)
			assert.Contains(t, got, tt.text)
			assert.Contains(t, got, "(server code "+tt.code+")")
			assert.Less(t, time.Since(start), 5*time.Second)
			invites, _, _ := peer.counts()
			assert.Equal(t, 1, invites, "a failed call is not retried")
		})
	}
}

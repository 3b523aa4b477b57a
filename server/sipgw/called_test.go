package sipgw

import (
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/assert"
)

func TestCalledNumber(t *testing.T) {
	tests := []struct {
		name, ruri, to, username, want string
	}{
		{"a trunk sends the DID in the Request-URI", "5001", "5001", "gwuser", "5001"},
		{"the Request-URI wins over To", "5001", "4900", "gwuser", "5001"},
		{"a registrar sends to our registered contact", "gwuser", "5001", "gwuser", "5001"},
		{"no user in the Request-URI", "", "5001", "", "5001"},
		{"no username configured: the Request-URI stays", "gwuser", "5001", "", "gwuser"},
		{"nothing in To either", "gwuser", "", "gwuser", "gwuser"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: tt.ruri, Host: "192.0.2.1"})
			req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: tt.to, Host: "pbx.test"}})
			assert.Equal(t, tt.want, calledNumber(req, Trunk{Username: tt.username}))
		})
	}
}

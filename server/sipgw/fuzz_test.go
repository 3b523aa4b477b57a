package sipgw

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/onecxi/phone/server"
)

func FuzzParseConfig(f *testing.F) {
	f.Add(`{"trunks":[{"host":"sip.example.net"}]}`)
	f.Add(`{"listen":"127.0.0.1:0","trunks":[{"host":"h","outbound":[{"match":"(\\d+)","replace":"$1"}]}]}`)
	f.Add(`{"trunks":[{"host":"h","allow":["10.0.0.0/8"],"prefixes":["+1"]}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConfig(json.RawMessage(s))
		if err != nil {
			if !errors.Is(err, server.ErrInvalidConfig) {
				t.Fatalf("error %v does not wrap ErrInvalidConfig", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("a parsed config does not validate: %v", err)
		}
	})
}

package sipgw

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/wire"
)

// A SIP configuration with one huge bad value is refused with a short error
// that names the field.
func TestConfigErrorsQuoteShort(t *testing.T) {
	huge := strings.Repeat("7", 1<<20) + "x"
	trunk := func(extra string) string { return `{"trunks":[{"host":"h"` + extra + `}]}` }
	tests := []struct{ name, json, keep string }{
		{"unknown field", `{"` + huge + `":1}`, "unknown field"},
		{"number", `{"rtpPortMin":` + strings.Repeat("7", 1<<20) + `}`, "trunk.sip"},
		{"listen", `{"listen":"` + huge + `","trunks":[{"host":"h"}]}`, "listen"},
		{"rtpTimeout", `{"rtpTimeout":"` + huge + `","trunks":[{"host":"h"}]}`, "rtpTimeout"},
		{"externalIp", `{"externalIp":"` + huge + `","trunks":[{"host":"h"}]}`, "externalIp"},
		{"codec", `{"codecs":["` + huge + `"],"trunks":[{"host":"h"}]}`, "codecs[0]"},
		{"host", `{"trunks":[{"host":"` + huge + `:1"}]}`, "trunks[0].host"},
		{"name", `{"trunks":[{"host":"h","name":"` + huge + `"},{"host":"h","name":"` + huge + `"}]}`, "trunks[1].name"},
		{"transport", trunk(`,"transport":"` + huge + `"`), "transport"},
		{"passwordEnv", trunk(`,"username":"u","passwordEnv":"` + huge + `"`), "passwordEnv"},
		{"registerExpiry", trunk(`,"registerExpiry":"` + huge + `"`), "registerExpiry"},
		{"callerId", trunk(`,"callerId":"` + huge + `"`), "callerId"},
		{"prefix", trunk(`,"prefixes":["` + huge + `"]`), "prefixes[0]"},
		{"allow", trunk(`,"allow":["` + huge + `"]`), "allow[0]"},
		{"allow prefix", trunk(`,"allow":["10.0.0.0/` + huge + `"]`), "allow[0]"},
		{"match", trunk(`,"outbound":[{"match":"(` + strings.Repeat("7", maxPattern-1) + `","replace":"1"}]`), "outbound[0].match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(json.RawMessage(tt.json))
			require.ErrorIs(t, err, server.ErrInvalidConfig)
			msg := err.Error()
			assert.Less(t, len(msg), 200, "%s", wire.Quote(msg))
			assert.Contains(t, msg, tt.keep)
			assert.NotContains(t, msg, strings.Repeat("7", wire.QuoteRunes+1))
		})
	}
}

// A trunk's reason phrase reaches the app quoted short.
func TestFailureQuotesReasonShort(t *testing.T) {
	_, msg := failure(486, "Busy Here "+strings.Repeat("7", 1<<20))
	assert.Less(t, len(msg), 200, "%s", wire.Quote(msg))
	assert.Contains(t, msg, `486 "Busy Here`)
}

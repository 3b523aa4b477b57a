package sipgw

import (
	"encoding/json"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
)

func TestParseConfigGood(t *testing.T) {
	t.Setenv("SIPGW_TEST_PASSWORD", "from-env")
	tests := []struct {
		name  string
		json  string
		check func(t *testing.T, c Config)
	}{
		{"defaults", `{"trunks":[{"host":"sip.example.net"}]}`, func(t *testing.T, c Config) {
			assert.Equal(t, DefaultListen, c.Listen)
			assert.Equal(t, DefaultRTPTimeout, c.RTPTimeout)
			assert.Equal(t, []string{CodecPCMU, CodecPCMA}, c.Codecs)
			assert.Equal(t, DefaultRTPPortMin, c.RTPPortMin)
			assert.Equal(t, DefaultRTPPortMax, c.RTPPortMax)
			assert.Equal(t, OptionsForbidden, c.UnlistedOptions)
			tr := c.Trunks[0]
			assert.Equal(t, "sip.example.net", tr.Name)
			assert.Equal(t, "sip.example.net", tr.Domain)
			assert.Equal(t, DefaultSIPPort, tr.Port)
			assert.Equal(t, TransportUDP, tr.Transport)
			assert.False(t, tr.Register)
		}},
		{"full", `{"listen":"127.0.0.1:5070","externalIp":"192.0.2.10","rtpPortMin":4000,"rtpPortMax":4100,
			"rtpTimeout":"5s","codecs":["pcma"],"answerTimeout":"20s","responseTimeout":"2s",
			"trunks":[{"name":"carrier","host":"192.0.2.1","port":5080,"transport":"TCP","domain":"carrier.example",
			"username":"alice","authUsername":"a1","password":"pw","register":true,"registerExpiry":"120s",
			"callerId":"+4930123","prefixes":["+49","0"],
			"outbound":[{"match":"\\+49(\\d+)","replace":"0$1"},{"stripPrefix":"+","addPrefix":"00"}],
			"inbound":[{"stripPrefix":"+4930123"}],"allow":["192.0.2.0/24","198.51.100.7"]}]}`,
			func(t *testing.T, c Config) {
				assert.Equal(t, "127.0.0.1:5070", c.Listen)
				assert.Equal(t, netip.MustParseAddr("192.0.2.10"), c.ExternalIP)
				assert.Equal(t, 4000, c.RTPPortMin)
				assert.Equal(t, 5*time.Second, c.RTPTimeout)
				assert.Equal(t, 20*time.Second, c.AnswerTimeout)
				assert.Equal(t, 2*time.Second, c.ResponseTimeout)
				assert.Equal(t, []string{CodecPCMA}, c.Codecs)
				tr := c.Trunks[0]
				assert.Equal(t, TransportTCP, tr.Transport)
				assert.Equal(t, Secret("pw"), tr.Password)
				assert.Equal(t, 120*time.Second, tr.RegisterExpiry)
				assert.Equal(t, "0301234", tr.Outbound.Apply("+49301234"))
				assert.Equal(t, "00441234", tr.Outbound.Apply("+441234"))
				assert.Equal(t, "55", tr.Inbound.Apply("+493012355"))
				assert.True(t, allowList(tr.Allow).allows(netip.MustParseAddr("192.0.2.77")))
				assert.True(t, allowList(tr.Allow).allows(netip.MustParseAddr("198.51.100.7")))
				assert.False(t, allowList(tr.Allow).allows(netip.MustParseAddr("198.51.100.8")))
			}},
		{"unlisted OPTIONS dropped", `{"unlistedOptions":"DROP","trunks":[{"host":"h"}]}`, func(t *testing.T, c Config) {
			assert.Equal(t, OptionsDrop, c.UnlistedOptions)
		}},
		{"unlisted OPTIONS forbidden", `{"unlistedOptions":"403","trunks":[{"host":"h"}]}`, func(t *testing.T, c Config) {
			assert.Equal(t, OptionsForbidden, c.UnlistedOptions)
		}},
		{"password from env", `{"trunks":[{"host":"h","username":"u","passwordEnv":"SIPGW_TEST_PASSWORD","register":true}]}`,
			func(t *testing.T, c Config) {
				assert.Equal(t, Secret("from-env"), c.Trunks[0].Password)
				assert.Equal(t, DefaultRegisterExpiry, c.Trunks[0].RegisterExpiry)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig(json.RawMessage(tt.json))
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestParseConfigBad(t *testing.T) {
	tests := []struct {
		name, json, field string
	}{
		{"empty", ``, "empty"},
		{"not an object", `[]`, "trunk.sip"},
		{"unknown field", `{"trunks":[{"host":"h"}],"colour":"red"}`, "colour"},
		{"unknown trunk field", `{"trunks":[{"host":"h","secret":"x"}]}`, "secret"},
		{"trailing", `{"trunks":[{"host":"h"}]} {}`, "trailing"},
		{"no trunks", `{}`, "trunks: at least one"},
		{"bad listen", `{"listen":"nope","trunks":[{"host":"h"}]}`, "listen"},
		{"bad external ip", `{"externalIp":"example.com","trunks":[{"host":"h"}]}`, "externalIp"},
		{"wildcard external ip", `{"externalIp":"0.0.0.0","trunks":[{"host":"h"}]}`, "externalIp"},
		{"bad rtp range", `{"rtpPortMin":5000,"rtpPortMax":4000,"trunks":[{"host":"h"}]}`, "rtpPortMin"},
		{"rtp port too big", `{"rtpPortMin":5000,"rtpPortMax":70000,"trunks":[{"host":"h"}]}`, "rtpPortMin"},
		{"bad duration", `{"rtpTimeout":"soon","trunks":[{"host":"h"}]}`, "rtpTimeout"},
		{"negative duration", `{"answerTimeout":"-1s","trunks":[{"host":"h"}]}`, "answerTimeout"},
		{"bad codec", `{"codecs":["opus"],"trunks":[{"host":"h"}]}`, "codecs[0]"},
		{"no host", `{"trunks":[{"port":5060}]}`, "trunks[0].host"},
		{"host with port", `{"trunks":[{"host":"h:5060"}]}`, "trunks[0].host"},
		{"bad port", `{"trunks":[{"host":"h","port":70000}]}`, "trunks[0].port"},
		{"bad transport", `{"trunks":[{"host":"h","transport":"tls"}]}`, "trunks[0].transport"},
		{"duplicate names", `{"trunks":[{"host":"h"},{"host":"h"}]}`, "trunks[1].name"},
		{"register without password", `{"trunks":[{"host":"h","register":true,"username":"u"}]}`, "trunks[0].register"},
		{"password and env", `{"trunks":[{"host":"h","username":"u","password":"p","passwordEnv":"HOME"}]}`, "passwordEnv"},
		{"env unset", `{"trunks":[{"host":"h","username":"u","passwordEnv":"SIPGW_SURELY_UNSET_VAR"}]}`, `"SIPGW_SURELY_UNS"…`},
		{"password without user", `{"trunks":[{"host":"h","password":"p"}]}`, "trunks[0].username"},
		{"bad caller id", `{"trunks":[{"host":"h","callerId":"alice"}]}`, "callerId"},
		{"bad prefix", `{"trunks":[{"host":"h","prefixes":["0x"]}]}`, "prefixes[0]"},
		{"bad expiry", `{"trunks":[{"host":"h","registerExpiry":"forever"}]}`, "registerExpiry"},
		{"bad regexp", `{"trunks":[{"host":"h","outbound":[{"match":"(","replace":"x"}]}]}`, "outbound[0].match"},
		{"rule both kinds", `{"trunks":[{"host":"h","inbound":[{"match":"1","stripPrefix":"1"}]}]}`, "inbound[0].match"},
		{"empty rule", `{"trunks":[{"host":"h","inbound":[{}]}]}`, "inbound[0]"},
		{"replace alone", `{"trunks":[{"host":"h","outbound":[{"replace":"1"}]}]}`, "outbound[0].replace"},
		{"bad allow", `{"trunks":[{"host":"h","allow":["10.0.0.0/33"]}]}`, "allow[0]"},
		{"bad unlisted OPTIONS", `{"unlistedOptions":"404","trunks":[{"host":"h"}]}`, `unlistedOptions: "404" is not "403" or "drop"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(json.RawMessage(tt.json))
			require.Error(t, err)
			assert.True(t, errors.Is(err, server.ErrInvalidConfig), "%v does not wrap ErrInvalidConfig", err)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	c, err := ParseConfig(json.RawMessage(`{"trunks":[{"host":"h","username":"u","password":"hunter2"}]}`))
	require.NoError(t, err)
	assert.NotContains(t, sprintAll(c), "hunter2")
	assert.NotContains(t, sprintAll(c.Trunks[0].Password), "hunter2")
	b, err := json.Marshal(c)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "hunter2")
}

// The example configurations in testdata (and the docs) stay valid.
func TestExampleConfigsParse(t *testing.T) {
	t.Setenv("ONECXI_SIP_PASSWORD", "example")
	for _, name := range []string{"config.sip-trunk.json", "config.asterisk.json"} {
		t.Run(name, func(t *testing.T) {
			cfg, err := server.LoadConfig(filepath.Join("testdata", name))
			require.NoError(t, err)
			require.Equal(t, server.TrunkSIP, cfg.Trunk.Type)
			sc, err := ParseConfig(cfg.Trunk.SIP)
			require.NoError(t, err)
			require.NotEmpty(t, sc.Trunks)
		})
	}
}

package sipgw

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/wire"
)

// Defaults applied to zero fields of a [Config].
const (
	DefaultListen          = "0.0.0.0:5060"
	DefaultRTPPortMin      = 10000
	DefaultRTPPortMax      = 20000
	DefaultRTPTimeout      = 30 * time.Second
	DefaultAnswerTimeout   = 60 * time.Second
	DefaultResponseTimeout = 8 * time.Second
	DefaultRegisterExpiry  = 300 * time.Second
	DefaultSIPPort         = 5060
)

// Codec names, as SDP spells them.
const (
	CodecPCMU = "PCMU"
	CodecPCMA = "PCMA"
)

// Transports a trunk can be reached over.
const (
	TransportUDP = "udp"
	TransportTCP = "tcp"
)

// What an OPTIONS from an address on no trunk's allow-list gets
// ([Config.UnlistedOptions]).
const (
	// OptionsForbidden answers it 403 Forbidden (the default).
	OptionsForbidden = "403"
	// OptionsDrop answers nothing, so a scanner learns nothing.
	OptionsDrop = "drop"
)

// Secret is a password: it prints and logs as "[redacted]" so a Config can be
// logged or shown in an error without leaking it.
type Secret string

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return `"[redacted]"` }
func (s Secret) MarshalText() ([]byte, error) {
	return []byte(s.String()), nil
}

// Config is the SIP gateway's configuration: the "sip" section of a trunk of
// type "sip" in the server's configuration file.
type Config struct {
	// Listen is the host:port of SIP over both UDP and TCP.
	Listen string
	// ExternalIP is the address put in Contact, Via and SDP. Zero means the
	// listen host, or if that is a wildcard the local address that routes
	// to the first trunk.
	ExternalIP netip.Addr
	// RTPPortMin and RTPPortMax bound the UDP ports media uses.
	RTPPortMin, RTPPortMax int
	// RTPTimeout ends a connected call after this long without media.
	RTPTimeout time.Duration
	// Codecs are the G.711 codec names in order of preference: "PCMU",
	// "PCMA".
	Codecs []string
	// AnswerTimeout bounds how long an outbound call rings (no_answer).
	AnswerTimeout time.Duration
	// ResponseTimeout bounds how long the trunk may take to send any
	// response to an INVITE (unreachable).
	ResponseTimeout time.Duration
	// UnlistedOptions is what an OPTIONS from an address on no trunk's
	// allow-list gets: OptionsForbidden (403, the default) or OptionsDrop
	// (no answer). The trunks' own addresses get 200 OK.
	UnlistedOptions string
	// Trunks in the order outbound numbers are matched against them.
	Trunks []Trunk
}

// Trunk is one SIP provider or PBX.
type Trunk struct {
	Name      string
	Host      string
	Port      int
	Transport string // udp or tcp
	// Domain is the host part of From and To and the registration's
	// address of record (default Host).
	Domain   string
	Username string
	// AuthUsername is the digest user when it differs from Username.
	AuthUsername string
	Password     Secret
	// Register keeps a registration with the trunk, refreshed before
	// RegisterExpiry runs out.
	Register       bool
	RegisterExpiry time.Duration
	// CallerID is the From user of outbound calls; empty means the app
	// caller's registered number.
	CallerID string
	// Prefixes chooses the trunk for an outbound number that starts with one
	// of them (before rewriting); none means every number.
	Prefixes []string
	// Outbound rewrites dialled numbers; Inbound rewrites called numbers
	// into DIDs. The first rule that applies wins.
	Outbound, Inbound Rules
	// Allow lists the addresses (IP or CIDR) the trunk's requests may come
	// from: inbound INVITEs, requests within its calls' dialogs (BYE,
	// re-INVITE, ACK; an outbound call also takes them from the address
	// that answered it), CANCELs and OPTIONS pings. None means the trunk
	// host's own addresses (resolved at start-up).
	Allow []netip.Prefix
}

// configFile is Config as JSON spells it.
type configFile struct {
	Listen          string      `json:"listen"`
	ExternalIP      string      `json:"externalIp"`
	RTPPortMin      int         `json:"rtpPortMin"`
	RTPPortMax      int         `json:"rtpPortMax"`
	RTPTimeout      string      `json:"rtpTimeout"`
	Codecs          []string    `json:"codecs"`
	AnswerTimeout   string      `json:"answerTimeout"`
	ResponseTimeout string      `json:"responseTimeout"`
	UnlistedOptions string      `json:"unlistedOptions"`
	Trunks          []trunkFile `json:"trunks"`
}

type trunkFile struct {
	Name           string     `json:"name"`
	Host           string     `json:"host"`
	Port           int        `json:"port"`
	Transport      string     `json:"transport"`
	Domain         string     `json:"domain"`
	Username       string     `json:"username"`
	AuthUsername   string     `json:"authUsername"`
	Password       string     `json:"password"`
	PasswordEnv    string     `json:"passwordEnv"`
	Register       bool       `json:"register"`
	RegisterExpiry string     `json:"registerExpiry"`
	CallerID       string     `json:"callerId"`
	Prefixes       []string   `json:"prefixes"`
	Outbound       []ruleFile `json:"outbound"`
	Inbound        []ruleFile `json:"inbound"`
	Allow          []string   `json:"allow"`
}

// ParseConfig parses the raw "sip" section of the server's trunk
// configuration. Unknown fields are errors; every error wraps
// server.ErrInvalidConfig and names its field. passwordEnv is read from the
// environment here.
func ParseConfig(raw json.RawMessage) (Config, error) {
	var f configFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("%w: trunk.sip: empty", server.ErrInvalidConfig)
		}
		return Config{}, fmt.Errorf("%w: trunk.sip: %v", server.ErrInvalidConfig, wire.QuoteError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%w: trunk.sip: trailing data after the JSON object", server.ErrInvalidConfig)
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("trunk.sip."+format, args...)) }
	dur := func(field, s string, def time.Duration) time.Duration {
		if s == "" {
			return def
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			bad("%s: %s is not a positive duration such as \"30s\"", field, wire.Quote(s))
		}
		return d
	}
	cfg := Config{
		Listen:          f.Listen,
		RTPPortMin:      f.RTPPortMin,
		RTPPortMax:      f.RTPPortMax,
		RTPTimeout:      dur("rtpTimeout", f.RTPTimeout, DefaultRTPTimeout),
		AnswerTimeout:   dur("answerTimeout", f.AnswerTimeout, DefaultAnswerTimeout),
		ResponseTimeout: dur("responseTimeout", f.ResponseTimeout, DefaultResponseTimeout),
		UnlistedOptions: strings.ToLower(f.UnlistedOptions),
	}
	if f.ExternalIP != "" {
		ip, err := netip.ParseAddr(f.ExternalIP)
		if err != nil {
			bad("externalIp: %s is not an IP address", wire.Quote(f.ExternalIP))
		}
		cfg.ExternalIP = ip
	}
	for i, name := range f.Codecs {
		switch n := strings.ToUpper(name); n {
		case CodecPCMU, CodecPCMA:
			cfg.Codecs = append(cfg.Codecs, n)
		default:
			bad("codecs[%d]: %s is not PCMU or PCMA", i, wire.Quote(name))
		}
	}
	for i, tf := range f.Trunks {
		t, terrs := parseTrunk(fmt.Sprintf("trunks[%d]", i), tf)
		errs = append(errs, terrs...)
		cfg.Trunks = append(cfg.Trunks, t)
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("%w: %w", server.ErrInvalidConfig, errors.Join(errs...))
	}
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func parseTrunk(field string, tf trunkFile) (Trunk, []error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("trunk.sip."+field+"."+format, args...))
	}
	t := Trunk{
		Name: tf.Name, Host: tf.Host, Port: tf.Port, Transport: strings.ToLower(tf.Transport),
		Domain: tf.Domain, Username: tf.Username, AuthUsername: tf.AuthUsername,
		Password: Secret(tf.Password), Register: tf.Register, CallerID: tf.CallerID, Prefixes: tf.Prefixes,
	}
	if tf.PasswordEnv != "" {
		if tf.Password != "" {
			bad("passwordEnv: give password or passwordEnv, not both")
		}
		v, ok := os.LookupEnv(tf.PasswordEnv)
		if !ok || v == "" {
			bad("passwordEnv: the environment variable %s is not set", wire.Quote(tf.PasswordEnv))
		}
		t.Password = Secret(v)
	}
	if tf.RegisterExpiry != "" {
		d, err := time.ParseDuration(tf.RegisterExpiry)
		if err != nil || d <= 0 {
			bad("registerExpiry: %s is not a positive duration such as \"300s\"", wire.Quote(tf.RegisterExpiry))
		}
		t.RegisterExpiry = d
	}
	var err error
	if t.Outbound, err = parseRules(tf.Outbound); err != nil {
		bad("outbound%v", err)
	}
	if t.Inbound, err = parseRules(tf.Inbound); err != nil {
		bad("inbound%v", err)
	}
	for i, a := range tf.Allow {
		p, err := parseAllow(a)
		if err != nil {
			bad("allow[%d]: %v", i, err)
		}
		t.Allow = append(t.Allow, p)
	}
	return t, errs
}

// parseAllow reads an IP address or a CIDR prefix.
func parseAllow(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%s is not an IP address or CIDR prefix", wire.Quote(s))
		}
		return p.Masked(), nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%s is not an IP address or CIDR prefix", wire.Quote(s))
	}
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.RTPPortMin == 0 && c.RTPPortMax == 0 {
		c.RTPPortMin, c.RTPPortMax = DefaultRTPPortMin, DefaultRTPPortMax
	}
	if c.RTPTimeout == 0 {
		c.RTPTimeout = DefaultRTPTimeout
	}
	if c.AnswerTimeout == 0 {
		c.AnswerTimeout = DefaultAnswerTimeout
	}
	if c.ResponseTimeout == 0 {
		c.ResponseTimeout = DefaultResponseTimeout
	}
	if len(c.Codecs) == 0 {
		c.Codecs = []string{CodecPCMU, CodecPCMA}
	}
	if c.UnlistedOptions == "" {
		c.UnlistedOptions = OptionsForbidden
	}
	for i := range c.Trunks {
		t := &c.Trunks[i]
		if t.Transport == "" {
			t.Transport = TransportUDP
		}
		if t.Port == 0 {
			t.Port = DefaultSIPPort
		}
		if t.Domain == "" {
			t.Domain = t.Host
		}
		if t.Register && t.RegisterExpiry == 0 {
			t.RegisterExpiry = DefaultRegisterExpiry
		}
		if t.Name == "" {
			t.Name = t.Host
		}
	}
	return c
}

// Validate checks c (with defaults applied) and reports every problem, each
// naming its field; the errors wrap server.ErrInvalidConfig.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("trunk.sip."+format, args...)) }
	if err := server.CheckListenAddr(c.Listen); err != nil {
		bad("listen: %v", err)
	}
	if c.ExternalIP.IsValid() && c.ExternalIP.IsUnspecified() {
		bad("externalIp: %v is not an address peers can reach", c.ExternalIP)
	}
	switch {
	case c.RTPPortMin < 1 || c.RTPPortMax > 65535:
		bad("rtpPortMin, rtpPortMax: %d-%d is outside 1-65535", c.RTPPortMin, c.RTPPortMax)
	case c.RTPPortMax < c.RTPPortMin+1:
		bad("rtpPortMin, rtpPortMax: %d-%d holds no RTP port pair", c.RTPPortMin, c.RTPPortMax)
	}
	if c.RTPTimeout <= 0 || c.AnswerTimeout <= 0 || c.ResponseTimeout <= 0 {
		bad("rtpTimeout, answerTimeout, responseTimeout: must be positive")
	}
	if c.UnlistedOptions != OptionsForbidden && c.UnlistedOptions != OptionsDrop {
		bad("unlistedOptions: %s is not %q or %q", wire.Quote(c.UnlistedOptions), OptionsForbidden, OptionsDrop)
	}
	if len(c.Trunks) == 0 {
		bad("trunks: at least one trunk is required")
	}
	names := make(map[string]bool, len(c.Trunks))
	for i, t := range c.Trunks {
		f := fmt.Sprintf("trunks[%d]", i)
		if names[t.Name] {
			bad("%s.name: %s is used by another trunk", f, wire.Quote(t.Name))
		}
		names[t.Name] = true
		if t.Host == "" || strings.ContainsAny(t.Host, " :/@;<>") && !isIPv6(t.Host) {
			bad("%s.host: %s is not a host name or IP address", f, wire.Quote(t.Host))
		}
		if t.Port < 1 || t.Port > 65535 {
			bad("%s.port: %d is not 1-65535", f, t.Port)
		}
		if t.Transport != TransportUDP && t.Transport != TransportTCP {
			bad("%s.transport: %s is not udp or tcp", f, wire.Quote(t.Transport))
		}
		if t.Register && (t.Username == "" || t.Password == "") {
			bad("%s.register: registration needs username and password (or passwordEnv)", f)
		}
		if t.Password != "" && t.Username == "" && t.AuthUsername == "" {
			bad("%s.username: a password needs a username", f)
		}
		if t.CallerID != "" && !validDialString(t.CallerID) {
			bad("%s.callerId: %s is not a number", f, wire.Quote(t.CallerID))
		}
		for j, p := range t.Prefixes {
			if !validDialString(p) {
				bad("%s.prefixes[%d]: %s is not digits, + * or #", f, j, wire.Quote(p))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", server.ErrInvalidConfig, errors.Join(errs...))
	}
	return nil
}

func isIPv6(s string) bool {
	ip, err := netip.ParseAddr(s)
	return err == nil && ip.Is6()
}

// validDialString reports whether s is what a phone number may be on a
// trunk: 1-32 of digits, '*', '#', with an optional leading '+'.
func validDialString(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && c != '*' && c != '#' {
			return false
		}
	}
	return true
}

package server

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/onecxi/phone/server/push"
	"github.com/onecxi/phone/server/trunk"
	"github.com/onecxi/phone/wire"
)

// Defaults applied to zero fields of a [Config].
const (
	DefaultListen      = "127.0.0.1:8471"
	DefaultMaxCalls    = 2000
	DefaultAnswerDelay = time.Second // of the simulated trunk, when read from JSON
)

// Environments, as the push payload's "environment" field spells them.
const (
	EnvDevelopment = "DEVELOPMENT"
	EnvProduction  = "PRODUCTION"
)

// DID routes.
const (
	RouteEcho      = "echo"
	RouteIVR       = "ivr"
	RouteAppPrefix = "app:" // followed by the registered number to ring
)

// Trunk types (the simulated trunk's modes are trunk.ModeEcho and
// trunk.ModeTone).
const (
	TrunkSimulated = "simulated"
	TrunkNone      = "none"
	TrunkSIP       = "sip" // built by package sipgw and passed with WithTrunk
)

// Bounds on configured durations; beyond them a value is surely a typo.
const (
	maxRingTimeout = 10 * time.Minute
	maxAnswerDelay = time.Minute
	hashPrefix     = "sha256:"
	keyPrefix      = "ocx_"
)

// ErrInvalidConfig is wrapped by every configuration error.
var ErrInvalidConfig = errors.New("invalid config")

// Config is the server's configuration. The zero value of an optional field
// means its default (see [Config.Validate]).
type Config struct {
	// Listen is the TCP address of ListenAndServe, host:port.
	Listen string
	// MetricsListen is the TCP address of the operations listener
	// (Server.ServeMetrics: /metrics, /healthz, /readyz), host:port; empty
	// (the default) serves no metrics. It is a separate address so that
	// the metrics are not published wherever the call port is: keep it on
	// loopback or a private network. onecxi-server needs WithMetrics for
	// it (package server/metrics).
	MetricsListen string
	// TLSCert and TLSKey are PEM file paths; both or neither. With them the
	// server speaks https and wss.
	TLSCert, TLSKey string
	// Environment goes into push payloads: DEVELOPMENT or PRODUCTION.
	Environment string
	// RingTimeout bounds how long an app-to-app call rings (default
	// wire.DefaultRingTimeout).
	RingTimeout time.Duration
	// MaxCalls bounds concurrent calls over all accounts (default
	// DefaultMaxCalls).
	MaxCalls int
	// DrainTimeout bounds how long a drain (Server.Drain, and Serve when
	// its context ends) lets live calls go on before they are ended with
	// reason "shutdown": default DefaultDrainTimeout, at most wire.MaxDrain;
	// NoDrain (any negative value; "0s" in JSON) ends them at once.
	DrainTimeout time.Duration
	// DrainDelay is how long a node of a cluster, draining, waits before
	// it moves phones and hands calls to other nodes (drain.go): readiness
	// is already false, and the load balancer should stop sending it new
	// connections first, or the phones' resumes reach it again. Set it to
	// the balancer's health-check interval and a little. Default 0 (at
	// once), at most MaxDrainDelay; part of DrainTimeout.
	DrainDelay time.Duration
	// ResumeGrace is how long a call whose party's connection is lost
	// waits for that party to resume it (PROTOCOL.md, "Call resumption")
	// before it ends with network_lost: default wire.DefaultResumeGrace, at
	// most wire.MaxResumeGrace; NoResume (any negative value; "0s" in
	// JSON) turns resumption off.
	ResumeGrace time.Duration
	// Accounts are the tenants configured in the file; at least one unless
	// a Database holds more. They seed the accounts store at start (see
	// SeedAccounts).
	Accounts []Account
	// Trunk carries outbound calls.
	Trunk TrunkConfig
	// DeviceDB is the SQLite file of the device registry; empty keeps
	// registrations in the Database if there is one, else in memory only.
	// Package server/providers opens it.
	DeviceDB string
	// Database is where accounts, API key hashes and call detail records
	// live: "sqlite:<file>" or a "postgres://…" URL (package
	// server/sqlstore; server/providers opens it). Empty keeps accounts in
	// memory, seeded from Accounts, and keeps no call detail records.
	Database string
	// NodeID names this server in call detail records (default: the
	// host name): 1-64 printable characters.
	NodeID string
	// NATS is the NATS servers this node joins its cluster through: a
	// comma-separated list of nats://host:port URLs (ParseNATSURLs).
	// Empty: onecxi-server embeds a NATS server in its own process (a
	// cluster of one, no port opened). Package server/natsbus connects it
	// (WithCluster).
	NATS string
	// Push configures APNs and FCM delivery; zero means none. Package
	// server/providers builds its transports.
	Push push.Config
	// Limits bounds what one account, connection or client address can
	// take; zero fields take their defaults (see [Limits]).
	Limits Limits
	// TrustedProxies are the load balancers in front of the server (IP
	// addresses or CIDR prefixes). A request from one of them is taken to
	// come from the address its X-Forwarded-For names (the last one not
	// itself a trusted proxy): the failed-authentication back-off and the
	// logs then see the client, not the balancer. Empty: the TCP peer is
	// the client, and X-Forwarded-For is ignored (anyone could send it).
	TrustedProxies []string
}

// Account is one tenant: its credentials and its DID plan.
type Account struct {
	// Name is what clients send in X-OneCxi-Account: 1-64 of A-Z a-z 0-9 . _ -
	Name string `json:"name"`
	// APIKeyHashes are HashKey outputs ("sha256:<64 hex>"); any of them
	// authenticates, so keys can be rotated without downtime.
	APIKeyHashes []string `json:"apiKeyHashes"`
	// DIDs maps a DID to its route: "echo", "ivr" or "app:<registeredNumber>".
	DIDs map[string]string `json:"dids,omitempty"`
}

// TrunkConfig selects and tunes the trunk for outbound calls.
type TrunkConfig struct {
	// Type is "simulated" (default), "none" (outbound calls fail
	// trunk_failed) or "sip" (the SIP gateway of package sipgw, which reads
	// SIP and must be passed to New with WithTrunk).
	Type string
	// AnswerDelay is how long the simulated far end rings before answering.
	AnswerDelay time.Duration
	// Mode is what the simulated far end does once answered: "echo"
	// (default) sends the caller's audio back; "tone:<hz>" plays a tone.
	Mode string
	// Busy lists numbers the simulated trunk fails with busy, to exercise
	// failures.
	Busy []string
	// SIP is the raw "sip" section of a "sip" trunk, parsed and validated by
	// sipgw.ParseConfig: the server itself does not speak SIP.
	SIP json.RawMessage
}

// configFile is Config as JSON spells it: durations are strings such as "1s"
// so that an error can name the field that holds a bad one.
type configFile struct {
	Listen       string      `json:"listen"`
	TLSCert      string      `json:"tlsCert"`
	TLSKey       string      `json:"tlsKey"`
	Environment  string      `json:"environment"`
	RingTimeout  string      `json:"ringTimeout"`
	MaxCalls     int         `json:"maxCalls"`
	DrainTimeout *string     `json:"drainTimeout"`
	DrainDelay   string      `json:"drainDelay"`
	ResumeGrace  *string     `json:"resumeGrace"`
	Accounts     []Account   `json:"accounts"`
	Trunk        trunkFile   `json:"trunk"`
	DeviceDB     string      `json:"deviceDb"`
	Database     string      `json:"database"`
	NodeID       string      `json:"nodeId"`
	NATS         string      `json:"nats"`
	Push         push.Config `json:"push"`
	Limits       limitsFile  `json:"limits"`

	TrustedProxies []string `json:"trustedProxies"`

	MetricsListen string `json:"metricsListen"`
}

type trunkFile struct {
	Type        string          `json:"type"`
	AnswerDelay *string         `json:"answerDelay"`
	Mode        string          `json:"mode"`
	Busy        []string        `json:"busy"`
	SIP         json.RawMessage `json:"sip"`
}

// LoadConfig reads, parses and validates a JSON configuration file. Unknown
// fields are errors, so a misspelt option is not silently ignored.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("load config: %w", wire.QuoteError(err))
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("load config %s: %w", wire.QuotePath(path), err)
	}
	return cfg, nil
}

// ParseConfig parses and validates a JSON configuration (see LoadConfig).
func ParseConfig(data []byte) (Config, error) {
	var f configFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Config{}, fmt.Errorf("%w: %s", ErrInvalidConfig, describeJSONError(data, err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%w: trailing data after the JSON object", ErrInvalidConfig)
	}
	cfg := Config{
		Listen:      f.Listen,
		TLSCert:     f.TLSCert,
		TLSKey:      f.TLSKey,
		Environment: f.Environment,
		MaxCalls:    f.MaxCalls,
		DeviceDB:    f.DeviceDB,
		Database:    f.Database,
		NodeID:      f.NodeID,
		NATS:        f.NATS,
		Push:        f.Push,
		Accounts:    f.Accounts,
		Trunk: TrunkConfig{
			Type:        f.Trunk.Type,
			AnswerDelay: DefaultAnswerDelay,
			Mode:        f.Trunk.Mode,
			Busy:        f.Trunk.Busy,
			SIP:         f.Trunk.SIP,
		},
	}
	cfg.MetricsListen = f.MetricsListen
	cfg.TrustedProxies = f.TrustedProxies
	var errs []error
	if f.RingTimeout != "" {
		d, err := time.ParseDuration(f.RingTimeout)
		if err != nil {
			errs = append(errs, fmt.Errorf("ringTimeout: %s is not a duration such as \"45s\"", wire.Quote(f.RingTimeout)))
		}
		cfg.RingTimeout = d
	}
	if f.DrainTimeout != nil {
		d, err := ParseDrainTimeout(*f.DrainTimeout)
		if err != nil {
			errs = append(errs, fmt.Errorf("drainTimeout: %w", err))
		}
		cfg.DrainTimeout = d
	}
	if f.DrainDelay != "" {
		d, err := time.ParseDuration(f.DrainDelay)
		if err != nil {
			errs = append(errs, fmt.Errorf("drainDelay: %s is not a duration such as \"2s\"", wire.Quote(f.DrainDelay)))
		}
		cfg.DrainDelay = d
	}
	if f.ResumeGrace != nil {
		d, err := ParseResumeGrace(*f.ResumeGrace)
		if err != nil {
			errs = append(errs, fmt.Errorf("resumeGrace: %w", err))
		}
		cfg.ResumeGrace = d
	}
	if f.Trunk.AnswerDelay != nil {
		d, err := time.ParseDuration(*f.Trunk.AnswerDelay)
		if err != nil {
			errs = append(errs, fmt.Errorf("trunk.answerDelay: %s is not a duration such as \"1s\"", wire.Quote(*f.Trunk.AnswerDelay)))
		}
		cfg.Trunk.AnswerDelay = d
	}
	cfg.Limits, errs = f.Limits.parse(errs)
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg.withDefaults(), nil
}

// describeJSONError turns a decoding error into text with a line and column,
// since byte offsets mean little to someone editing a file.
func describeJSONError(data []byte, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := lineCol(data, syn.Offset)
		return fmt.Sprintf("line %d, column %d: %v", line, col, syn)
	case errors.As(err, &typ):
		line, col := lineCol(data, typ.Offset)
		return fmt.Sprintf("line %d, column %d: field %s: got JSON %s, want %s", line, col, typ.Field, jsonValue(typ.Value), typ.Type)
	case errors.Is(err, io.EOF):
		return "empty file"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	return wire.QuoteError(err).Error()
}

// jsonValue is an UnmarshalTypeError's Value ("string", "number 12") with
// a long number quoted short.
func jsonValue(v string) string {
	if num, ok := strings.CutPrefix(v, "number "); ok && utf8.RuneCountInString(num) > wire.QuoteRunes {
		return "number " + wire.Quote(num)
	}
	return v
}

func lineCol(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// Validate checks every field and reports all problems at once, each naming
// its field. Zero optional fields are valid (they take defaults).
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.Listen != "" {
		if err := CheckListenAddr(c.Listen); err != nil {
			bad("listen: %v", err)
		}
	}
	if c.MetricsListen != "" {
		if err := CheckListenAddr(c.MetricsListen); err != nil {
			bad("metricsListen: %v", err)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tlsCert, tlsKey: give both (https/wss) or neither (http/ws)")
	}
	switch c.Environment {
	case "", EnvDevelopment, EnvProduction:
	default:
		bad("environment: %s is not %s or %s", wire.Quote(c.Environment), EnvDevelopment, EnvProduction)
	}
	if c.RingTimeout < 0 || c.RingTimeout > maxRingTimeout {
		bad("ringTimeout: %v is outside 0..%v", c.RingTimeout, maxRingTimeout)
	}
	if c.MaxCalls < 0 {
		bad("maxCalls: %d is negative", c.MaxCalls)
	}
	if c.DrainTimeout > wire.MaxDrain {
		bad("drainTimeout: %v is over %v", c.DrainTimeout, wire.MaxDrain)
	}
	if c.DrainDelay < 0 || c.DrainDelay > MaxDrainDelay {
		bad("drainDelay: %v is outside 0..%v", c.DrainDelay, MaxDrainDelay)
	}
	if c.ResumeGrace > wire.MaxResumeGrace {
		bad("resumeGrace: %v is over %v", c.ResumeGrace, wire.MaxResumeGrace)
	}
	errs = append(errs, c.Push.Validate()...)
	errs = append(errs, c.Limits.validate()...)
	if len(c.Accounts) == 0 && c.Database == "" {
		bad("accounts: at least one account is required (or a database holding them)")
	}
	if c.NodeID != "" && !validNodeID(c.NodeID) {
		bad("nodeId: %s is not 1-64 printable characters", wire.Quote(c.NodeID))
	}
	if c.NATS != "" {
		if _, err := ParseNATSURLs(c.NATS); err != nil {
			bad("nats: %v", err)
		}
	}
	if _, err := parseProxies(c.TrustedProxies); err != nil {
		bad("trustedProxies: %v", err)
	}
	seen := make(map[string]bool, len(c.Accounts))
	didOwner := make(map[string]string)
	for i, a := range c.Accounts {
		field := fmt.Sprintf("accounts[%d]", i)
		switch {
		case a.Name == "":
			bad("%s.name: empty", field)
		case !validAccountName(a.Name):
			bad("%s.name: %s is not 1-64 of A-Z a-z 0-9 . _ -", field, wire.Quote(a.Name))
		case seen[a.Name]:
			bad("%s.name: %q is used by another account", field, a.Name)
		}
		seen[a.Name] = true
		if len(a.APIKeyHashes) == 0 {
			bad("%s.apiKeyHashes: at least one key hash is required (see onecxi-server gen-key)", field)
		}
		for j, h := range a.APIKeyHashes {
			if _, err := parseKeyHash(h); err != nil {
				bad("%s.apiKeyHashes[%d]: %v", field, j, err)
			}
		}
		for did, r := range a.DIDs {
			if !wire.ValidNumber(did) {
				bad("%s.dids[%s]: not a number (digits, optional leading +, at most %d)", field, wire.Quote(did), wire.MaxNumberLen)
			}
			if _, err := parseRoute(r); err != nil {
				bad("%s.dids[%s]: %v", field, wire.Quote(did), err)
			}
			// Calls from the network find their account by DID alone; apps
			// dial DIDs within their own account, so only a SIP trunk
			// needs DIDs to be unique.
			if owner, ok := didOwner[did]; ok && owner != a.Name && c.Trunk.Type == TrunkSIP {
				bad("%s.dids[%s]: also a DID of account %s; with a SIP trunk each DID belongs to one account", field, wire.Quote(did), wire.Quote(owner))
			}
			didOwner[did] = a.Name
		}
	}
	switch c.Trunk.Type {
	case "", TrunkSimulated, TrunkNone:
		if len(c.Trunk.SIP) > 0 {
			bad("trunk.sip: only a trunk of type %q has a sip section", TrunkSIP)
		}
	case TrunkSIP:
		if len(c.Trunk.SIP) == 0 {
			bad("trunk.sip: a trunk of type %q needs its sip section (see docs/sip-gateway.md)", TrunkSIP)
		}
	default:
		bad("trunk.type: %s is not %s, %s or %s", wire.Quote(c.Trunk.Type), TrunkSimulated, TrunkSIP, TrunkNone)
	}
	if c.Trunk.AnswerDelay < 0 || c.Trunk.AnswerDelay > maxAnswerDelay {
		bad("trunk.answerDelay: %v is outside 0..%v", c.Trunk.AnswerDelay, maxAnswerDelay)
	}
	if _, err := trunk.ParseMode(c.Trunk.Mode); err != nil {
		bad("trunk.mode: %v", err)
	}
	for i, n := range c.Trunk.Busy {
		if !wire.ValidNumber(n) {
			bad("trunk.busy[%d]: %s is not a number", i, wire.Quote(n))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	return nil
}

// withDefaults returns c with zero optional fields set.
func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Environment == "" {
		c.Environment = EnvDevelopment
	}
	if c.RingTimeout == 0 {
		c.RingTimeout = wire.DefaultRingTimeout
	}
	if c.MaxCalls == 0 {
		c.MaxCalls = DefaultMaxCalls
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.ResumeGrace == 0 {
		c.ResumeGrace = wire.DefaultResumeGrace
	}
	if c.Trunk.Type == "" {
		c.Trunk.Type = TrunkSimulated
	}
	if c.NodeID == "" {
		c.NodeID = defaultNodeID()
	}
	c.Limits = c.Limits.withDefaults()
	if c.Trunk.Mode == "" {
		c.Trunk.Mode = trunk.ModeEcho
	}
	return c
}

// CheckListenAddr checks a host:port to listen on (port 0-65535; 0 picks a
// free one). The SIP gateway's configuration uses it too.
func CheckListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s is not host:port: %w", wire.Quote(addr), wire.QuoteError(err))
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%s: port %s is not 0-65535", wire.Quote(addr), wire.Quote(port))
	}
	return nil
}

// defaultNodeID is the host name, or "onecxi" if it cannot be had.
func defaultNodeID() string {
	if h, err := os.Hostname(); err == nil && validNodeID(h) {
		return h
	}
	return "onecxi"
}

func validNodeID(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 64 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func validAccountName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}

// routeKind is what a DID does.
type routeKind int

const (
	routeEcho routeKind = iota + 1
	routeIVR
	routeApp
)

// didRoute is a parsed DID plan entry.
type didRoute struct {
	kind   routeKind
	number string // routeApp: the registered number to ring
}

func parseRoute(s string) (didRoute, error) {
	switch {
	case s == RouteEcho:
		return didRoute{kind: routeEcho}, nil
	case s == RouteIVR:
		return didRoute{kind: routeIVR}, nil
	case strings.HasPrefix(s, RouteAppPrefix):
		n := strings.TrimPrefix(s, RouteAppPrefix)
		if !wire.ValidNumber(n) {
			return didRoute{}, fmt.Errorf("route %s: %s is not a registered number", wire.Quote(s), wire.Quote(n))
		}
		return didRoute{kind: routeApp, number: n}, nil
	}
	return didRoute{}, fmt.Errorf("route %s is not echo, ivr or app:<registeredNumber>", wire.Quote(s))
}

// Simulated is the simulated trunk's part of t.
func (t TrunkConfig) Simulated() trunk.SimulatedConfig {
	return trunk.SimulatedConfig{AnswerDelay: t.AnswerDelay, Mode: t.Mode, Busy: t.Busy}
}

// HashKey returns the form in which a configuration stores an API key:
// "sha256:" and the hex SHA-256 of the key. The key itself is never stored.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hashPrefix + hex.EncodeToString(sum[:])
}

func parseKeyHash(s string) ([sha256.Size]byte, error) {
	var h [sha256.Size]byte
	hexPart, ok := strings.CutPrefix(s, hashPrefix)
	if !ok || len(hexPart) != 2*sha256.Size {
		return h, fmt.Errorf("%q is not %s<64 hex digits> (see onecxi-server hash-key)", shorten(s), hashPrefix)
	}
	if _, err := hex.Decode(h[:], []byte(hexPart)); err != nil {
		return h, fmt.Errorf("%q is not %s<64 hex digits>: %w", shorten(s), hashPrefix, err)
	}
	return h, nil
}

// shorten keeps error messages readable (and avoids echoing a pasted key
// whole if someone put the key where its hash belongs).
func shorten(s string) string {
	if len(s) > 16 {
		return s[:8] + "…" + wire.Redact(s)
	}
	return s
}

// GenerateKey returns a new random API key: "ocx_" and 32 random bytes in
// unpadded base64url.
func GenerateKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return keyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// DemoConfig returns a ready-to-run local configuration and the API key of
// its one account, "demo", which is freshly generated on every call: DIDs
// 90000 (echo) and 90050 (IVR), the simulated trunk answering after 1 s for
// outbound calls, listening on DefaultListen without TLS.
func DemoConfig() (Config, string) {
	key := GenerateKey()
	cfg := Config{
		Listen:       DefaultListen,
		Environment:  EnvDevelopment,
		RingTimeout:  wire.DefaultRingTimeout,
		MaxCalls:     DefaultMaxCalls,
		DrainTimeout: DefaultDrainTimeout,
		ResumeGrace:  wire.DefaultResumeGrace,
		NodeID:       defaultNodeID(),
		Accounts: []Account{{
			Name:         "demo",
			APIKeyHashes: []string{HashKey(key)},
			DIDs:         map[string]string{"90000": RouteEcho, "90050": RouteIVR},
		}},
		Trunk: TrunkConfig{Type: TrunkSimulated, AnswerDelay: time.Second, Mode: trunk.ModeEcho},
	}
	return cfg, key
}

package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/onecxi/phone/internal/flagparse"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/wire"
)

// Build-time defaults, set with -ldflags "-X github.com/onecxi/phone/app.buildAPIKey=…"
// (the Makefile feeds them from the git-ignored secrets.local.json). Never
// put a key in source.
var (
	buildServerURL string
	buildAccount   string
	buildAPIKey    string
)

// Environment variables, read when the matching flag is not given.
const (
	envServerURL      = "ONECXI_SERVER_URL"
	envAccount        = "ONECXI_ACCOUNT"
	envAPIKey         = "ONECXI_API_KEY"
	envNumber         = "ONECXI_NUMBER"
	envServiceNumbers = "ONECXI_SERVICE_NUMBERS"
)

// Preference keys.
const (
	prefNumber      = "registeredNumber"
	prefServerURL   = "serverURL"       // "" or absent: the built-in demo server
	prefAccount     = "accountName"     // the API key is in the secret store, never here
	prefHistory     = "callHistory"     // JSON list of screens.CallRecord, newest first
	prefDialLinks   = "calls.dialLinks" // Settings: click-to-call links call at once
	prefMicrophone  = "audio.microphone"
	prefHeadset     = "audio.headset"
	prefLoudspeaker = "audio.loudspeaker"
)

// defaultNumber is the first user's registered number on a fresh install.
const defaultNumber = "1001"

// Config is how the app starts.
type Config struct {
	ServerURL string // empty: run the embedded server
	Account   string
	APIKey    string
	Number    string // registered number; empty: from preferences
	Audio     string // "auto", "none" or "tone:<hz>"
	Listen    string // embedded server address
	// Link is a click-to-call link (tel:, callto:, sip:) the app was started
	// with: the one argument after the flags.
	Link string
	// ServiceNumbers are numbers a link dials as a service number (DID)
	// rather than a phone number (-service-numbers, ONECXI_SERVICE_NUMBERS).
	ServiceNumbers []string

	// Tests replace the sound system, the secret store and the network
	// watcher; nil picks them from Audio and the OS.
	sound   soundSystem
	secrets secretStore
	network platform.NetworkWatcher
}

// Embedded reports whether the app runs its own server.
func (c Config) Embedded() bool { return c.ServerURL == "" }

// ParseConfig reads flags, then environment, then build-time defaults.
func ParseConfig(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("onecxi-phone", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.ServerURL, "server", first(getenv(envServerURL), buildServerURL), "call server URL (https://host:port); empty runs the built-in demo server")
	fs.StringVar(&c.Account, "account", first(getenv(envAccount), buildAccount), "account name for -server")
	fs.StringVar(&c.Number, "number", getenv(envNumber), "your registered number (default: the saved one, or "+defaultNumber+")")
	fs.StringVar(&c.Audio, "audio", "auto", `audio device: "auto" (microphone and speaker), "none" (silence), or "tone:<hz>" (test tone)`)
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8471", "address of the built-in demo server")
	services := fs.String("service-numbers", getenv(envServiceNumbers), "comma-separated service numbers (DIDs): a click-to-call link to one of them dials it as a service number")
	fs.Usage = func() {
		fmt.Fprintln(out, "usage: onecxi-phone [flags] [tel:|callto:|sip: link]")
		fs.PrintDefaults()
	}
	if err := flagparse.Parse(fs, args); err != nil {
		return c, err
	}
	switch fs.NArg() {
	case 0:
	case 1:
		c.Link = fs.Arg(0) // checked by the phone that opens it (app/dialuri)
	default:
		return c, fmt.Errorf("unexpected argument %s (one click-to-call link at most)", wire.Quote(fs.Arg(1)))
	}
	for _, n := range strings.Split(*services, ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if !wire.ValidNumber(n) {
			return c, fmt.Errorf("-service-numbers: %s is not a number", wire.Quote(n))
		}
		c.ServiceNumbers = append(c.ServiceNumbers, n)
	}
	c.APIKey = first(getenv(envAPIKey), buildAPIKey)
	if c.ServerURL != "" && (c.Account == "" || c.APIKey == "") {
		return c, errors.New("-server needs an account (-account or " + envAccount + ") and an API key (" + envAPIKey + ")")
	}
	if c.Number != "" && !wire.ValidNumber(c.Number) {
		return c, fmt.Errorf("-number %s is not a number (digits, optional leading +)", wire.Quote(c.Number))
	}
	if err := checkAudioSpec(c.Audio); err != nil {
		return c, err
	}
	return c, nil
}

func checkAudioSpec(s string) error {
	switch {
	case s == "auto", s == "none":
		return nil
	case strings.HasPrefix(s, "tone:"):
		hz, err := strconv.ParseFloat(strings.TrimPrefix(s, "tone:"), 64)
		if err != nil || !(hz > 0 && hz < 4000) { // also rejects NaN
			return fmt.Errorf("-audio %s: the tone must be between 0 and 4000 Hz", wire.Quote(s))
		}
		return nil
	}
	return fmt.Errorf("-audio %s: use auto, none or tone:<hz>", wire.Quote(s))
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

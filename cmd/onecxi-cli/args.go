package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/onecxi/phone/wire"
)

// command is what the CLI does.
type command string

const (
	cmdInbound  command = "inbound"  // dial a DID
	cmdOutbound command = "outbound" // dial a phone number
	cmdApp      command = "app"      // call another app user
	cmdListen   command = "listen"   // wait for app-to-app calls
)

type options struct {
	cmd       command
	target    string // DID, phone number or other user's number
	server    string
	account   string
	apiKey    string
	number    string // this user's registered number
	in, out   string // audio input spec and output WAV
	dtmf      string
	dtmfDelay time.Duration
	duration  time.Duration
	decline   bool
	insecure  bool
}

const usage = `usage: onecxi-cli [flags] <command> [number]

commands:
  inbound <did>        call a server DID (90000 echo test, 90050 IVR in the demo)
  outbound <number>    call a phone number through the server's trunk
  app <number>         call another app user by registered number
  listen               wait for one app-to-app call to -number and answer it
                       (with -decline: decline it), then exit when it ends

A call ends when the far end hangs up, after -duration, when a WAV -in has
been played, or on Ctrl-C. Events are printed as they happen, with seconds
since start; a stats summary follows the call. Exit status: 0 for a call
that ended normally (or listen stopped or declined), 1 on failure, including
a declined outgoing call, 2 for bad usage.

environment:
  ONECXI_API_KEY       API key (required)
  ONECXI_SERVER_URL, ONECXI_ACCOUNT, ONECXI_NUMBER   defaults for the flags

flags:
`

// helpError is parseArgs's error for -h: the full usage text.
type helpError struct{ text string }

func (e *helpError) Error() string { return e.text }

func parseArgs(args []string, env func(string) string) (options, error) {
	var o options
	fs := flag.NewFlagSet("onecxi-cli", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.server, "server", env("ONECXI_SERVER_URL"), "server URL, http(s)://host:port")
	fs.StringVar(&o.account, "account", env("ONECXI_ACCOUNT"), "account name")
	fs.StringVar(&o.number, "number", env("ONECXI_NUMBER"), "this user's registered number")
	fs.StringVar(&o.in, "in", "tone:440", "microphone `spec`: a WAV file (16-bit PCM, 8-48 kHz; it starts when the call is answered), tone:<hz>[:<amplitude>], or empty for silence")
	fs.StringVar(&o.out, "out", "", "write what the speaker played (8 kHz mono WAV) to this `file` when the call ends")
	fs.StringVar(&o.dtmf, "dtmf", "", "digits to send once answered (0-9 * #)")
	fs.DurationVar(&o.dtmfDelay, "dtmf-delay", 2*time.Second, "wait after answer before sending -dtmf")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "hang up this long after the answer (0: wait for the far end, the end of a WAV -in, or Ctrl-C)")
	fs.BoolVar(&o.decline, "decline", false, "listen: decline the call instead of answering it")
	fs.BoolVar(&o.insecure, "insecure", false, "accept any TLS certificate (self-signed test servers)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			var b strings.Builder
			fs.SetOutput(&b)
			fs.PrintDefaults()
			return o, &helpError{usage + b.String()}
		}
		return o, wire.QuoteError(err) // flag's text repeats the whole argument
	}
	o.apiKey = env("ONECXI_API_KEY")
	rest := fs.Args()
	if len(rest) == 0 {
		return o, errors.New("missing command (inbound, outbound, app, listen)")
	}
	o.cmd = command(rest[0])
	switch o.cmd {
	case cmdInbound, cmdOutbound, cmdApp:
		if len(rest) != 2 {
			return o, fmt.Errorf("%s needs exactly one number", o.cmd)
		}
		o.target = rest[1]
		if !wire.ValidNumber(o.target) {
			return o, fmt.Errorf("%s is not a number (digits, optional leading +)", wire.Quote(o.target))
		}
	case cmdListen:
		if len(rest) != 1 {
			return o, errors.New("listen takes no number; set -number")
		}
	default:
		return o, fmt.Errorf("unknown command %s", wire.Quote(string(o.cmd)))
	}
	switch {
	case o.server == "":
		return o, errors.New("-server (or ONECXI_SERVER_URL) is required")
	case o.account == "":
		return o, errors.New("-account (or ONECXI_ACCOUNT) is required")
	case o.apiKey == "":
		return o, errors.New("ONECXI_API_KEY is not set")
	case !wire.ValidNumber(o.number):
		return o, errors.New("-number (or ONECXI_NUMBER) must be your registered number")
	}
	for _, d := range o.dtmf {
		if !wire.ValidDigit(string(d)) {
			return o, fmt.Errorf("-dtmf: %q is not one of 0-9 * #", d)
		}
	}
	if o.duration < 0 {
		return o, errors.New("-duration must not be negative")
	}
	return o, nil
}

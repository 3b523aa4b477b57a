// Command onecxi-cli places and answers OneCxi calls from a terminal, with a
// WAV file or a tone as microphone and a WAV file as speaker. It is the
// support engineer's and the test suite's phone.
//
// Usage:
//
//	onecxi-cli [flags] inbound <did>       call a server DID (demo: 90000 echo, 90050 IVR)
//	onecxi-cli [flags] outbound <number>   call a phone number through the server's trunk
//	onecxi-cli [flags] app <number>        call another app user
//	onecxi-cli [flags] listen              answer one app-to-app call to -number (-decline: decline it)
//
// The API key is read from ONECXI_API_KEY (never from a flag, so it stays out
// of shell history and process listings); ONECXI_SERVER_URL, ONECXI_ACCOUNT
// and ONECXI_NUMBER give the defaults of -server, -account and -number.
// Against the demo server (onecxi-server without -config, which prints its
// key):
//
//	export ONECXI_API_KEY=ocx_... ONECXI_SERVER_URL=http://127.0.0.1:8471 ONECXI_ACCOUNT=demo
//	onecxi-cli -number 1001 -out /tmp/echo.wav -duration 3s inbound 90000
//	onecxi-cli -number 1001 -dtmf 123 inbound 90050
//	onecxi-cli -number 1001 outbound +14155550100
//	onecxi-cli -number 1002 -in tone:1004 -duration 0 listen &   # then, elsewhere:
//	onecxi-cli -number 1001 -in tone:440 -duration 3s app 1002
//
// -in is a WAV file (16-bit PCM, 8 to 48 kHz, mono or stereo), tone:<hz> or
// tone:<hz>:<amplitude>, or "" for silence (default tone:440). -out gets
// everything the speaker played, 8 kHz mono, when the call ends. -dtmf sends
// digits -dtmf-delay after the answer, 400 ms apart.
//
// A call ends when the far end hangs up, -duration after the answer (default
// 10s; 0 means no limit), when a WAV -in has been played, or on Ctrl-C. Each
// event is printed on one line with the seconds since start (the first line
// gives the wall-clock start time in UTC), here abridged:
//
//	0.001s  signed in  account demo on http://127.0.0.1:8471
//	0.001s  calling    DID 90000 as 1001
//	0.003s  started    inbound call with 90000 as 1001
//	0.003s  status     active, call c_47dcb0116f15dde76a2f0a4f
//	3.003s  hangup     after 3s (-duration)
//	3.005s  ended      inbound call with 90000
//	3.005s  stats      call c_47dcb0116f15dde76a2f0a4f, inbound with 90000: answered after 1ms, talked 3.00s
//
// followed by stats lines for the audio sent and received and the jitter
// buffer. The exit status is 0 for a call that ended normally (and for
// listen stopped with Ctrl-C or having declined its call), 1 when signing
// in, the call or writing -out failed or the callee declined, and 2 for bad
// usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	opts, err := parseArgs(os.Args[1:], os.Getenv)
	var help *helpError
	if errors.As(err, &help) {
		fmt.Print(help.text)
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "onecxi-cli:", err)
		fmt.Fprintln(os.Stderr, "run 'onecxi-cli -h' for usage")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "onecxi-cli:", err)
		os.Exit(1)
	}
}

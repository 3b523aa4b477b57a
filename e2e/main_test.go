package e2e

import (
	"flag"
	"os"
	"strconv"
	"testing"
)

// waitingParallel is how many tests of this package run at once unless
// -parallel says otherwise. Most of their time is spent waiting — a network
// stalled for 15 s, an outage outlasting the 30 s resume grace — not
// computing, so running only GOMAXPROCS of them at once (go test's default)
// would make the package take minutes on a two-core CI machine for nothing.
const waitingParallel = 8

func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(waitingParallel))
	}
	os.Exit(m.Run())
}

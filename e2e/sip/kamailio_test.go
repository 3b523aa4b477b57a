package sip_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/servertest"
)

// These tests put a real PBX between the gateway and the phone: Debian's
// Kamailio as registrar and authenticating proxy (testdata/kamailio.cfg),
// with baresip registered to it as the customer's phone. The gateway
// registers too, as a trunk on a PBX does, and must pass Kamailio's digest
// challenges on REGISTER (401) and INVITE (407).

const kamailioBin = "/usr/sbin/kamailio"

type kamailio struct {
	t    *testing.T
	port int
	addr string // 127.0.0.1:port, SIP over UDP and TCP
	out  *servertest.SyncBuffer
}

// startKamailio runs a private Kamailio on a free port; a missing binary
// skips the test loudly.
func startKamailio(t *testing.T) *kamailio {
	t.Helper()
	if _, err := os.Stat(kamailioBin); err != nil {
		t.Skipf("SKIPPED: %s is not installed (apt-get install kamailio): the PBX interop test needs a real registrar", kamailioBin)
	}
	mods, _ := filepath.Glob("/usr/lib/*/kamailio/modules/tm.so")
	require.NotEmpty(t, mods, "kamailio's modules are missing")
	cfg, err := filepath.Abs("testdata/kamailio.cfg")
	require.NoError(t, err)
	dir := t.TempDir()
	port := freePort(t)
	k := &kamailio{t: t, port: port, addr: fmt.Sprintf("127.0.0.1:%d", port), out: &servertest.SyncBuffer{}}
	cmd := exec.Command(kamailioBin, "-f", cfg, "-DD", "-E", "-L", filepath.Dir(mods[0]),
		"-l", "udp:"+k.addr, "-l", "tcp:"+k.addr, "-Y", dir, "-P", filepath.Join(dir, "pid"), "-m", "32", "-M", "8")
	cmd.Stdout, cmd.Stderr = k.out, k.out
	// Kamailio forks its workers: run it in its own process group so all of
	// them go when the test ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("kamailio output:\n%s", k.out.String())
		}
	})
	k.waitLog(`SO_RCVBUF is finally`, 10*time.Second)
	return k
}

func (k *kamailio) waitLog(re string, timeout time.Duration) {
	k.t.Helper()
	waitOutput(k.t, "kamailio", k.out, re, timeout)
}

// pbxTrunk is a gateway config whose one trunk is Kamailio, registering as
// gwuser.
func pbxTrunk(k *kamailio) string {
	return fmt.Sprintf(`{"listen":"127.0.0.1:0","rtpPortMin":31000,"rtpPortMax":31999,"rtpTimeout":"5s",
		"answerTimeout":"6s","responseTimeout":"2s",
		"trunks":[{"name":"pbx","host":"127.0.0.1","port":%d,"username":%q,"password":%q,"register":true,
		"registerExpiry":"60s"}]}`, k.port, peerUser, peerPass)
}

// onPBX starts Kamailio, baresip registered to it as bob, and the gateway
// registered to it as gwuser, with extra DIDs.
func onPBX(t *testing.T, dids map[string]string) (*kamailio, *baresip, *gwEnv) {
	t.Helper()
	k := startKamailio(t)
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber, registrar: k.addr, password: peerPass})
	k.waitLog(`registered `+bobNumber+` `, waitEvent)
	e := startGateway(t, pbxTrunk(k), dids)
	k.waitLog(`registered `+peerUser+` `, waitEvent)
	return k, b, e
}

func TestOutboundCallThroughAPBXToARegisteredPhone(t *testing.T) {
	k, b, e := onPBX(t, nil)
	a := e.newPhone(t, appTone)

	a.callBob()
	k.waitLog(`relaying INVITE for `+bobNumber+` `, waitEvent)
	a.hears(baresipTone)
	baresipHears(t, b, appTone)

	require.NoError(t, a.sdk.EndCall(testCtx(t)))
	a.waitFor("ended outbound " + bobNumber)
	b.waitLog(`session closed: Connection reset by peer|terminated \(duration`, waitEvent)
}

func TestInboundCallThroughAPBXRingsTheAppOnItsDID(t *testing.T) {
	k, b, e := onPBX(t, map[string]string{"5001": server.RouteAppPrefix + "1002"})
	agent := e.newPhone(t, appTone, platform.WithAutoAnswer(func(platform.IncomingCall) platform.Action { return platform.ActionAccept }))
	require.NoError(t, agent.sdk.ListenForIncomingCalls(testCtx(t), "1002"))

	// The phone dials the DID at its PBX, which sends the call to the
	// gateway's registered contact (Request-URI user "gwuser", DID in To).
	b.command("dial", "sip:5001@"+k.addr)
	k.waitLog(`relaying INVITE for 5001 from `+bobNumber+` to sip:`+peerUser+`@`, waitEvent)
	agent.waitFor("started inbound")
	agent.hears(baresipTone)
	baresipHears(t, b, appTone)

	b.command("hangup", "")
	agent.waitFor("ended inbound")
}

package sip_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server/servertest"
)

const baresipBin = "/usr/bin/baresip"

// baresip is a real SIP phone (Debian's baresip 1.0) run headless for a
// test: it plays a WAV tone as its microphone, records what it sends and
// receives (sndfile) and takes commands over ctrl_tcp.
type baresip struct {
	t       *testing.T
	dir     string
	sipPort int
	ctrl    string
	out     *servertest.SyncBuffer
	cmd     *exec.Cmd
}

type baresipOptions struct {
	toneHz     float64
	user       string // the account's user part (a number)
	answerMode string // auto or manual
	trace      bool   // log every SIP message (-s), to check the transport
	// registrar (host:port), when set, is where the account registers
	// (with password) and sends its calls, as a phone on a PBX does.
	registrar, password string
}

// startBaresip runs baresip as user "bob" on 127.0.0.1; a missing binary
// skips the test loudly. baresip also binds SIP/TLS on the SIP port + 1, which
// freePort cannot reserve: when another socket took a port meanwhile, it
// starts again on new ones.
func startBaresip(t *testing.T, o baresipOptions) *baresip {
	t.Helper()
	if _, err := os.Stat(baresipBin); err != nil {
		t.Skipf("SKIPPED: %s is not installed (apt-get install baresip-core): the SIP interop test needs a real SIP peer", baresipBin)
	}
	dir := t.TempDir()
	writeToneWAV(t, filepath.Join(dir, "tone.wav"), o.toneHz, 60*time.Second)
	for attempt := 1; ; attempt++ {
		b, inUse := launchBaresip(t, dir, o)
		if !inUse {
			return b
		}
		require.Less(t, attempt, 5, "baresip found its ports taken %d times; output:\n%s", attempt, b.out.String())
	}
}

// launchBaresip starts baresip on fresh ports in dir and waits until it is
// ready; inUse reports that it exited because a port was taken.
func launchBaresip(t *testing.T, dir string, o baresipOptions) (b *baresip, inUse bool) {
	t.Helper()
	b = &baresip{t: t, dir: dir, sipPort: freePort(t), ctrl: fmt.Sprintf("127.0.0.1:%d", freePort(t)), out: &servertest.SyncBuffer{}}
	rtp := rtpPorts(t)
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
audio_player aufile,/dev/null
audio_source aufile,%s
audio_alert aufile,/dev/null
ausrc_srate 8000
auplay_srate 8000
ausrc_channels 1
auplay_channels 1
rtp_ports %d-%d
rtp_timeout 0
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module sndfile.so
module ctrl_tcp.so
module menu.so
module account.so
ctrl_tcp_listen %s
snd_path %s
`, b.sipPort, filepath.Join(dir, "tone.wav"), rtp, rtp+1, b.ctrl, dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600))
	mode := o.answerMode
	if mode == "" {
		mode = "auto"
	}
	account := fmt.Sprintf("<sip:%s@127.0.0.1:%d>;regint=0;answermode=%s;audio_codecs=PCMU,PCMA\n", o.user, b.sipPort, mode)
	if o.registrar != "" {
		account = fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;regint=60;answermode=%s;audio_codecs=PCMU,PCMA\n",
			o.user, o.registrar, o.password, mode)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o600))

	args := []string{"-f", dir, "-v", "-n", "127.0.0.1"}
	if o.trace {
		args = append(args, "-s")
	}
	b.cmd = exec.Command(baresipBin, args...)
	b.cmd.Dir = dir
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	require.NoError(t, b.cmd.Start())
	exited := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(exited) }()
	stop := func() {
		_ = b.cmd.Process.Kill()
		<-exited
	}
	ready := regexp.MustCompile(`baresip is ready`)
	deadline := time.After(5 * time.Second)
	for !ready.MatchString(b.out.String()) {
		select {
		case <-exited:
			if strings.Contains(b.out.String(), "Address already in use") {
				return b, true
			}
			require.FailNow(t, "baresip exited before it was ready", "output:\n%s", b.out.String())
		case <-deadline:
			stop()
			require.FailNow(t, "baresip never logged that it is ready", "output:\n%s", b.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("baresip output:\n%s", b.out.String())
		}
	})
	return b, false
}

// freePort returns a port that was free on 127.0.0.1 for both UDP and TCP a
// moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		l, err := net.ListenPacket("udp4", "127.0.0.1:0")
		require.NoError(t, err)
		port := l.LocalAddr().(*net.UDPAddr).Port
		tl, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			tl.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// nextRTPPair numbers the RTP port pairs rtpPorts hands out, from a random
// start so that test processes running at once begin apart.
var nextRTPPair = func() *atomic.Int32 {
	var n atomic.Int32
	n.Store(rand.Int32N(rtpPairs))
	return &n
}()

const (
	rtpPairsFrom = 21000
	rtpPairs     = 4500 // 21000-29999
)

// rtpPorts returns an even port for baresip's RTP, with the next one for
// RTCP. baresip binds them only when a call starts and does not retry when
// one is taken by then, so they come from below the kernel's ephemeral range
// (32768 and up on Linux), where no socket bound to port 0 (a test's
// connection, another package's server) can land, and clear of the
// gateway's (31000-31999) and the test peers' (32000-32999) ranges. Each
// baresip of this process gets its own pair, free when handed out.
func rtpPorts(t *testing.T) int {
	t.Helper()
	for range rtpPairs {
		port := rtpPairsFrom + 2*int((nextRTPPair.Add(1)-1)%rtpPairs)
		if udpFree(port) && udpFree(port+1) {
			return port
		}
	}
	t.Fatal("no free RTP port pair")
	return 0
}

func udpFree(port int) bool {
	l, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// command sends one ctrl_tcp command (a JSON netstring).
func (b *baresip) command(cmd, params string) {
	b.t.Helper()
	c, err := net.DialTimeout("tcp", b.ctrl, 2*time.Second)
	require.NoError(b.t, err)
	defer c.Close()
	msg, err := json.Marshal(map[string]string{"command": cmd, "params": params, "token": "t"})
	require.NoError(b.t, err)
	_, err = fmt.Fprintf(c, "%d:%s,", len(msg), msg)
	require.NoError(b.t, err)
	// Wait for the response so the command has been handled.
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 4096)
	_, _ = c.Read(buf)
}

// waitLog waits until baresip's output matches re.
func (b *baresip) waitLog(re string, timeout time.Duration) []string {
	b.t.Helper()
	return waitOutput(b.t, "baresip", b.out, re, timeout)
}

// waitOutput waits until a peer's output matches re and returns the match
// and its groups; on timeout the test fails with the whole output.
func waitOutput(t *testing.T, who string, out *servertest.SyncBuffer, re string, timeout time.Duration) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	var m []string
	require.Eventually(t, func() bool {
		m = rx.FindStringSubmatch(out.String())
		return m != nil
	}, timeout, 20*time.Millisecond, "%s never logged %q; output:\n%s", who, re, out.String())
	return m
}

// count is how many times baresip's output matches re.
func (b *baresip) count(re string) int {
	return len(regexp.MustCompile(re).FindAllStringIndex(b.out.String(), -1))
}

// received is the audio baresip decoded from us (its sndfile dump), the last
// dur of it.
func (b *baresip) received(dur time.Duration) []int16 {
	files, _ := filepath.Glob(filepath.Join(b.dir, "dump-*-dec.wav"))
	if len(files) == 0 {
		return nil
	}
	s := readWAV(files[len(files)-1])
	n := int(dur.Seconds() * 8000)
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

// writeToneWAV writes 8 kHz mono 16-bit PCM of a sine at hz.
func writeToneWAV(t *testing.T, path string, hz float64, dur time.Duration) {
	t.Helper()
	n := int(dur.Seconds() * 8000)
	data := make([]byte, 44+2*n)
	copy(data, "RIFF")
	binary.LittleEndian.PutUint32(data[4:], uint32(36+2*n))
	copy(data[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(data[16:], 16)
	binary.LittleEndian.PutUint16(data[20:], 1) // PCM
	binary.LittleEndian.PutUint16(data[22:], 1) // mono
	binary.LittleEndian.PutUint32(data[24:], 8000)
	binary.LittleEndian.PutUint32(data[28:], 16000)
	binary.LittleEndian.PutUint16(data[32:], 2)
	binary.LittleEndian.PutUint16(data[34:], 16)
	copy(data[36:], "data")
	binary.LittleEndian.PutUint32(data[40:], uint32(2*n))
	for i := range n {
		v := int16(0.5 * math.MaxInt16 * math.Sin(2*math.Pi*hz*float64(i)/8000))
		binary.LittleEndian.PutUint16(data[44+2*i:], uint16(v))
	}
	require.NoError(t, os.WriteFile(path, data, 0o600))
}

// readWAV returns the 16-bit samples of a WAV file baresip is still writing
// (so its header's sizes may not be final): everything after "data".
func readWAV(path string) []int16 {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	i := strings.Index(string(b[:min(len(b), 512)]), "data")
	if i < 0 || len(b) < i+8 {
		return nil
	}
	b = b[i+8:]
	s := make([]int16, len(b)/2)
	for j := range s {
		s[j] = int16(binary.LittleEndian.Uint16(b[2*j:]))
	}
	return s
}

func regexpQuote(s string) string { return regexp.QuoteMeta(s) }

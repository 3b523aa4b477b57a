package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/internal/natstest"
	"github.com/onecxi/phone/internal/pgtest"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/wire"
)

// childEnv, when set to 1, makes the test binary run as onecxi-server (its
// main, with the arguments it was started with): the cluster's end-to-end
// tests start their nodes as real processes of their own that way, built
// with the same flags (-race) as the tests.
const childEnv = "ONECXI_SERVER_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main() // exits
	}
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// Sequence-number bases that tell, at the receiver, who generated a frame.
const (
	seqA = 1_000_000
	seqB = 2_000_000
)

// Tones each side plays.
const (
	callerTone = 440.0
	calleeTone = 1004.0
)

// proc is onecxi-server running as a child process.
type proc struct {
	t       *testing.T
	id      string
	cmd     *exec.Cmd
	out     *servertest.SyncBuffer // stdout and stderr (the log)
	url     string                 // http://127.0.0.1:port
	metrics string                 // its /metrics URL
	exited  chan struct{}
	state   *os.ProcessState // once exited
}

// childCmd is the test binary as onecxi-server with args.
func childCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.SysProcAttr = childAttr()
	return cmd
}

// startProc starts onecxi-server with args and waits until it serves.
// When the test ends a node still running is stopped with SIGTERM (and
// then a second one, cutting its drain short) and must exit 0: a data
// race found in it (exit 66) fails the test.
func startProc(t *testing.T, id string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, id: id, out: &servertest.SyncBuffer{}, exited: make(chan struct{})}
	p.cmd = childCmd(t, append([]string{"-node-id", id, "-listen", "127.0.0.1:0", "-metrics-listen", "127.0.0.1:0"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	require.NoError(t, p.cmd.Start())
	go func() {
		_ = p.cmd.Wait()
		p.state = p.cmd.ProcessState
		close(p.exited)
	}()
	t.Cleanup(func() {
		if p.running() {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.exited:
				assert.Equal(t, 0, p.state.ExitCode(), "%s exit status; log:\n%s", id, p.out.String())
			case <-time.After(15 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.exited
				t.Errorf("%s did not stop on SIGTERM", id)
			}
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", id, p.out.String())
		}
	})
	serving := regexp.MustCompile(`msg=serving url=(http://\S+)`)
	metrics := regexp.MustCompile(`msg="serving metrics" url=(http://\S+)`)
	require.Eventually(t, func() bool {
		s := p.out.String()
		if !p.running() {
			return true
		}
		m1, m2 := serving.FindStringSubmatch(s), metrics.FindStringSubmatch(s)
		if m1 == nil || m2 == nil {
			return false
		}
		p.url, p.metrics = m1[1], m2[1]
		return true
	}, 30*time.Second, tick, "%s never served; log:\n%s", id, p.out.String())
	require.True(t, p.running(), "%s exited at start; log:\n%s", id, p.out.String())
	return p
}

func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// signal sends sig and returns when it was sent.
func (p *proc) signal(sig syscall.Signal) time.Time {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(sig))
	return time.Now()
}

// wait waits for the process to exit and returns its state.
func (p *proc) wait(d time.Duration) *os.ProcessState {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.state
	case <-time.After(d):
		p.t.Fatalf("%s still running after %v; log:\n%s", p.id, d, p.out.String())
		return nil
	}
}

// authCheck is the status of POST /v1/auth/check with these credentials.
func (p *proc) authCheck(account, key string) int {
	p.t.Helper()
	return servertest.AuthCheck(p.t, p.url, account, key)
}

// runCLI runs an onecxi-server subcommand as a process of its own.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := childCmd(t, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), "onecxi-server %s: %s", strings.Join(args[:min(2, len(args))], " "), errb.String())
	return out.String()
}

// wsClient is a raw protocol client on wire.Conn that records what it
// receives (server/helpers_test.go's client, reduced).
type wsClient struct {
	t     *testing.T
	name  string
	conn  *wire.Conn
	msgs  chan wire.Message
	done  chan struct{}
	close atomic.Int32 // close code the server sent

	mu      sync.Mutex
	samples []int16

	out servertest.Frames // numbers what it sends
}

// dial opens path on p as account; a resumable client names the resume
// feature on its upgrade.
func (p *proc) dial(name, path, account, key string, resumable bool) *wsClient {
	p.t.Helper()
	h := http.Header{}
	wire.SetCredentials(h, account, key)
	if resumable {
		h.Set(wire.HeaderFeatures, wire.FeatureResume)
	}
	d := websocket.Dialer{Subprotocols: []string{wire.Subprotocol}, HandshakeTimeout: waitMsg}
	ws, resp, err := d.Dial(strings.Replace(p.url, "http", "ws", 1)+path, h)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	require.NoError(p.t, err, "%s: dial %s on %s", name, path, p.id)
	c := &wsClient{t: p.t, name: name, msgs: make(chan wire.Message, 1024), done: make(chan struct{})}
	ws.SetCloseHandler(func(code int, _ string) error {
		c.close.Store(int32(code))
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
		return nil
	})
	c.conn = wire.NewConn(ws, nil)
	go func() {
		defer close(c.done)
		_ = c.conn.Run(context.Background(), wire.Handlers{
			OnMessage: func(m wire.Message) {
				if m.Type == wire.TypePong {
					return
				}
				select {
				case c.msgs <- m:
				default:
				}
			},
			OnAudio: func(raw []byte) {
				f, err := wire.DecodeAudio(raw, nil)
				if err != nil {
					return
				}
				c.mu.Lock()
				c.samples = append(c.samples, f.Samples...)
				c.mu.Unlock()
			},
		})
	}()
	p.t.Cleanup(func() {
		c.conn.Close(wire.CloseGoingAway, "test over")
		<-c.done
	})
	if resumable {
		c.keepAlive()
	}
	return c
}

func (c *wsClient) send(m wire.Message) {
	c.t.Helper()
	require.NoError(c.t, c.conn.Send(m), "%s: send %s", c.name, m.Type)
}

// expectWithin returns the next message of type typ, skipping others.
func (c *wsClient) expectWithin(typ wire.Type, d time.Duration) wire.Message {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m := <-c.msgs:
			if m.Type == typ {
				return m
			}
			if m.Type == wire.TypeError {
				c.t.Fatalf("%s: error while waiting for %s: %+v", c.name, typ, m)
			}
		case <-deadline:
			c.t.Fatalf("%s: no %s within %v", c.name, typ, d)
			return wire.Message{}
		}
	}
}

func (c *wsClient) expect(typ wire.Type) wire.Message {
	c.t.Helper()
	return c.expectWithin(typ, waitMsg)
}

// waitClosed waits until the connection has closed and returns the close
// code the server sent.
func (c *wsClient) waitClosed(d time.Duration) int {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(d):
		c.t.Fatalf("%s: connection still open after %v", c.name, d)
	}
	return int(c.close.Load())
}

// keepAlive pings as a resumable client does, until the connection closes.
func (c *wsClient) keepAlive() {
	go func() {
		tk := time.NewTicker(250 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-c.done:
				return
			case <-tk.C:
				_ = c.conn.Send(wire.Message{Type: wire.TypePing, TS: time.Now().UnixMilli()})
			}
		}
	}()
}

// streamTone sends a tone at freq in 20 ms frames, paced in real time,
// until stop is called or the connection closes.
func (c *wsClient) streamTone(freq float64, seqBase uint32) (stop func()) {
	c.out.From(seqBase)
	stop = servertest.StreamTone(freq, c.done, func(samples []int16) { c.conn.SendAudio(c.out.Next(samples)) })
	c.t.Cleanup(stop)
	return stop
}

// share is the Goertzel share of freq in the last 200 ms received.
func (c *wsClient) share(freq float64) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.samples) < 1600 {
		return 0
	}
	return dsp.ToneShare(c.samples[len(c.samples)-1600:], freq)
}

// bothHear waits until each party hears the other's tone and returns how
// long that took.
func bothHear(t *testing.T, caller, callee *wsClient, what string) time.Duration {
	t.Helper()
	start := time.Now()
	require.Eventually(t, func() bool { return caller.share(calleeTone) > 0.5 && callee.share(callerTone) > 0.5 }, waitAudio, tick,
		"%s: each party hears the other (caller hears %.0f Hz: %.2f, callee hears %.0f Hz: %.2f)",
		what, calleeTone, caller.share(calleeTone), callerTone, callee.share(callerTone))
	return time.Since(start)
}

// e2eCluster is three onecxi-server processes on one NATS and one
// PostgreSQL, with account acme (from the configuration) and its key.
type e2eCluster struct {
	db    string
	key   string
	nodes []*proc
}

func startE2ECluster(t *testing.T, ids ...string) *e2eCluster {
	t.Helper()
	db := pgtest.URL(t)
	natsURL := natstest.Start(t)
	c := &e2eCluster{db: db, key: server.GenerateKey()}
	cfg := filepath.Join(t.TempDir(), "server.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"environment":"DEVELOPMENT","ringTimeout":"10s","resumeGrace":"30s","drainTimeout":"10s",
		"accounts":[{"name":"acme","apiKeyHashes":["`+server.HashKey(c.key)+`"],"dids":{"90000":"echo"}}]}`), 0o600))
	// One after the other: each seeds the configuration's account into
	// the database at start.
	start := time.Now()
	for _, id := range ids {
		c.nodes = append(c.nodes, startProc(t, id, "-config", cfg, "-database", db, "-nats", natsURL, "-log-level", "debug"))
	}
	want := fmt.Sprint(len(ids))
	require.Eventually(t, func() bool {
		for _, n := range c.nodes {
			if clusterNodes(t, n.metrics) != want {
				return false
			}
		}
		return true
	}, 10*time.Second, tick, "every node sees %s", want)
	t.Logf("measured: %d onecxi-server processes started and saw each other in %v", len(ids), time.Since(start).Round(time.Millisecond))
	return c
}

// crossCall places an app call from `from` on home to `to`, whose events
// connection is on edge, answered there. Resumable parties keep alive and
// return their resume tokens.
func (c *e2eCluster) crossCall(t *testing.T, home, edge *proc, from, to string, resumable bool) (caller, callee *wsClient, callID, calleeToken string) {
	t.Helper()
	ev := edge.dial("events "+to, wire.PathEvents+"?"+wire.QueryRegisteredNumber+"="+to, "acme", c.key, false)
	ev.expect(wire.TypeHello)
	start := time.Now()
	caller = home.dial("caller "+from, wire.PathCall, "acme", c.key, resumable)
	caller.send(wire.Message{Type: wire.TypeStart, Kind: wire.KindAppToApp, To: to, RegisteredNumber: from})
	callID = caller.expect(wire.TypeRinging).CallID
	require.NotEmpty(t, callID)
	in := ev.expect(wire.TypeIncoming)
	require.Equal(t, callID, in.CallID, "the callee's device on %s rings", edge.id)
	require.Equal(t, wire.EventInitial, in.Push.Event)
	require.Equal(t, from, in.Push.CallFrom)
	rang := time.Since(start)
	callee = edge.dial("callee "+to, wire.PathCall, "acme", c.key, resumable)
	callee.send(wire.Message{Type: wire.TypeStart, Kind: wire.KindAppToAppAnswer, To: from, RegisteredNumber: to, CallID: callID})
	if resumable {
		calleeToken = callee.expect(wire.TypeResumable).Token
		require.NotEmpty(t, calleeToken)
	}
	callee.expect(wire.TypeAnswered)
	caller.expect(wire.TypeAnswered)
	t.Logf("measured: call %s %s@%s → %s@%s rang across in %v, answered in %v", callID, from, home.id, to, edge.id,
		rang.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	ev.conn.Close(wire.CloseNormal, "answered")
	return caller, callee, callID, calleeToken
}

// TestClusterOfProcesses runs three onecxi-server processes (n1, n2, n3)
// on one NATS and one PostgreSQL and checks, in order: accounts changed at
// run time with `onecxi-server account` are honoured by every node at
// once; a cross-node call carries audio both ways; the edge's SIGTERM
// moves its bridged phone (4010) and it resumes on the home; the home's
// SIGKILL ends the bridged party with network_lost within 5 s; and
// `onecxi-server calls` lists the calls with the nodes that carried them.
func TestClusterOfProcesses(t *testing.T) {
	c := startE2ECluster(t, "n1", "n2", "n3")
	n1, n2, n3 := c.nodes[0], c.nodes[1], c.nodes[2]

	// a. An account added with `onecxi-server account add` signs in on
	// every node at once; revoked, it is refused by every node at once.
	out := runCLI(t, "account", "add", "-database", c.db, "-did", "90001=echo", "initech")
	k := keyLine.FindStringSubmatch(out)
	require.NotNil(t, k, out)
	key := k[1]
	for _, tt := range []struct {
		step    string
		account string
		key     string
		want    int
	}{
		{"the configured account", "acme", c.key, http.StatusOK},
		{"added at run time", "initech", key, http.StatusOK},
		{"a wrong key", "initech", c.key, http.StatusUnauthorized},
	} {
		for _, n := range []*proc{n2, n1, n3} { // node 2 first: it never saw initech before
			assert.Equal(t, tt.want, n.authCheck(tt.account, tt.key), "%s on %s", tt.step, n.id)
		}
	}
	out = runCLI(t, "account", "revoke", "-database", c.db, "initech")
	assert.Contains(t, out, "revoked 1 key")
	revoked := time.Now()
	for _, n := range []*proc{n1, n2, n3} {
		assert.Equal(t, http.StatusUnauthorized, n.authCheck("initech", key), "revoked: refused on %s", n.id)
		assert.Equal(t, http.StatusOK, n.authCheck("acme", c.key), "others still sign in on %s", n.id)
	}
	t.Logf("measured: revocation honoured by all 3 nodes within %v of the command's exit (no restart)", time.Since(revoked).Round(time.Millisecond))

	// b. A cross-node call: caller on n1 (the home), callee answering on
	// n2; audio both ways; the caller hangs up.
	callerB, calleeB, callB, _ := c.crossCall(t, n1, n2, "1001", "1002", false)
	callerB.streamTone(callerTone, seqA)
	calleeB.streamTone(calleeTone, seqB)
	t.Logf("measured: b. both tones heard across n1↔n2 %v after answer", bothHear(t, callerB, calleeB, "b. cross-node call").Round(time.Millisecond))
	callerB.send(wire.Message{Type: wire.TypeEnd})
	assert.Equal(t, wire.ReasonRemote, calleeB.expect(wire.TypeEnd).Reason)
	assert.Equal(t, wire.CloseNormal, calleeB.waitClosed(waitMsg))
	assert.Equal(t, wire.CloseNormal, callerB.waitClosed(waitMsg))

	// d. The edge n2 drains on SIGTERM: its bridged phone is moved (close
	// 4010), resumes on n1 and the call goes on, audio both ways.
	callerD, calleeD, callD, token := c.crossCall(t, n1, n2, "1003", "1004", true)
	callerD.streamTone(callerTone, seqA)
	stopCalleeD := calleeD.streamTone(calleeTone, seqB)
	bothHear(t, callerD, calleeD, "d. before the drain")
	sent := n2.signal(syscall.SIGTERM)
	assert.Equal(t, wire.CloseMoved, calleeD.waitClosed(waitMsg), "the bridged phone is moved off the draining node")
	moved := time.Since(sent)
	stopCalleeD()
	assert.True(t, callerD.expect(wire.TypeReconnecting).Remote, "the caller hears its party is away")
	resumeStart := time.Now()
	back := n1.dial("callee 1004 resumed", wire.PathCall, "acme", c.key, true)
	back.send(wire.Message{Type: wire.TypeResume, CallID: callD, Token: token})
	res := back.expect(wire.TypeResumed)
	assert.Equal(t, callD, res.CallID)
	assert.Equal(t, "active", res.State)
	assert.True(t, callerD.expect(wire.TypeReconnected).Remote)
	back.streamTone(calleeTone, seqB+100_000)
	bothHear(t, callerD, back, "d. after resuming on n1")
	t.Logf("measured: d. SIGTERM of the edge n2 → close 4010 in %v; resume on n1 → audio both ways again in %v", moved.Round(time.Millisecond),
		time.Since(resumeStart).Round(time.Millisecond))
	st := n2.wait(waitMsg)
	assert.Equal(t, 0, st.ExitCode(), "n2 drained and exited cleanly; log:\n%s", n2.out.String())
	t.Logf("measured: d. n2 exited %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
	back.send(wire.Message{Type: wire.TypeEnd})
	assert.Equal(t, wire.ReasonRemote, callerD.expect(wire.TypeEnd).Reason)
	assert.Equal(t, wire.CloseNormal, back.waitClosed(waitMsg))

	// The records of b and d are written by their home, n1, before it is
	// killed below.
	records := func() string { return runCLI(t, "calls", "-database", c.db, "-limit", "100") }
	require.Eventually(t, func() bool {
		s := records()
		return strings.Contains(s, callB) && strings.Contains(s, callD)
	}, waitMsg, 100*time.Millisecond, "n1 wrote the records of its ended calls")

	// c. The home n1 is killed (SIGKILL: no goodbye, no drain) mid-call:
	// the callee bridged on n3 hears end{network_lost} and its socket
	// closes within 5 s.
	callerC, calleeC, callC, _ := c.crossCall(t, n1, n3, "1005", "1006", false)
	callerC.streamTone(callerTone, seqA)
	calleeC.streamTone(calleeTone, seqB)
	bothHear(t, callerC, calleeC, "c. before the kill")
	killed := n1.signal(syscall.SIGKILL)
	end := calleeC.expectWithin(wire.TypeEnd, 10*time.Second)
	toEnd := time.Since(killed)
	assert.Equal(t, wire.ReasonNetworkLost, end.Reason)
	assert.Equal(t, wire.CloseNormal, calleeC.waitClosed(5*time.Second))
	toClose := time.Since(killed)
	t.Logf("measured: c. SIGKILL of the home n1 → end{network_lost} on n3 in %v, socket closed in %v",
		toEnd.Round(time.Millisecond), toClose.Round(time.Millisecond))
	assert.Less(t, toClose, 5*time.Second, "the bridged party learns of its home's loss within 5 s")
	st = n1.wait(waitMsg)
	assert.Equal(t, -1, st.ExitCode(), "killed by a signal")

	// e. `onecxi-server calls` lists every call, with the nodes that
	// carried it, home first; the killed home's call too: n1 wrote it
	// open when it started, and n3, which held its other party, closed it.
	var list string
	require.Eventually(t, func() bool {
		list = records()
		for _, line := range strings.Split(list, "\n") {
			if strings.HasSuffix(line, callC) && strings.Contains(line, "node_lost") {
				return true
			}
		}
		return false
	}, waitMsg, 100*time.Millisecond, "the record of the call whose home was killed is closed by the surviving node")
	t.Logf("onecxi-server calls:\n%s", list)
	node := func(callID string) string {
		for _, line := range strings.Split(list, "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[len(f)-1] == callID {
				return f[len(f)-2]
			}
		}
		return ""
	}
	for _, tt := range []struct {
		call, what, nodes string
	}{
		{callB, "b. cross-node call", "n1,n2"},
		{callD, "d. call whose callee moved from n2 to n1", "n1,n2"},
		{callC, "c. call whose home n1 was killed", "n1,n3"},
	} {
		assert.Equal(t, tt.nodes, node(tt.call), "%s %s: NODE column", tt.what, tt.call)
	}
}

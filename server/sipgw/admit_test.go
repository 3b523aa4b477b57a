package sipgw

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// screenGateway is a gateway with no network, enough for screen.
func screenGateway(log *logBuffer) *Gateway {
	h := slog.Handler(slog.DiscardHandler)
	if log != nil {
		h = slog.NewTextHandler(log, nil)
	}
	return &Gateway{log: slog.New(h), sampler: newSampler(time.Minute), allow: prefixes(trunkIP, otherIP),
		calls: map[string]dialogCall{}, inviteTags: map[string]string{}}
}

var trunkSrc = netip.MustParseAddrPort(trunkIP + ":5060")

// msgWith is a request from trunkSrc with its header lines edited: each
// of edits replaces the first line starting with its key by its value (or
// drops it when the value is "").
func msgWith(method string, body string, edits ...[2]string) string {
	s := sipRequest{method: method, callID: "screen-1", fromTag: "f1", via: trunkSrc, body: body}.String()
	for _, e := range edits {
		i := strings.Index(s, "\r\n"+e[0])
		if i < 0 {
			panic("no line " + e[0])
		}
		end := i + 2 + strings.Index(s[i+2:], "\r\n")
		repl := ""
		if e[1] != "" {
			repl = "\r\n" + e[1]
		}
		s = s[:i] + repl + s[end:]
	}
	return s
}

// What RFC 3261 asks of malformed messages: a request gets 400 with a
// reason phrase naming the problem when it can be answered (its Via and
// CSeq read), a response or an ACK is dropped silently, and so is what
// cannot be answered.
func TestScreenAnswersMalformedRequests(t *testing.T) {
	body := strings.Repeat("v=0\r\n", 20)
	tests := []struct {
		name      string
		msg       string
		transport string
		pass      bool
		status    int    // of the reply; 0: none
		phrase    string // part of the reply's reason phrase
	}{
		{"a good OPTIONS", msgWith("OPTIONS", ""), TransportUDP, true, 0, ""},
		{"a good INVITE with a body", msgWith("INVITE", body), TransportUDP, true, 0, ""},
		{"a body longer than Content-Length (the rest is discarded)", msgWith("INVITE", body, [2]string{"Content-Length", "Content-Length: 10"}), TransportUDP, true, 0, ""},
		{"no Content-Length over UDP", msgWith("INVITE", body, [2]string{"Content-Length", ""}), TransportUDP, true, 0, ""},
		{"Content-Length larger than the body", msgWith("INVITE", body, [2]string{"Content-Length", "Content-Length: 5000"}), TransportUDP, false, 400, "Body shorter than Content-Length"},
		{"compact l larger than the body", msgWith("INVITE", body, [2]string{"Content-Length", "l: 5000"}), TransportUDP, false, 400, "Body shorter than Content-Length"},
		{"Content-Length not a number", msgWith("INVITE", body, [2]string{"Content-Length", "Content-Length: ten"}), TransportUDP, false, 400, "Content-Length is not a number"},
		{"Content-Length negative", msgWith("BYE", "", [2]string{"Content-Length", "Content-Length: -1"}), TransportUDP, false, 400, "Content-Length is not a number"},
		{"Content-Length huge", msgWith("BYE", "", [2]string{"Content-Length", "Content-Length: 99999999999999999999"}), TransportUDP, false, 400, "Content-Length is not a number"},
		{"Content-Length empty", msgWith("BYE", "", [2]string{"Content-Length", "Content-Length:"}), TransportUDP, false, 400, "Content-Length is not a number"},
		{"two Content-Lengths", msgWith("OPTIONS", "", [2]string{"Content-Length", "Content-Length: 0\r\nContent-Length: 7"}), TransportUDP, false, 400, "Conflicting Content-Length"},
		{"missing Call-ID", msgWith("OPTIONS", "", [2]string{"Call-ID", ""}), TransportUDP, false, 400, "Missing Call-ID header"},
		{"missing From", msgWith("OPTIONS", "", [2]string{"From", ""}), TransportUDP, false, 400, "Missing From header"},
		{"malformed From", msgWith("OPTIONS", "", [2]string{"From", "From: <sip:caller@127.0.0.1;tag=f1"}), TransportUDP, false, 400, "Malformed From header"},
		{"malformed Max-Forwards", msgWith("OPTIONS", "", [2]string{"Max-Forwards", "Max-Forwards: many"}), TransportUDP, false, 400, "Malformed Max-Forwards header"},
		{"no end of headers", strings.TrimSuffix(msgWith("OPTIONS", ""), "\r\n"), TransportUDP, false, 400, "Header section does not end"},
		{"the same over TCP", msgWith("OPTIONS", "", [2]string{"Max-Forwards", "Max-Forwards: many"}), TransportTCP, false, 400, "Malformed Max-Forwards header"},
		// Nothing to answer: a response, an ACK, no CSeq or Via to match.
		{"a response with a short body", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 900\r\n\r\nv=0", TransportUDP, false, 0, ""},
		{"an ACK with a short body", msgWith("ACK", body, [2]string{"Content-Length", "Content-Length: 5000"}), TransportUDP, false, 0, ""},
		{"malformed CSeq", msgWith("OPTIONS", "", [2]string{"CSeq", "CSeq: one OPTIONS"}), TransportUDP, false, 0, ""},
		{"malformed Via", msgWith("OPTIONS", "", [2]string{"Via", "Via: nonsense"}), TransportUDP, false, 0, ""},
		{"missing Via", msgWith("OPTIONS", "", [2]string{"Via", ""}), TransportUDP, false, 0, ""},
		{"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello", TransportUDP, false, 0, ""},
		{"a keep-alive", "\r\n\r\n", TransportUDP, true, 0, ""},
		{"too many CRLFs", "\r\n\r\n\r\n", TransportUDP, false, 0, ""},
		// A CANCEL is screened for its source: sipgo would act on it first.
		{"a CANCEL from a trunk", msgWith("CANCEL", ""), TransportUDP, true, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &logBuffer{}
			g := screenGateway(log)
			pass, reply := g.screen([]byte(tt.msg), trunkSrc, tt.transport, maxMessage)
			assert.Equal(t, tt.pass, pass)
			if tt.status == 0 {
				assert.Nil(t, reply, "%s", reply)
			} else {
				checkReply(t, tt.msg, reply, tt.status, tt.phrase)
			}
			if !tt.pass && strings.Trim(tt.msg, "\r\n") != "" {
				lines := log.lines("malformed SIP message")
				require.Len(t, lines, 1)
				assert.Less(t, len(lines[0]), 400)
			}
		})
	}
}

// checkReply checks that reply answers req with status: the same Via
// (branch), Call-ID and CSeq, a To tag, Content-Length 0.
func checkReply(t *testing.T, req string, reply []byte, status int, phrase string) {
	t.Helper()
	require.NotNil(t, reply)
	msg, err := sip.ParseMessage(reply)
	require.NoError(t, err, "%q", reply)
	res, ok := msg.(*sip.Response)
	require.True(t, ok)
	assert.Equal(t, status, res.StatusCode)
	assert.Contains(t, res.Reason, phrase)
	branch := req[strings.Index(req, "branch=")+len("branch="):]
	branch = branch[:strings.IndexAny(branch, ";\r")]
	require.NotNil(t, res.Via())
	got, _ := res.Via().Params.Get("branch")
	assert.Equal(t, branch, got)
	require.NotNil(t, res.CSeq())
	if strings.Contains(req, "Call-ID") {
		assert.Equal(t, "screen-1", res.CallID().Value())
	}
	if res.To() != nil {
		assert.True(t, res.To().Params.Has("tag"))
	}
	assert.Contains(t, string(reply), "Content-Length: 0\r\n")
}

func TestScreenRefusesACancelFromAStranger(t *testing.T) {
	g := screenGateway(nil)
	msg := msgWith("CANCEL", "")
	pass, reply := g.screen([]byte(msg), netip.MustParseAddrPort(strangerIP+":5060"), TransportUDP, maxMessage)
	assert.False(t, pass)
	checkReply(t, msg, reply, 403, "Forbidden")
}

func TestScreenRefusesWhatSipgoCannotRead(t *testing.T) {
	g := screenGateway(nil)
	msg := msgWith("INVITE", strings.Repeat("a=x\r\n", 8000))
	pass, reply := g.screen([]byte(msg), trunkSrc, TransportUDP, 32768)
	assert.False(t, pass)
	checkReply(t, msg, reply, 513, "Message too large")
}

// Over UDP, from a stranger and from the trunk: a request whose
// Content-Length exceeds its body, or is not a number, is answered 400; a
// flood of them (each near 33 KB, as the carrier saw) is logged in a
// handful of short lines, never with the packet's contents.
func TestMalformedUDPRequestsAre400AndLoggedShortAndSampled(t *testing.T) {
	t.Parallel()
	g := startTestGateway(t, "")
	gw := g.Addr()
	for _, ip := range []string{trunkIP, strangerIP} {
		p := newUDPPeer(t, ip)
		p.send(gw, sipRequest{method: "INVITE", callID: "short-body", fromTag: "f", via: p.addr, body: "v=0\r\n", length: "5000"}.String())
		res := p.expect(400)
		assert.Equal(t, "short-body", res.CallID().Value())
		assert.Equal(t, "Body shorter than Content-Length", res.Reason)
		p.send(gw, sipRequest{method: "BYE", callID: "nan", fromTag: "f", toTag: "t", via: p.addr, length: "zero"}.String())
		res = p.expect(400)
		assert.Equal(t, "nan", res.CallID().Value())
		assert.Equal(t, "Content-Length is not a number", res.Reason)
	}

	// Longer than sipgo's 32 KiB read buffer: 513, not misread.
	big := newUDPPeer(t, trunkIP)
	big.send(gw, sipRequest{method: "INVITE", callID: "big", fromTag: "f", via: big.addr,
		body: strings.Repeat("a=filler-attribute-line\r\n", 1400)}.String())
	assert.Equal(t, "Message too large", big.expect(513).Reason)

	flood := newUDPPeer(t, strangerIP)
	filler := strings.Repeat("a=filler-attribute-line\r\n", 1250) // over 31 KB
	const n = 300
	got := 0
	for i := 0; i < n; i++ {
		flood.send(gw, sipRequest{method: "INVITE", callID: fmt.Sprintf("flood-%d", i), fromTag: "f", via: flood.addr,
			body: filler, length: "40000"}.String())
		if res := flood.read(5 * time.Second); res != nil {
			assert.Equal(t, 400, res.StatusCode)
			got++
		}
	}
	assert.Equal(t, n, got, "every malformed request is answered")
	lines := g.log.lines("malformed SIP message", "source=127.0.0.2")
	assert.LessOrEqual(t, len(lines), 3, "sampled:\n%s", strings.Join(lines, "\n"))
	for _, l := range strings.Split(g.log.String(), "\n") {
		assert.Less(t, len(l), 400, "a log line is short: %.200s…", l)
		assert.NotContains(t, l, "filler-attribute")
	}
	assert.Empty(t, g.log.lines("failed to parse"), "sipgo never sees (or logs) the packets")
	assert.NotEmpty(t, g.log.lines("malformed SIP message", "source=127.0.0.2", `reason="body shorter than Content-Length"`,
		"status=400", `method="\"INVITE\""`, `prefix="\"INVITE sip:5000@\"…`))
}

// tcpPeer is a raw SIP peer over TCP from trunkIP.
type tcpPeer struct {
	t    *testing.T
	conn net.Conn
	msgs chan sip.Message
	done chan struct{} // closed when the gateway closed the connection
}

func newTCPPeer(t *testing.T, gw netip.AddrPort, ip string) *tcpPeer {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", gw.String())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	p := &tcpPeer{t: t, conn: c, msgs: make(chan sip.Message, 16), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		par := sip.NewParser().NewSIPStream()
		r := bufio.NewReader(c)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				_ = par.ParseSIPStream(buf[:n], func(m sip.Message) { p.msgs <- m })
			}
			if err != nil {
				return
			}
		}
	}()
	return p
}

func (p *tcpPeer) send(s string) {
	p.t.Helper()
	_, err := io.WriteString(p.conn, s)
	require.NoError(p.t, err)
}

func (p *tcpPeer) addr() netip.AddrPort { return netip.MustParseAddrPort(p.conn.LocalAddr().String()) }

func (p *tcpPeer) expect(status int) *sip.Response {
	p.t.Helper()
	select {
	case m := <-p.msgs:
		res, ok := m.(*sip.Response)
		require.True(p.t, ok, "%s", m)
		require.Equal(p.t, status, res.StatusCode, "%s", res.StartLine())
		return res
	case <-time.After(5 * time.Second):
		require.Failf(p.t, "no response", "wanted %d", status)
		return nil
	}
}

func (p *tcpPeer) closedByGateway() {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		require.Fail(p.t, "the gateway kept the connection open")
	}
}

func tcpOptions(p *tcpPeer, callID string) string {
	return sipRequest{method: "OPTIONS", callID: callID, fromTag: "f", via: p.addr(), transport: "TCP"}.String()
}

// Over TCP a message is framed by its Content-Length: without one, or with
// one that is not a number, the stream cannot be framed, so the request is
// answered 400 and the connection closed; a framed message that is
// malformed otherwise is answered 400 and the connection goes on; a body
// still on its way is waited for; messages split or joined anyhow by TCP
// get through.
func TestTCPStreamsAreFramedAndMalformedRequestsAnswered(t *testing.T) {
	t.Parallel()
	g := startTestGateway(t, "")
	gw := g.Addr()

	t.Run("no Content-Length", func(t *testing.T) {
		p := newTCPPeer(t, gw, trunkIP)
		p.send(strings.Replace(tcpOptions(p, "no-cl"), "Content-Length: 0\r\n", "", 1))
		res := p.expect(400)
		assert.Equal(t, "No Content-Length (required over TCP)", res.Reason)
		assert.Equal(t, "no-cl", res.CallID().Value())
		p.closedByGateway()
	})
	t.Run("Content-Length not a number", func(t *testing.T) {
		p := newTCPPeer(t, gw, trunkIP)
		p.send(strings.Replace(tcpOptions(p, "nan"), "Content-Length: 0", "Content-Length: 1e3", 1) + strings.Repeat("x", 1000))
		res := p.expect(400)
		assert.Equal(t, "Content-Length is not a number", res.Reason)
		p.closedByGateway()
	})
	t.Run("malformed but framed, then good", func(t *testing.T) {
		p := newTCPPeer(t, gw, trunkIP)
		p.send(strings.Replace(tcpOptions(p, "bad-mf"), "Max-Forwards: 70", "Max-Forwards: lots", 1) + tcpOptions(p, "good"))
		res := p.expect(400)
		assert.Equal(t, "bad-mf", res.CallID().Value())
		assert.Equal(t, "Malformed Max-Forwards header", res.Reason)
		res = p.expect(200)
		assert.Equal(t, "good", res.CallID().Value())
	})
	t.Run("byte by byte, with keep-alives", func(t *testing.T) {
		p := newTCPPeer(t, gw, trunkIP)
		msg := "\r\n\r\n" + tcpOptions(p, "slow")
		for i := 0; i < len(msg); i++ {
			p.send(msg[i : i+1])
		}
		res := p.expect(200)
		assert.Equal(t, "slow", res.CallID().Value())
	})
	t.Run("a body on its way", func(t *testing.T) {
		p := newTCPPeer(t, gw, trunkIP)
		full := sipRequest{method: "OPTIONS", callID: "late-body", fromTag: "f", via: p.addr(), transport: "TCP",
			headers: "Content-Type: text/plain\r\n", body: "0123456789"}.String()
		p.send(full[:len(full)-4])
		select {
		case m := <-p.msgs:
			require.Failf(t, "answered before the body arrived", "%s", m)
		case <-time.After(100 * time.Millisecond):
		}
		p.send(full[len(full)-4:])
		p.expect(200)
	})
	t.Run("a keep-alive ping gets its pong", func(t *testing.T) {
		c, err := net.Dial("tcp", gw.String())
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Write([]byte("\r\n\r\n"))
		require.NoError(t, err)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
		pong := make([]byte, 2)
		_, err = io.ReadFull(c, pong)
		require.NoError(t, err)
		assert.Equal(t, "\r\n", string(pong))
	})
	t.Run("three at once", func(t *testing.T) {
		p := newTCPPeer(t, gw, trunkIP)
		p.send(tcpOptions(p, "one") + tcpOptions(p, "two") + "\r\n" + tcpOptions(p, "three"))
		ids := map[string]bool{}
		for i := 0; i < 3; i++ {
			ids[p.expect(200).CallID().Value()] = true
		}
		assert.Equal(t, map[string]bool{"one": true, "two": true, "three": true}, ids)
	})
	assert.Empty(t, g.log.lines("failed to parse"))
	for _, l := range strings.Split(g.log.String(), "\n") {
		assert.Less(t, len(l), 400, l)
	}
}

// OPTIONS from the trunks' addresses get 200 (with Allow); from elsewhere
// 403 by default, or nothing with unlistedOptions "drop"; either way the
// refusal is logged, sampled.
func TestOptionsFromOutsideTheAllowListArePolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, extra, from string
		status            int // 0: no answer
	}{
		{"trunk, default", "", trunkIP, 200},
		{"other trunk, default", "", otherIP, 200},
		{"stranger, default", "", strangerIP, 403},
		{"stranger, 403", `,"unlistedOptions":"403"`, strangerIP, 403},
		{"trunk, drop", `,"unlistedOptions":"drop"`, trunkIP, 200},
		{"stranger, drop", `,"unlistedOptions":"drop"`, strangerIP, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := startTestGateway(t, tt.extra)
			p := newUDPPeer(t, tt.from)
			p.send(g.Addr(), sipRequest{method: "OPTIONS", callID: "ping", fromTag: "f", via: p.addr}.String())
			if tt.status == 0 {
				require.Eventually(t, func() bool { return len(g.log.lines("SIP request refused", "OPTIONS")) == 1 },
					5*time.Second, 5*time.Millisecond)
				assert.Nil(t, p.read(200*time.Millisecond), "no answer at all")
				return
			}
			res := p.expect(tt.status)
			if tt.status == 200 {
				require.NotNil(t, res.GetHeader("Allow"))
				assert.Contains(t, res.GetHeader("Allow").Value(), "OPTIONS")
				assert.Empty(t, g.log.lines("SIP request refused"))
			} else {
				assert.Len(t, g.log.lines("SIP request refused", "OPTIONS", "source=127.0.0.2", "status=403"), 1)
			}
		})
	}
}

// 2,000 INVITEs from an address on no allow-list: each is answered 403, and
// the log has a handful of lines about them.
func TestInviteFloodFromAStrangerIsRefusedAndLoggedSampled(t *testing.T) {
	t.Parallel()
	g := startTestGateway(t, "")
	p := newUDPPeer(t, strangerIP)
	const n = 2000
	var mu sync.Mutex
	answered := map[string]int{} // Call-ID: status (403s are retransmitted until ACKed)
	go func() {
		buf := make([]byte, 1<<16)
		for {
			n, err := p.conn.Read(buf)
			if err != nil {
				return // the test is over
			}
			if msg, err := sip.ParseMessage(buf[:n]); err == nil {
				if res, ok := msg.(*sip.Response); ok {
					mu.Lock()
					answered[res.CallID().Value()] = res.StatusCode
					mu.Unlock()
				}
			}
		}
	}()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(answered)
	}
	for i := 0; i < n; i++ {
		p.send(g.Addr(), sipRequest{method: "INVITE", callID: fmt.Sprintf("flood-%d", i), fromTag: "f", via: p.addr}.String())
		if i%100 == 99 { // in batches, so no socket buffer overflows
			require.Eventually(t, func() bool { return count() > i-10 }, 10*time.Second, time.Millisecond)
		}
	}
	require.Eventually(t, func() bool { return count() == n }, 10*time.Second, 5*time.Millisecond)
	mu.Lock()
	for id, status := range answered {
		assert.Equal(t, 403, status, id)
	}
	mu.Unlock()
	lines := g.log.lines("INVITE")
	assert.LessOrEqual(t, len(lines), 3, "%s", strings.Join(lines, "\n"))
	assert.NotEmpty(t, g.log.lines("SIP request refused", "source=127.0.0.2", `reason="INVITE: source not on any trunk's allow-list"`))
}

package sipgw

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
	"github.com/onecxi/phone/server/servertest"
	"github.com/stretchr/testify/require"
)

// Addresses of the tests' peers on the loopback network (Linux routes all
// of 127.0.0.0/8 to lo): the trunk, a stranger, and a second trunk.
const (
	trunkIP    = "127.0.0.1"
	strangerIP = "127.0.0.2"
	otherIP    = "127.0.0.3"
)

// logBuffer is a log destination safe for concurrent use, with a search.
type logBuffer struct{ servertest.SyncBuffer }

func (b *logBuffer) lines(want ...string) []string {
	var out []string
next:
	for _, l := range strings.Split(b.String(), "\n") {
		if l == "" {
			continue
		}
		for _, w := range want {
			if !strings.Contains(l, w) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

// testGateway is a listening gateway (no server: new calls get 503) whose
// trunks are trunkIP and otherIP, logging at level into log.
type testGateway struct {
	*Gateway
	log *logBuffer
}

func startTestGateway(t *testing.T, extra string) *testGateway {
	t.Helper()
	raw := fmt.Sprintf(`{"listen":"127.0.0.1:0","rtpPortMin":33000,"rtpPortMax":33999%s,
		"trunks":[{"name":"a","host":%q,"port":5999},{"name":"b","host":%q,"port":5999}]}`, extra, trunkIP, otherIP)
	cfg, err := ParseConfig([]byte(raw))
	require.NoError(t, err)
	buf := &logBuffer{}
	g, err := New(cfg, WithLogger(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))))
	require.NoError(t, err)
	require.NoError(t, g.Listen(context.Background()))
	t.Cleanup(func() {
		g.Close()
		if t.Failed() {
			t.Logf("gateway log:\n%s", buf.String())
		}
	})
	return &testGateway{Gateway: g, log: buf}
}

// udpPeer is a raw SIP peer on UDP at a chosen loopback address.
type udpPeer struct {
	t    *testing.T
	conn *net.UDPConn
	addr netip.AddrPort
}

func newUDPPeer(t *testing.T, ip string) *udpPeer {
	t.Helper()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &udpPeer{t: t, conn: c, addr: netip.MustParseAddrPort(c.LocalAddr().String())}
}

func (p *udpPeer) send(to netip.AddrPort, msg string) {
	p.t.Helper()
	_, err := p.conn.WriteToUDPAddrPort([]byte(msg), to)
	require.NoError(p.t, err)
}

// read returns the next response, or nil after wait.
func (p *udpPeer) read(wait time.Duration) *sip.Response {
	p.t.Helper()
	buf := make([]byte, 1<<16)
	require.NoError(p.t, p.conn.SetReadDeadline(time.Now().Add(wait)))
	for {
		n, err := p.conn.Read(buf)
		if err != nil {
			return nil
		}
		msg, err := sip.ParseMessage(buf[:n])
		require.NoError(p.t, err, "the gateway sent something unparsable: %q", buf[:n])
		if res, ok := msg.(*sip.Response); ok {
			return res
		}
	}
}

// expect reads the next response and checks its status.
func (p *udpPeer) expect(status int) *sip.Response {
	p.t.Helper()
	res := p.read(5 * time.Second)
	require.NotNil(p.t, res, "no response (wanted %d)", status)
	require.Equal(p.t, status, res.StatusCode, "response %s", res.StartLine())
	return res
}

// sipRequest is a request as a peer writes it.
type sipRequest struct {
	method, callID, fromTag, toTag string
	via                            netip.AddrPort
	transport                      string // default UDP
	cseq                           int    // default 1
	headers                        string // extra header lines, each ending in CRLF
	body                           string
	length                         string // the Content-Length value; default len(body)
}

func (r sipRequest) String() string {
	tp := r.transport
	if tp == "" {
		tp = "UDP"
	}
	cseq := r.cseq
	if cseq == 0 {
		cseq = 1
	}
	length := r.length
	if length == "" {
		length = fmt.Sprint(len(r.body))
	}
	from := "<sip:caller@" + r.via.Addr().String() + ">"
	if r.fromTag != "" {
		from += ";tag=" + r.fromTag
	}
	to := "<sip:5000@127.0.0.1>"
	if r.toTag != "" {
		to += ";tag=" + r.toTag
	}
	return fmt.Sprintf("%s sip:5000@127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/%s %s;branch=z9hG4bK-%s;rport\r\n"+
		"Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"+
		"Contact: <sip:caller@%s>\r\n%sContent-Length: %s\r\n\r\n%s",
		r.method, tp, r.via, uuid.NewString(), from, to, r.callID, cseq, r.method, r.via, r.headers, length, r.body)
}

// recordingTx is a server transaction that records its responses.
type recordingTx struct {
	sip.ServerTransaction
	mu  sync.Mutex
	res []*sip.Response
}

func (tx *recordingTx) Respond(res *sip.Response) error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	tx.res = append(tx.res, res)
	return nil
}

func (tx *recordingTx) responses() []*sip.Response {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return append([]*sip.Response(nil), tx.res...)
}

// fakeCall is a dialogCall with a given dialog that answers 200 to what
// reaches it and counts it.
type fakeCall struct {
	id dialogID

	mu                    sync.Mutex
	byes, reinvites, acks int
}

func (f *fakeCall) onBye(req *sip.Request, tx sip.ServerTransaction) {
	f.mu.Lock()
	f.byes++
	f.mu.Unlock()
	_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}

func (f *fakeCall) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	f.mu.Lock()
	f.reinvites++
	f.mu.Unlock()
	_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}

func (f *fakeCall) onAck(*sip.Request, sip.ServerTransaction) {
	f.mu.Lock()
	f.acks++
	f.mu.Unlock()
}

func (f *fakeCall) hangup()                  {}
func (f *fakeCall) dialogIdentity() dialogID { return f.id }

func (f *fakeCall) counts() (byes, reinvites, acks int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byes, f.reinvites, f.acks
}

// addCall puts c among g's calls under its Call-ID.
func (g *Gateway) addCall(c *fakeCall) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls[c.id.callID] = c
}

// prefixes is an allow-list of single addresses.
func prefixes(ips ...string) allowList {
	var a allowList
	for _, ip := range ips {
		a = append(a, hostPrefix(netip.MustParseAddr(ip)))
	}
	return a
}

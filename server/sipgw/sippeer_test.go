package sipgw

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/server/sipgw/media"
	"github.com/onecxi/phone/server/trunk"
	"github.com/onecxi/phone/wire"
)

// The tests here run whole calls against a sipgo peer with the dialog
// timers shortened: the wire minimum of 90 s for a session interval (and
// 32 s for a missing ACK) would make each test minutes long.
func TestMain(m *testing.M) {
	minSE = 2 * time.Second
	ackTimeout = 1500 * time.Millisecond
	prackTimeout = 2 * time.Second
	refreshRetry = 200 * time.Millisecond
	os.Exit(m.Run())
}

const (
	waitFor = 8 * time.Second
	tick    = 10 * time.Millisecond
	echoDID = "90000" // server.DemoConfig's echo DID
)

// sipPeer is a trunk or PBX written with sipgo: it calls the gateway, and
// answers the gateway's calls and in-dialog requests, recording every
// request it receives.
type sipPeer struct {
	t    *testing.T
	port int
	dua  *sipgo.DialogUA
	sdp  []byte // our SDP (offer or answer: PCMU at a port nobody reads)

	mu   sync.Mutex
	reqs []*sip.Request
	// answerInvite answers the gateway's INVITEs (outbound calls); the
	// default answers 200 with sdp.
	answerInvite func(req *sip.Request, tx sip.ServerTransaction)
	// refreshHeaders are added to our 200s to in-dialog INVITEs and
	// UPDATEs; the default echoes the request's Session-Expires.
	refreshHeaders func(req *sip.Request) []sip.Header
}

func startPeer(t *testing.T) *sipPeer {
	t.Helper()
	p := &sipPeer{t: t}
	ua, err := sipgo.NewUA(sipgo.WithUserAgentHostname("127.0.0.1"))
	require.NoError(t, err)
	srv, err := sipgo.NewServer(ua)
	require.NoError(t, err)
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	p.port = conn.LocalAddr().(*net.UDPAddr).Port
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(p.port),
		sipgo.WithClientConnectionAddr(conn.LocalAddr().String()))
	require.NoError(t, err)
	p.dua = &sipgo.DialogUA{Client: cli, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "peer", Host: "127.0.0.1", Port: p.port}}}
	p.sdp = p.offer(media.SendRecv, 1)

	record := func(req *sip.Request) { p.mu.Lock(); p.reqs = append(p.reqs, req.Clone()); p.mu.Unlock() }
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		record(req)
		if req.To().Params.Has("tag") {
			p.respond(req, tx, 200, p.sdp, p.refresh(req)...)
			return
		}
		p.mu.Lock()
		answer := p.answerInvite
		p.mu.Unlock()
		if answer != nil {
			answer(req, tx)
			return
		}
		p.respond(req, tx, 200, p.sdp)
	})
	srv.OnUpdate(func(req *sip.Request, tx sip.ServerTransaction) {
		record(req)
		p.respond(req, tx, 200, nil, p.refresh(req)...)
	})
	for _, m := range []sip.RequestMethod{sip.ACK, sip.BYE, sip.PRACK, sip.INFO} {
		srv.OnRequest(m, func(req *sip.Request, tx sip.ServerTransaction) {
			record(req)
			if !req.IsAck() {
				p.respond(req, tx, 200, nil)
			}
		})
	}
	go func() { _ = srv.ServeUDP(conn) }()
	t.Cleanup(func() {
		conn.Close()
		ua.Close()
	})
	return p
}

// setAnswer sets how the gateway's INVITEs are answered.
func (p *sipPeer) setAnswer(f func(req *sip.Request, tx sip.ServerTransaction)) {
	p.mu.Lock()
	p.answerInvite = f
	p.mu.Unlock()
}

// offer is an SDP of ours with direction dir.
func (p *sipPeer) offer(dir media.Direction, version uint64) []byte {
	b, err := media.Offer(media.Description{Addr: netip.MustParseAddrPort("127.0.0.1:9"), Codecs: []media.Codec{media.PCMU},
		EventPT: media.DefaultEventPT, Direction: dir, PTime: 20}, 5, version)
	require.NoError(p.t, err)
	return b
}

func (p *sipPeer) refresh(req *sip.Request) []sip.Header {
	p.mu.Lock()
	f := p.refreshHeaders
	p.mu.Unlock()
	if f != nil {
		return f(req)
	}
	if h := req.GetHeader("Session-Expires"); h != nil {
		return []sip.Header{sip.NewHeader("Session-Expires", h.Value()), sip.NewHeader("Require", "timer")}
	}
	return nil
}

// respond answers req with a To tag, our Contact and body (SDP).
func (p *sipPeer) respond(req *sip.Request, tx sip.ServerTransaction, code int, body []byte, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, "Test", body)
	if !req.To().Params.Has("tag") {
		res.To().Params.Add("tag", "peer-tag")
	}
	if body != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	res.AppendHeader(sip.HeaderClone(&p.dua.ContactHDR))
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

// received are the requests of method received so far.
func (p *sipPeer) received(method sip.RequestMethod) []*sip.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	var rs []*sip.Request
	for _, r := range p.reqs {
		if r.Method == method {
			rs = append(rs, r)
		}
	}
	return rs
}

// waitRequests waits until n requests of method arrived and returns them.
func (p *sipPeer) waitRequests(method sip.RequestMethod, n int, within time.Duration) []*sip.Request {
	p.t.Helper()
	require.Eventually(p.t, func() bool { return len(p.received(method)) >= n }, within, tick,
		"the peer got %d %s, not %d", len(p.received(method)), method, n)
	return p.received(method)
}

// invite sends an INVITE to the gateway's did with our SDP (nil body: no
// offer) and extra headers, and waits for its final response; the call is
// not ACKed. A failure response is returned too.
func (p *sipPeer) invite(gw netip.AddrPort, did string, body []byte, hdrs ...sip.Header) (*sipgo.DialogClientSession, *sip.Response) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if body != nil {
		hdrs = append(hdrs, sip.NewHeader("Content-Type", "application/sdp"))
	}
	dlg, err := p.dua.Invite(ctx, sip.Uri{Scheme: "sip", User: did, Host: gw.Addr().String(), Port: int(gw.Port())}, body, hdrs...)
	require.NoError(p.t, err)
	p.t.Cleanup(func() { _ = dlg.Close() })
	err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{})
	if err != nil {
		var res *sipgo.ErrDialogResponse
		require.ErrorAs(p.t, err, &res)
		return dlg, res.Res
	}
	return dlg, dlg.InviteResponse
}

// do sends an in-dialog request of method with extra headers and body and
// returns its final response.
func (p *sipPeer) do(dlg *sipgo.DialogClientSession, method sip.RequestMethod, body []byte, hdrs ...sip.Header) *sip.Response {
	p.t.Helper()
	req := sip.NewRequest(method, dlg.InviteResponse.Contact().Address)
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	if body != nil && req.ContentType() == nil {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	req.SetBody(body)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	res, err := dlg.Do(ctx, req)
	require.NoError(p.t, err)
	return res
}

// doAsCallee sends a request within the dialog of inv, a gateway's INVITE
// we answered, and returns its final response.
func (p *sipPeer) doAsCallee(inv *sip.Request, cseq uint32, method sip.RequestMethod, body []byte, hdrs ...sip.Header) *sip.Response {
	p.t.Helper()
	req := sip.NewRequest(method, inv.Contact().Address)
	to := inv.To().AsFrom()
	to.Params = to.Params.Clone()
	to.Params.Add("tag", "peer-tag")
	req.AppendHeader(&to)
	from := inv.From().AsTo()
	req.AppendHeader(&from)
	req.AppendHeader(sip.HeaderClone(inv.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	req.AppendHeader(sip.HeaderClone(&p.dua.ContactHDR))
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	req.SetBody(body)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	res, err := p.dua.Client.Do(ctx, req)
	require.NoError(p.t, err)
	return res
}

// ack ACKs an in-dialog re-INVITE's 200 (with an answer, or none).
func (p *sipPeer) ack(dlg *sipgo.DialogClientSession, body []byte) {
	p.t.Helper()
	ack := sip.NewRequest(sip.ACK, dlg.InviteResponse.Contact().Address)
	if body != nil {
		ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	ack.SetBody(body)
	require.NoError(p.t, dlg.WriteRequest(ack))
}

// testGW is a gateway whose one trunk is a peer, with the reference server
// behind it.
type testGW struct {
	gw  *Gateway
	srv *server.Server
	log *servertest.SyncBuffer
}

func startTestGW(t *testing.T, peerPort int) *testGW {
	t.Helper()
	raw := json.RawMessage(fmt.Sprintf(`{"listen":"127.0.0.1:0","rtpPortMin":33000,"rtpPortMax":33999,
		"answerTimeout":"6s","responseTimeout":"2s","trunks":[{"name":"peer","host":"127.0.0.1","port":%d}]}`, peerPort))
	sc, err := ParseConfig(raw)
	require.NoError(t, err)
	buf := &servertest.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	gw, err := New(sc, WithLogger(log))
	require.NoError(t, err)
	require.NoError(t, gw.Listen(context.Background()))
	cfg, _ := server.DemoConfig()
	cfg.Trunk = server.TrunkConfig{Type: server.TrunkSIP, SIP: raw}
	e := &testGW{gw: gw, log: buf}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("gateway log:\n%s", buf.String())
		}
	})
	e.srv, _ = servertest.StartServer(t, cfg, server.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), server.WithTrunk(gw))
	go func() {
		defer close(done)
		_ = gw.Serve(ctx, e.srv)
	}()
	require.Eventually(t, func() bool { return gw.srv.Load() != nil }, waitFor, tick)
	return e
}

// inCallOf is the gateway's inbound call for a peer's dialog.
func (e *testGW) inCallOf(t *testing.T, dlg *sipgo.DialogClientSession) *inCall {
	t.Helper()
	e.gw.mu.Lock()
	defer e.gw.mu.Unlock()
	c, ok := e.gw.calls[dlg.InviteRequest.CallID().Value()].(*inCall)
	require.True(t, ok, "no inbound call for the dialog")
	return c
}

func (e *testGW) activeCalls() int { return e.srv.Stats().ActiveCalls }

// dialRecorder is an app's outbound call as the server hands it to the
// gateway, recording what the gateway reports.
type dialRecorder struct {
	mu     sync.Mutex
	events []trunk.Event
	digits []byte
}

func (r *dialRecorder) progress(ev trunk.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}
func (r *dialRecorder) dtmf(d byte) { r.mu.Lock(); r.digits = append(r.digits, d); r.mu.Unlock() }

func (r *dialRecorder) last() (trunk.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		return trunk.Event{}, false
	}
	return r.events[len(r.events)-1], true
}

func (r *dialRecorder) has(kind trunk.EventKind) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.events {
		if ev.Kind == kind {
			return true
		}
	}
	return false
}

func (r *dialRecorder) gotDigits() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.digits)
}

type nopSink struct{}

func (nopSink) SendAudioRaw([]byte) bool { return true }

// dial places an outbound call through the gateway (to the peer) and waits
// until it is answered.
func (e *testGW) dial(t *testing.T) (trunk.Call, *dialRecorder) {
	t.Helper()
	r := &dialRecorder{}
	c, err := e.gw.Dial(trunk.Dial{CallID: "c_test", Account: "demo", From: "1001", To: "5551234",
		Audio: nopSink{}, Progress: r.progress, DTMF: r.dtmf})
	require.NoError(t, err)
	t.Cleanup(c.Hangup)
	require.Eventually(t, func() bool { return r.has(trunk.Answered) || r.has(trunk.Failed) }, waitFor, tick)
	require.True(t, r.has(trunk.Answered), "the call failed: %+v", r.events)
	return c, r
}

// hdr is a header's value, "" if absent.
func hdr(m headerReader, name string) string {
	if h := m.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// nonSpace compacts a header value for comparisons.
func nonSpace(s string) string { return strings.ReplaceAll(s, " ", "") }

var _ = wire.Quote

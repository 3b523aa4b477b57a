package sip_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server/sipgw/media"
	"github.com/onecxi/phone/wire"
)

const (
	peerRealm = "trunk.test"
	peerNonce = "5f2a9c61b7e0d4"
	peerUser  = "gwuser"
	peerPass  = "s3cret-pass"
)

// trunkOptions configure a trunkPeer.
type trunkOptions struct {
	// challenge is 0 (INVITEs are answered at once), 401 or 407: the
	// status an INVITE without valid credentials gets.
	challenge int
	// qop is the challenge's qop ("auth") or empty for RFC 2069 digest.
	qop string
	// registerExpires is the expiry granted to REGISTERs, in seconds.
	registerExpires int
	// silent: once answered, send no RTP at all.
	silent bool
	// reject, when set, is the final status every INVITE gets (after the
	// challenge, if any).
	reject int
	// ringOnly: INVITEs get 180 Ringing and are never answered.
	ringOnly bool
}

// trunkPeer is a SIP trunk written with sipgo: it challenges with digest
// authentication, keeps a registrar, answers INVITEs with a media.Session
// of its own (sending silence unless silent), and can place calls to the
// gateway.
type trunkPeer struct {
	t    *testing.T
	o    trunkOptions
	port int
	ua   *sipgo.UserAgent
	dua  *sipgo.DialogUA

	mu        sync.Mutex
	invites   []*sip.Request // every INVITE received
	authFails int            // INVITEs/REGISTERs with credentials that did not verify
	registers []*sip.Request // every REGISTER received
	regOK     []*sip.Request // REGISTERs accepted
	byes      int
	sess      *media.Session // the current call's media
	stopSess  context.CancelFunc
}

func startTrunkPeer(t *testing.T, o trunkOptions) *trunkPeer {
	t.Helper()
	p := &trunkPeer{t: t, o: o}
	ua, err := sipgo.NewUA(sipgo.WithUserAgentHostname("127.0.0.1"))
	require.NoError(t, err)
	p.ua = ua
	srv, err := sipgo.NewServer(ua)
	require.NoError(t, err)
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	p.port = conn.LocalAddr().(*net.UDPAddr).Port
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(p.port),
		sipgo.WithClientConnectionAddr(conn.LocalAddr().String()))
	require.NoError(t, err)
	p.dua = &sipgo.DialogUA{Client: cli, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "peer", Host: "127.0.0.1", Port: p.port}}}

	srv.OnInvite(p.onInvite)
	srv.OnRegister(p.onRegister)
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		p.mu.Lock()
		p.byes++
		p.mu.Unlock()
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		p.stopMedia()
	})
	go func() { _ = srv.ServeUDP(conn) }()
	t.Cleanup(func() {
		p.stopMedia()
		conn.Close()
		ua.Close()
	})
	return p
}

// challengeHeader is what a 401 (WWW-Authenticate) or 407
// (Proxy-Authenticate) carries.
func (p *trunkPeer) challengeValue() string {
	v := fmt.Sprintf(`Digest realm="%s", nonce="%s", algorithm=MD5`, peerRealm, peerNonce)
	if p.o.qop != "" {
		v += fmt.Sprintf(`, qop="%s"`, p.o.qop)
	}
	return v
}

// verify checks the request's credentials (header hdr) against our
// username and password: the digest response is recomputed from the
// challenge we sent.
func (p *trunkPeer) verify(req *sip.Request, hdr string) (present, ok bool) {
	h := req.GetHeader(hdr)
	if h == nil {
		return false, false
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil {
		return true, false
	}
	chal := &digest.Challenge{Realm: peerRealm, Nonce: peerNonce, Algorithm: "MD5"}
	if p.o.qop != "" {
		chal.QOP = []string{p.o.qop}
	}
	want, err := digest.Digest(chal, digest.Options{
		Method: req.Method.String(), URI: cred.URI, Username: peerUser, Password: peerPass,
		Cnonce: cred.Cnonce, Count: cred.Nc,
	})
	if err != nil {
		return true, false
	}
	ok = cred.Username == peerUser && cred.Realm == peerRealm && cred.Nonce == peerNonce &&
		cred.URI == req.Recipient.Addr() && cred.QOP == p.o.qop && cred.Response == want.Response
	return true, ok
}

func (p *trunkPeer) respond(req *sip.Request, tx sip.ServerTransaction, status int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, status, reason, nil)
	if !req.To().Params.Has("tag") {
		res.To().Params.Add("tag", sip.GenerateTagN(8))
	}
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

func (p *trunkPeer) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	p.mu.Lock()
	p.invites = append(p.invites, req.Clone())
	p.mu.Unlock()
	if p.o.challenge != 0 {
		hdr, chalHdr, reason := "Authorization", "WWW-Authenticate", "Unauthorized"
		if p.o.challenge == 407 {
			hdr, chalHdr, reason = "Proxy-Authorization", "Proxy-Authenticate", "Proxy Authentication Required"
		}
		present, ok := p.verify(req, hdr)
		if present && !ok {
			p.mu.Lock()
			p.authFails++
			p.mu.Unlock()
		}
		if !ok {
			p.respond(req, tx, p.o.challenge, reason, sip.NewHeader(chalHdr, p.challengeValue()))
			return
		}
	}
	switch {
	case p.o.reject != 0:
		p.respond(req, tx, p.o.reject, "Rejected By Test")
		return
	case p.o.ringOnly:
		p.respond(req, tx, 180, "Ringing")
		return // sipgo answers a CANCEL with 487 for us
	}
	offer, err := media.Parse(req.Body())
	if err != nil {
		p.respond(req, tx, 488, "Not Acceptable Here")
		return
	}
	sess, err := media.Listen(netip.MustParseAddr("127.0.0.1"), 32000, 32999)
	if err != nil {
		p.respond(req, tx, 500, "Server Internal Error")
		return
	}
	desc, answer, err := media.Answer(offer, sess.LocalAddr(), []media.Codec{media.PCMU, media.PCMA}, media.SendRecv, 7, 1)
	if err != nil || len(desc.Codecs) == 0 {
		_ = sess.Close()
		p.respond(req, tx, 488, "Not Acceptable Here")
		return
	}
	p.startMedia(sess, offer.Addr, desc.Codecs[0], desc.EventPT)
	res := sip.NewSDPResponseFromRequest(req, answer)
	if !req.To().Params.Has("tag") {
		res.To().Params.Add("tag", sip.GenerateTagN(8))
	}
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "peer", Host: "127.0.0.1", Port: p.port}})
	_ = tx.Respond(res)
}

// startMedia runs sess toward remote and, unless silent, sends 20 ms of
// silence every 20 ms so the gateway's RTP timeout never fires.
func (p *trunkPeer) startMedia(sess *media.Session, remote netip.AddrPort, codec media.Codec, eventPT uint8) {
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(p.t, sess.Start(ctx, media.SessionConfig{
		Remote: remote, Codec: codec, EventPT: eventPT, Sink: discardSink{}, Timeout: time.Minute,
	}))
	p.mu.Lock()
	p.sess, p.stopSess = sess, cancel
	p.mu.Unlock()
	if p.o.silent {
		return
	}
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var seq uint32
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			frame, _ := wire.AppendAudio(nil, wire.AudioFrame{Seq: seq, Timestamp: seq * 160, Samples: make([]int16, 160)})
			seq++
			sess.SendAudioRaw(frame)
		}
	}()
}

func (p *trunkPeer) stopMedia() {
	p.mu.Lock()
	sess, stop := p.sess, p.stopSess
	p.sess, p.stopSess = nil, nil
	p.mu.Unlock()
	if stop != nil {
		stop()
	}
	if sess != nil {
		_ = sess.Close()
	}
}

// session is the current call's media, once there is one.
func (p *trunkPeer) session() *media.Session {
	p.t.Helper()
	var s *media.Session
	require.Eventually(p.t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		s = p.sess
		return s != nil
	}, waitEvent, 10*time.Millisecond, "the peer has no call")
	return s
}

func (p *trunkPeer) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	p.mu.Lock()
	p.registers = append(p.registers, req.Clone())
	p.mu.Unlock()
	present, ok := p.verify(req, "Authorization")
	if !ok {
		if present {
			p.mu.Lock()
			p.authFails++
			p.mu.Unlock()
		}
		p.respond(req, tx, 401, "Unauthorized", sip.NewHeader("WWW-Authenticate", p.challengeValue()))
		return
	}
	p.mu.Lock()
	p.regOK = append(p.regOK, req.Clone())
	p.mu.Unlock()
	expires := "0"
	if h := req.GetHeader("Expires"); h != nil && strings.TrimSpace(h.Value()) != "0" {
		expires = fmt.Sprint(p.o.registerExpires)
	}
	hdrs := []sip.Header{sip.NewHeader("Expires", expires)}
	if c := req.Contact(); c != nil {
		hdrs = append(hdrs, c.Clone())
	}
	p.respond(req, tx, 200, "OK", hdrs...)
}

func (p *trunkPeer) counts() (invites, authFails, byes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.invites), p.authFails, p.byes
}

func (p *trunkPeer) accepted() []*sip.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*sip.Request(nil), p.regOK...)
}

type discardSink struct{}

func (discardSink) SendAudioRaw([]byte) bool { return true }

// authTrunk is a gateway config whose one trunk is the peer, with our
// credentials (password given).
func authTrunk(port int, password, extra string) string {
	return trunkTo(port, fmt.Sprintf(`,"username":%q,"password":%q%s`, peerUser, password, extra))
}

func testDigestAuthConnects(t *testing.T, challenge int, qop string) {
	peer := startTrunkPeer(t, trunkOptions{challenge: challenge, qop: qop})
	e := startGateway(t, authTrunk(peer.port, peerPass, ""), nil)
	a := e.newPhone(t, appTone)
	a.callBob()

	invites, fails, _ := peer.counts()
	assert.Equal(t, 2, invites, "the challenged INVITE, then one with credentials")
	assert.Zero(t, fails, "the credentials verified the first time")
	peer.mu.Lock()
	first, retry := peer.invites[0], peer.invites[1]
	peer.mu.Unlock()
	assert.Equal(t, first.CallID().Value(), retry.CallID().Value(), "the retry is the same call")
	ftag, _ := first.From().Params.Get("tag")
	rtag, _ := retry.From().Params.Get("tag")
	assert.Equal(t, ftag, rtag)
	// RFC 3261 §22.2: a request resent with credentials is a new request
	// within the same call, so its CSeq goes up.
	assert.Greater(t, retry.CSeq().SeqNo, first.CSeq().SeqNo, "the retry has a higher CSeq")

	require.NoError(t, a.sdk.EndCall(testCtx(t)))
	a.waitFor("ended outbound " + bobNumber)
	require.Eventually(t, func() bool { _, _, byes := peer.counts(); return byes == 1 }, waitEvent, 10*time.Millisecond)
}

func TestOutboundDigestAuth401WithQop(t *testing.T) {
	t.Parallel()
	testDigestAuthConnects(t, 401, "auth")
}

func TestOutboundDigestAuth401WithoutQop(t *testing.T) {
	t.Parallel()
	testDigestAuthConnects(t, 401, "")
}

func TestOutboundDigestAuth407ProxyAuthenticate(t *testing.T) {
	t.Parallel()
	testDigestAuthConnects(t, 407, "auth")
}

func TestOutboundDigestAuthWrongPasswordFailsClearly(t *testing.T) {
	t.Parallel()
	peer := startTrunkPeer(t, trunkOptions{challenge: 401, qop: "auth"})
	e := startGateway(t, authTrunk(peer.port, "not-the-password", ""), nil)
	a := e.newPhone(t, appTone)
	start := time.Now()
	got := failedOutboundCall(t, a)
	assert.Contains(t, got, "credentials", "the app is told to check the trunk's credentials")
	assert.Contains(t, got, "401")
	assert.Less(t, time.Since(start), 4*time.Second, "a refused password fails at once, it does not hang")
	invites, fails, _ := peer.counts()
	assert.GreaterOrEqual(t, fails, 1, "the gateway did send credentials")
	assert.LessOrEqual(t, invites, 3, "the gateway gives up instead of retrying forever")
}

func TestRegistrationWithDigestRefreshesAndUnregistersOnClose(t *testing.T) {
	t.Parallel()
	peer := startTrunkPeer(t, trunkOptions{qop: "auth", registerExpires: 2})
	e := startGateway(t, authTrunk(peer.port, peerPass, `,"register":true,"registerExpiry":"2s"`), nil)

	// Registered, then refreshed at ¾ of the 2 s granted.
	require.Eventually(t, func() bool { return len(peer.accepted()) >= 2 }, 5*time.Second, 20*time.Millisecond,
		"no refresh; log:\n%s", e.log.String())
	regs := peer.accepted()
	gw := e.gw.Addr()
	for i, r := range regs[:2] {
		assert.Equal(t, "2", r.GetHeader("Expires").Value(), "REGISTER %d asks for registerExpiry", i)
		assert.Equal(t, peerUser, r.From().Address.User)
		assert.Equal(t, "127.0.0.1", r.From().Address.Host, "the domain defaults to the host")
		assert.Equal(t, peerUser, r.To().Address.User)
		assert.Equal(t, "127.0.0.1", r.To().Address.Host)
		require.NotNil(t, r.Contact())
		assert.Equal(t, peerUser, r.Contact().Address.User)
		assert.Equal(t, gw.Addr().String(), r.Contact().Address.Host)
		assert.Equal(t, int(gw.Port()), r.Contact().Address.Port)
		assert.Equal(t, regs[0].CallID().Value(), r.CallID().Value(), "one registration dialog")
	}
	assert.Greater(t, regs[1].CSeq().SeqNo, regs[0].CSeq().SeqNo)
	_, fails, _ := peer.counts()
	assert.Zero(t, fails)

	n := len(peer.accepted())
	e.gw.Close()
	regs = peer.accepted()
	require.Greater(t, len(regs), n, "Close unregisters before it returns")
	last := regs[len(regs)-1]
	assert.Equal(t, "0", last.GetHeader("Expires").Value())
	assert.Equal(t, regs[0].CallID().Value(), last.CallID().Value())
	assert.Greater(t, last.CSeq().SeqNo, regs[n-1].CSeq().SeqNo)
}

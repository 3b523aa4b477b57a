package sipgw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/sipgw/media"
	"github.com/onecxi/phone/wire"
)

// userAgent names us in SIP User-Agent headers.
const userAgent = "OneCxi"

// Option configures a Gateway.
type Option func(*options)

type options struct {
	log      *slog.Logger
	resolver *net.Resolver
}

// WithLogger sets the logger (default slog.Default()). Passwords are never
// logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithResolver sets the DNS resolver used for trunk host names (default
// net.DefaultResolver).
func WithResolver(r *net.Resolver) Option {
	return func(o *options) {
		if r != nil {
			o.resolver = r
		}
	}
}

// Gateway connects the server to SIP trunks. It implements trunk.Trunk.
// Listen binds its SIP sockets, Serve takes inbound calls and keeps
// registrations, Close ends every call.
type Gateway struct {
	cfg    Config
	log    *slog.Logger
	res    *net.Resolver
	codecs []media.Codec

	ctx    context.Context // the gateway's life; Close cancels it
	cancel context.CancelFunc
	wg     sync.WaitGroup // listeners and calls
	regWG  sync.WaitGroup // registrations, which need the sockets to unregister

	listenOnce sync.Once
	listenErr  error
	ua         *sipgo.UserAgent
	sipSrv     *sipgo.Server
	udpConn    net.PacketConn
	tcpLn      net.Listener
	clients    map[string]*sipgo.Client // by transport
	dialogUAs  map[string]*sipgo.DialogUA
	laddr      netip.AddrPort // where SIP listens (UDP and TCP)
	extIP      netip.Addr     // what peers are told to reach
	rtpIP      netip.Addr     // what RTP binds to
	allow      allowList      // every trunk's
	trunkAllow []allowList    // each trunk's, to tell which trunk a call came from

	srv atomic.Pointer[server.Server] // set by Serve; inbound calls need it

	// sampler thins out the logs of refused and malformed messages.
	sampler *sampler

	mu         sync.Mutex
	calls      map[string]dialogCall // by SIP Call-ID
	inviteTags map[string]string     // our From tag of an outbound call's INVITE, by Call-ID (noteInvite)
	closed     bool
}

// dialogCall is a call the gateway handles requests within the dialog of.
type dialogCall interface {
	onBye(req *sip.Request, tx sip.ServerTransaction)
	onReinvite(req *sip.Request, tx sip.ServerTransaction)
	onAck(req *sip.Request, tx sip.ServerTransaction)
	hangup() // the gateway closes: BYE or CANCEL, and wait
	// dialogIdentity is the call's dialog as far as it is known, and where
	// its peer's requests may come from (inDialog checks both).
	dialogIdentity() dialogID
}

// New returns a gateway for cfg (as ParseConfig returns it). It does not
// touch the network until Listen.
func New(cfg Config, opts ...Option) (*Gateway, error) {
	o := options{log: slog.Default(), resolver: net.DefaultResolver}
	for _, opt := range opts {
		opt(&o)
	}
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Gateway{
		cfg:        cfg,
		log:        o.log.With("component", "sip-gateway"),
		res:        o.resolver,
		calls:      make(map[string]dialogCall),
		inviteTags: make(map[string]string),
		sampler:    newSampler(defaultLogEvery),
	}
	for _, name := range cfg.Codecs {
		switch name {
		case CodecPCMU:
			g.codecs = append(g.codecs, media.PCMU)
		case CodecPCMA:
			g.codecs = append(g.codecs, media.PCMA)
		}
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	return g, nil
}

// Listen binds SIP on UDP and TCP at the configured address (the same port
// for both; port 0 picks a free one, see Addr) and works out the address
// peers are told. It is idempotent; Serve and Dial call it if needed.
func (g *Gateway) Listen(ctx context.Context) error {
	g.listenOnce.Do(func() { g.listenErr = g.listen(ctx) })
	return g.listenErr
}

// Addr is where SIP listens, once Listen succeeded.
func (g *Gateway) Addr() netip.AddrPort { return g.laddr }

func (g *Gateway) listen(ctx context.Context) error {
	host, portStr, _ := net.SplitHostPort(g.cfg.Listen)
	port, _ := strconv.Atoi(portStr)
	ip := netip.IPv4Unspecified()
	if host != "" {
		a, err := netip.ParseAddr(host)
		if err != nil {
			ips, lerr := g.res.LookupNetIP(ctx, "ip4", host)
			if lerr != nil || len(ips) == 0 {
				return fmt.Errorf("sip gateway: listen %s: %w", wire.Quote(g.cfg.Listen), wire.QuoteError(errors.Join(err, lerr)))
			}
			a = ips[0]
		}
		ip = a.Unmap()
	}
	network := "4"
	if ip.Is6() {
		network = "6"
	}
	var lc net.ListenConfig
	// With port 0 the kernel picks the UDP port and TCP must get the same
	// one; another process may hold it for TCP, so try a few times.
	for attempt := 0; ; attempt++ {
		uc, err := lc.ListenPacket(ctx, "udp"+network, netip.AddrPortFrom(ip, uint16(port)).String())
		if err != nil {
			return fmt.Errorf("sip gateway: listen udp %s: %w", wire.Quote(g.cfg.Listen), err)
		}
		got := netip.MustParseAddrPort(uc.LocalAddr().String())
		tl, err := lc.Listen(ctx, "tcp"+network, netip.AddrPortFrom(ip, got.Port()).String())
		if err != nil {
			uc.Close()
			if port == 0 && attempt < 5 {
				continue
			}
			return fmt.Errorf("sip gateway: listen tcp %s: %w", wire.Quote(g.cfg.Listen), err)
		}
		g.udpConn, g.tcpLn, g.laddr = uc, tl, netip.AddrPortFrom(ip, got.Port())
		break
	}
	if err := g.setup(ctx); err != nil {
		g.udpConn.Close()
		g.tcpLn.Close()
		return err
	}
	return nil
}

// setup works out our addresses and builds the SIP stack on the sockets.
func (g *Gateway) setup(ctx context.Context) error {
	g.rtpIP = g.laddr.Addr()
	g.extIP = g.cfg.ExternalIP
	if !g.extIP.IsValid() {
		g.extIP = g.laddr.Addr()
		if g.extIP.IsUnspecified() {
			ip, err := g.routeTo(ctx, g.cfg.Trunks[0])
			if err != nil {
				return err
			}
			g.extIP = ip
		}
	}
	for _, t := range g.cfg.Trunks {
		a, err := trunkAllowList(ctx, g.res, t)
		if err != nil {
			return fmt.Errorf("sip gateway: %w", err)
		}
		g.trunkAllow = append(g.trunkAllow, a)
		g.allow = append(g.allow, a...)
	}

	// sipgo's own lines are cut short and sampled (logsample.go).
	sipLog := slog.New(&sipgoLog{next: g.log.With("component", "sipgo").Handler(), sampler: g.sampler})
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(userAgent),
		sipgo.WithUserAgentHostname(g.extIP.String()),
		sipgo.WithUserAgentDNSResolver(g.res),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)),
	)
	if err != nil {
		return fmt.Errorf("sip gateway: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		ua.Close()
		return fmt.Errorf("sip gateway: %w", err)
	}
	g.ua, g.sipSrv = ua, srv
	g.clients = make(map[string]*sipgo.Client, 2)
	g.dialogUAs = make(map[string]*sipgo.DialogUA, 2)
	for _, tp := range []string{TransportUDP, TransportTCP} {
		copts := []sipgo.ClientOption{
			sipgo.WithClientLogger(sipLog),
			sipgo.WithClientHostname(g.extIP.String()),
			sipgo.WithClientPort(int(g.laddr.Port())),
		}
		if tp == TransportUDP {
			// Requests leave from the listening socket, so the trunk sees
			// the port it sends responses and requests back to.
			copts = append(copts, sipgo.WithClientConnectionAddr(g.udpConn.LocalAddr().String()))
		}
		c, err := sipgo.NewClient(ua, copts...)
		if err != nil {
			ua.Close()
			return fmt.Errorf("sip gateway: %w", err)
		}
		g.clients[tp] = c
		g.dialogUAs[tp] = &sipgo.DialogUA{Client: c, ContactHDR: g.contact("", tp)}
	}
	srv.OnInvite(g.onInvite)
	srv.OnAck(g.onAck)
	srv.OnBye(g.onBye)
	srv.OnOptions(g.onOptions)
	srv.OnCancel(g.onCancel)
	g.registerExtensions(srv)
	// sipgo reads through the screens of admit.go: malformed messages are
	// answered 400 there and never reach it.
	g.wg.Add(3)
	go func() {
		defer g.wg.Done()
		_ = srv.ServeUDP(g.screenUDP(g.udpConn))
	}()
	go func() {
		defer g.wg.Done()
		_ = srv.ServeTCP(&screenListener{Listener: g.tcpLn, g: g})
	}()
	go func() {
		defer g.wg.Done()
		g.sampler.run(g.ctx)
	}()
	// Requests leave from the listening UDP socket, which sipgo only finds
	// once ServeUDP has put it in its pool: a REGISTER sent at once would
	// otherwise fail ("address already in use") and wait registerRetry.
	pool, addr := ua.TransportLayer().Pool("udp"), g.udpConn.LocalAddr().String()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if c := pool.Get(addr); c != nil {
			c.Ref(-1) // Get took a reference
			break
		}
	}
	g.log.Info("SIP gateway listening", "addr", g.laddr, "udp", true, "tcp", true, "advertised", g.extIP,
		"trunks", len(g.cfg.Trunks))
	return nil
}

// routeTo returns the local address the system routes toward t's host.
func (g *Gateway) routeTo(ctx context.Context, t Trunk) (netip.Addr, error) {
	ips, err := g.res.LookupNetIP(ctx, "ip4", t.Host)
	if err != nil || len(ips) == 0 {
		return netip.Addr{}, fmt.Errorf("sip gateway: resolve trunk %s host %s to find our address (set externalIp): %w", wire.Quote(t.Name), wire.Quote(t.Host), wire.QuoteError(err))
	}
	// A UDP "connection" sends nothing; it only asks the kernel for a route.
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ips[0], uint16(t.Port))))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("sip gateway: no route to trunk %s (set externalIp): %w", wire.Quote(t.Name), err)
	}
	defer c.Close()
	return netip.MustParseAddrPort(c.LocalAddr().String()).Addr().Unmap(), nil
}

// contact is our Contact header for user over transport tp.
func (g *Gateway) contact(user, tp string) sip.ContactHeader {
	u := sip.Uri{Scheme: "sip", User: user, Host: g.extIP.String(), Port: int(g.laddr.Port())}
	if tp == TransportTCP {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", "tcp")
	}
	return sip.ContactHeader{Address: u}
}

// Serve takes inbound calls for srv and keeps the trunks' registrations
// until ctx ends, then closes the gateway. It listens first if Listen was
// not called.
func (g *Gateway) Serve(ctx context.Context, srv *server.Server) error {
	if srv == nil {
		return errors.New("sip gateway: Serve needs the server")
	}
	if err := g.Listen(ctx); err != nil {
		return err
	}
	g.srv.Store(srv)
	for _, t := range g.cfg.Trunks {
		if t.Register {
			g.regWG.Add(1)
			go func() {
				defer g.regWG.Done()
				g.keepRegistered(g.ctx, t)
			}()
		}
	}
	select {
	case <-ctx.Done():
	case <-g.ctx.Done():
	}
	g.Close()
	return nil
}

// Close ends every call (BYE once answered, CANCEL while ringing),
// unregisters, and releases the sockets. Safe to call more than once.
func (g *Gateway) Close() {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	g.closed = true
	calls := make([]dialogCall, 0, len(g.calls))
	for _, c := range g.calls {
		calls = append(calls, c)
	}
	g.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.hangup()
		}()
	}
	wg.Wait()
	g.cancel() // registrations unregister on their way out
	g.regWG.Wait()
	if g.ua != nil {
		g.udpConn.Close()
		g.tcpLn.Close()
		g.ua.Close()
	}
	g.wg.Wait()
}

// track registers c under its SIP Call-ID and runs it on a goroutine Close
// waits for; both or neither, so Close never waits for a call that never
// ran. It returns false once closed.
func (g *Gateway) track(id string, c dialogCall, run func()) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.calls[id] = c
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer g.removeCall(id)
		run()
	}()
	return true
}

// spawn runs f on a goroutine Close waits for (an endpoint.Spawner, for
// the early ringback's player); false once closed.
func (g *Gateway) spawn(f func()) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		f()
	}()
	return true
}

func (g *Gateway) removeCall(id string) {
	g.mu.Lock()
	delete(g.calls, id)
	delete(g.inviteTags, id)
	g.mu.Unlock()
}

func (g *Gateway) call(req *sip.Request) dialogCall {
	id := req.CallID()
	if id == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls[id.Value()]
}

// onAck passes the ACK of a 2xx to its call; one that is not the call's
// (dialog.go) is ignored.
func (g *Gateway) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if c := g.inDialog(req, tx); c != nil {
		c.onAck(req, tx)
	}
}

// onBye passes a BYE to its call if it is the dialog's, from its peer.
func (g *Gateway) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if c := g.inDialog(req, tx); c != nil {
		c.onBye(req, tx)
	}
}

// onCancel answers a CANCEL that matched no INVITE transaction (one that
// did was handled by the transaction, and admit.go refused it if it came
// from a stranger): 481, or 403 to a source on no trunk's allow-list.
func (g *Gateway) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	_, status, reason := g.admitInDialog(req)
	if status == 0 || status == sip.StatusCallTransactionDoesNotExists {
		status, reason = sip.StatusCallTransactionDoesNotExists, reasonNoTransaction
	}
	g.refuse(req, tx, status, reason)
}

// onOptions answers keep-alive pings (trunks and PBXes send them) from the
// trunks' addresses; others get 403 or nothing (Config.UnlistedOptions).
func (g *Gateway) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if ip, ok := sourceIP(req.Source()); !ok || !g.allow.allows(ip) {
		if g.cfg.UnlistedOptions == OptionsDrop {
			g.logSampled(slog.LevelWarn, "SIP request refused", req.Source(), "OPTIONS: "+reasonNotAllowed,
				"status", "none", "transport", transportOf(req))
			return
		}
		g.refuse(req, tx, sip.StatusForbidden, reasonNotAllowed)
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	res.AppendHeader(sip.NewHeader("Supported", supportedOptions))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	_ = tx.Respond(res)
}

// onInvite takes a new call from a trunk's address, or a re-INVITE within a
// call (dialog.go).
func (g *Gateway) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		if c := g.inDialog(req, tx); c != nil {
			c.onReinvite(req, tx)
		}
		return
	}
	if ip, ok := sourceIP(req.Source()); !ok || !g.allow.allows(ip) {
		g.refuse(req, tx, sip.StatusForbidden, reasonNotAllowed)
		return
	}
	g.inbound(req, tx)
}

// transportOf names a request's transport as the config does.
func transportOf(req *sip.Request) string {
	if sip.NetworkToLower(req.Transport()) == TransportTCP {
		return TransportTCP
	}
	return TransportUDP
}

package server

import (
	"container/list"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/onecxi/phone/wire"
)

// Bounds of the failed-authentication bookkeeping. Memory stays bounded
// whatever a client sends: past a cap the least recently failing record is
// forgotten (an attacker rotating through more addresses than that gains a
// few unthrottled tries, not memory).
const (
	maxAuthRecords  = 10_000 // per map: client addresses, account names, (address, account) pairs
	authLogInterval = time.Minute
	// authLogBudget bounds the authentication log lines of one
	// authLogInterval over all clients; the rest are counted in one line.
	authLogBudget = 20
)

// authGuard is the failed-authentication back-off (Limits.AuthFailures …)
// and its sampled log. One mutex guards it; nothing under it blocks or
// writes a log line.
type authGuard struct {
	mu     sync.Mutex
	now    func() time.Time
	lim    Limits // with defaults
	off    bool   // AuthFailures is NoLimit: log only
	addrs  lru[*authRecord]
	names  lru[*authRecord]
	pairs  lru[*logSample] // by address and account name
	budget struct {
		start   time.Time
		left    int
		dropped int // lines not written since start
	}
}

// authRecord is the failures of one client address or one account name.
type authRecord struct {
	fails int       // failures in the window starting at start (before a back-off)
	start time.Time //
	level int       // back-offs imposed in a row; each doubles the next
	until time.Time // refused until then
	last  time.Time // the last failure
}

// logSample is what the log has said about one (address, account) pair.
type logSample struct {
	logged     time.Time // when a line was last written
	last       time.Time // the last failure
	suppressed int       // failures since the line not written
}

func newAuthGuard(lim Limits, now func() time.Time) *authGuard {
	if now == nil {
		now = time.Now
	}
	g := &authGuard{now: now, lim: lim, off: lim.AuthFailures <= 0}
	g.addrs.init(maxAuthRecords)
	g.names.init(maxAuthRecords)
	g.pairs.init(maxAuthRecords)
	return g
}

// clientAddr is the key of a request's client: its IP address, or for
// IPv6 its /64 (what one subscriber usually holds).
// maxProxies bounds Config.TrustedProxies.
const maxProxies = 256

// parseProxies reads Config.TrustedProxies: IP addresses or CIDR
// prefixes.
func parseProxies(list []string) ([]netip.Prefix, error) {
	if len(list) > maxProxies {
		return nil, fmt.Errorf("more than %d entries", maxProxies)
	}
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("%s is not an IP address or a CIDR prefix (10.0.0.0/8)", wire.Quote(s))
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// proxies are the trusted load balancers (Config.TrustedProxies).
type proxies []netip.Prefix

func (ps proxies) trusted(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// maxForwarded bounds how many X-Forwarded-For entries are looked at.
const maxForwarded = 32

// clientOf is the address r came from: its TCP peer, or, when that is a
// trusted proxy, the last address of X-Forwarded-For that is not one
// (entries a client wrote itself come before the proxies' own, and are
// not believed). It is in host form, for clientAddr.
func (ps proxies) clientOf(r *http.Request) string {
	peer := r.RemoteAddr
	if len(ps) == 0 {
		return peer
	}
	host, _, err := net.SplitHostPort(peer)
	if err != nil {
		host = peer
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !ps.trusted(a) {
		return peer
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	if len(hops) > maxForwarded {
		hops = hops[len(hops)-maxForwarded:]
	}
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer // a malformed chain: the proxy itself is what we know
		}
		if !ps.trusted(h) {
			return h.String()
		}
	}
	return peer
}

func clientAddr(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// wait returns how long requests from addr, or for account name (may be
// empty), are still refused; 0 if they may try. It does no hashing.
func (g *authGuard) wait(addr, name string) time.Duration {
	if g.off {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	var d time.Duration
	if r, ok := g.addrs.get(addr); ok && now.Before(r.until) {
		d = r.until.Sub(now)
	}
	if name != "" {
		if r, ok := g.names.get(name); ok && now.Before(r.until) {
			d = max(d, r.until.Sub(now))
		}
	}
	return d
}

// authFailure is what the log is to say about one failure, decided under
// the guard's lock and written after it.
type authFailure struct {
	first      bool          // the first failure of this (address, account): logged
	repeated   int           // > 0: a summary line, this many failures since the last line
	since      time.Duration // of the summary
	addrBlock  time.Duration // a back-off of the address starts now
	nameBlock  time.Duration // a back-off of the account name starts now
	dropped    int           // > 0: this many lines were dropped over the last interval
	droppedFor time.Duration
	budgetCut  int // lines wanted now that the budget dropped
}

// failed records a failed authentication from addr for account name and
// writes what the log is to say about it: keys never appear but as
// wire.Redact shows them, and no more than one line per (address, account)
// pair per authLogInterval (plus back-off notices), authLogBudget lines in
// all per interval.
func (g *authGuard) failed(log *slog.Logger, addr, name, key, remote, path string) {
	f := g.record(addr, name)
	attrs := []any{"account", wire.Quote(name), "key", wire.Redact(key), "remote", remote, "path", wire.Quote(path)}
	if f.dropped > 0 {
		log.Warn("authentication log lines suppressed", "lines", f.dropped, "interval", f.droppedFor.Round(time.Second))
	}
	switch {
	case f.first:
		log.Info("authentication failed", attrs...)
	case f.repeated > 0:
		log.Info("authentication failed again", append(attrs, "failures", f.repeated, "since", f.since.Round(time.Second))...)
	}
	if f.addrBlock > 0 {
		log.Warn("authentication back-off for a client address", "address", addr, "for", f.addrBlock)
	}
	if f.nameBlock > 0 {
		log.Warn("authentication back-off for an account", "account", wire.Quote(name), "for", f.nameBlock)
	}
}

// record is failed's bookkeeping, under the lock.
func (g *authGuard) record(addr, name string) authFailure {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	var f authFailure
	if !g.off {
		f.addrBlock = g.fail(&g.addrs, addr, now)
		if name != "" {
			f.nameBlock = g.fail(&g.names, name, now)
		}
	}

	// The log: the first failure of a pair, then one summary per interval.
	pair := addr + " " + name
	s, created := g.pairs.touch(pair, func() *logSample { return &logSample{logged: now} })
	s.last = now
	switch {
	case created:
		f.first = true
	case now.Sub(s.logged) >= authLogInterval:
		f.repeated, f.since = s.suppressed+1, now.Sub(s.logged)
		s.logged, s.suppressed = now, 0
	default:
		s.suppressed++
	}
	// Pairs quiet for an interval are done with; their last suppressed
	// failures went unlogged, which the budget line below does not count
	// either: a pair that fails again says how many.
	g.pairs.prune(2, func(s *logSample) bool { return now.Sub(s.last) >= authLogInterval })

	// The budget over all pairs.
	if now.Sub(g.budget.start) >= authLogInterval {
		f.dropped, f.droppedFor = g.budget.dropped, now.Sub(g.budget.start)
		g.budget.start, g.budget.left, g.budget.dropped = now, authLogBudget, 0
	}
	spend := func(want bool) bool {
		if !want {
			return false
		}
		if g.budget.left == 0 {
			g.budget.dropped++
			return false
		}
		g.budget.left--
		return true
	}
	f.first = spend(f.first)
	if !spend(f.repeated > 0) {
		f.repeated = 0
	}
	if !spend(f.addrBlock > 0) {
		f.addrBlock = 0
	}
	if !spend(f.nameBlock > 0) {
		f.nameBlock = 0
	}
	return f
}

// fail counts a failure of key in m at now and returns the back-off it
// starts, if any.
func (g *authGuard) fail(m *lru[*authRecord], key string, now time.Time) time.Duration {
	// Quiet: no failure for a window, and a window since the last
	// back-off ended. The record is then forgotten (or forgiven).
	quiet := func(r *authRecord) bool {
		return now.Sub(r.last) >= g.lim.AuthWindow && !now.Before(r.until.Add(g.lim.AuthWindow))
	}
	r, _ := m.touch(key, func() *authRecord { return &authRecord{start: now} })
	if quiet(r) {
		*r = authRecord{start: now} // forgiven: a quiet window after the last back-off
	}
	if now.Sub(r.start) >= g.lim.AuthWindow {
		r.fails, r.start = 0, now
	}
	r.fails++
	r.last = now
	m.prune(2, quiet)
	if r.level == 0 && r.fails < g.lim.AuthFailures {
		return 0
	}
	d := g.lim.AuthBackoff
	for i := 0; i < r.level && d < g.lim.AuthBackoffMax; i++ {
		d *= 2
	}
	d = min(d, g.lim.AuthBackoffMax)
	r.level++
	r.until = now.Add(d)
	return d
}

// lru is a map bounded to cap entries that forgets the least recently
// touched. Not safe for concurrent use.
type lru[V any] struct {
	cap   int
	m     map[string]*list.Element
	order list.List // of *lruEntry[V], most recently touched first
}

type lruEntry[V any] struct {
	key string
	val V
}

func (c *lru[V]) init(capacity int) {
	c.cap = capacity
	c.m = make(map[string]*list.Element)
	c.order.Init()
}

func (c *lru[V]) len() int { return len(c.m) }

// get returns key's value without touching it.
func (c *lru[V]) get(key string) (V, bool) {
	if e, ok := c.m[key]; ok {
		return e.Value.(*lruEntry[V]).val, true
	}
	var zero V
	return zero, false
}

// touch returns key's value, made by mk if absent, and makes it the most
// recent. Adding beyond cap forgets the least recent.
func (c *lru[V]) touch(key string, mk func() V) (v V, created bool) {
	if e, ok := c.m[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*lruEntry[V]).val, false
	}
	if len(c.m) >= c.cap {
		c.removeElement(c.order.Back())
	}
	v = mk()
	c.m[key] = c.order.PushFront(&lruEntry[V]{key: key, val: v})
	return v, true
}

// prune forgets up to n of the least recent entries for which done holds,
// stopping at the first that does not: called on each touch, it keeps the
// map to what is still of use without a sweeper.
func (c *lru[V]) prune(n int, done func(V) bool) {
	for range n {
		e := c.order.Back()
		if e == nil || !done(e.Value.(*lruEntry[V]).val) {
			return
		}
		c.removeElement(e)
	}
}

func (c *lru[V]) removeElement(e *list.Element) {
	delete(c.m, e.Value.(*lruEntry[V]).key)
	c.order.Remove(e)
}

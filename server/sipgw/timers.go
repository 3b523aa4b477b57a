package sipgw

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Session timers (RFC 4028) and the other timers of a dialog. They are
// package variables, not constants, only so that tests can shorten them
// (before any gateway runs); in production they keep the RFC values.
var (
	// minSE is the shortest session interval we accept (Min-SE, RFC 4028
	// section 5: at least 90 s on the wire). A request asking for less,
	// from a UA that supports timers, gets 422 with Min-SE.
	minSE = 90 * time.Second
	// defaultSE is the session interval our outbound INVITEs ask for
	// (RFC 4028 section 4 recommends 1800 s).
	defaultSE = 1800 * time.Second
	// ackTimeout is how long a 200 OK to an INVITE waits for its ACK
	// before the session is ended with BYE (RFC 3261 section 13.3.1.4:
	// 64*T1, 32 s with T1 = 500 ms).
	ackTimeout = 64 * sip.T1
	// prackTimeout is how long a reliable provisional response is
	// retransmitted waiting for its PRACK (RFC 3262 section 3: 64*T1)
	// before the INVITE is rejected with a 5xx.
	prackTimeout = 64 * sip.T1
	// refreshRetry is how long a refresh that met 491 Request Pending
	// waits before it is tried again.
	refreshRetry = 2 * time.Second
)

// Refresher roles (RFC 4028 section 4): who sends the session refreshes,
// as seen from the transaction that negotiated them.
const (
	refresherUAC = "uac"
	refresherUAS = "uas"
)

// statusIntervalTooSmall is 422 Session Interval Too Small (RFC 4028).
const statusIntervalTooSmall = 422

// sessionExpires is a Session-Expires header: the session interval and
// who refreshes (empty if the header named nobody).
type sessionExpires struct {
	interval  time.Duration
	refresher string
}

func (s sessionExpires) String() string {
	v := strconv.FormatInt(int64(s.interval/time.Second), 10)
	if s.refresher != "" {
		v += ";refresher=" + s.refresher
	}
	return v
}

// headerReader is a request or a response.
type headerReader interface {
	GetHeader(name string) sip.Header
	GetHeaders(name string) []sip.Header
}

// headerValues are the comma-separated values of every header called one of
// names (the long and the compact form), trimmed and in order.
func headerValues(msg headerReader, names ...string) []string {
	var vs []string
	for _, name := range names {
		for _, h := range msg.GetHeaders(name) {
			for _, v := range strings.Split(h.Value(), ",") {
				if v = strings.TrimSpace(v); v != "" {
					vs = append(vs, v)
				}
			}
		}
	}
	return vs
}

// hasOption reports whether a Supported (or Require) header of msg lists
// the option tag opt.
func hasOption(msg headerReader, header, opt string) bool {
	names := []string{header}
	if strings.EqualFold(header, "Supported") {
		names = append(names, "k")
	}
	for _, v := range headerValues(msg, names...) {
		if strings.EqualFold(v, opt) {
			return true
		}
	}
	return false
}

// allowsMethod reports whether msg's Allow header lists method.
func allowsMethod(msg headerReader, method sip.RequestMethod) bool {
	for _, v := range headerValues(msg, "Allow") {
		if strings.EqualFold(v, string(method)) {
			return true
		}
	}
	return false
}

// parseDeltaSeconds reads a delta-seconds value (RFC 3261 25.1), bounded so
// that the duration cannot overflow.
func parseDeltaSeconds(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// parseSessionExpires reads msg's Session-Expires header (or its compact
// form x). ok is false when there is none or it does not parse: a malformed
// one is treated as absent.
func parseSessionExpires(msg headerReader) (se sessionExpires, ok bool) {
	h := msg.GetHeader("Session-Expires")
	if h == nil {
		h = msg.GetHeader("x")
	}
	if h == nil {
		return sessionExpires{}, false
	}
	parts := strings.Split(h.Value(), ";")
	d, ok := parseDeltaSeconds(parts[0])
	if !ok || d == 0 {
		return sessionExpires{}, false
	}
	se.interval = d
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "refresher") {
			switch v = strings.ToLower(strings.TrimSpace(v)); v {
			case refresherUAC, refresherUAS:
				se.refresher = v
			}
		}
	}
	return se, true
}

// parseMinSE reads msg's Min-SE header, 0 if absent or malformed.
func parseMinSE(msg headerReader) time.Duration {
	h := msg.GetHeader("Min-SE")
	if h == nil {
		return 0
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	d, _ := parseDeltaSeconds(v)
	return d
}

// timerOffer is what a request we receive (INVITE, re-INVITE, UPDATE) says
// about session timers, and our decision.
type timerOffer struct {
	supported bool           // the requester supports timers
	se        sessionExpires // what we answer; interval 0: no timer
	tooSmall  bool           // reject with 422 and Min-SE: minSE
}

// negotiateUAS decides, as the UAS of req, the session timer of the dialog
// (RFC 4028 section 9). A request asking for less than minSE from a UA that
// supports timers is refused (422); one from a UA that does not (a proxy
// added the header) gets our minimum instead, as it cannot understand a
// 422. We never ask for a timer the request did not: without
// Session-Expires the session has none, and the RTP timeout still ends a
// call whose far end vanished. A refresher the request left open is the
// requester (it asked for the timer, so it refreshes); one that does not
// support timers cannot refresh, so we do.
func negotiateUAS(req *sip.Request) timerOffer {
	o := timerOffer{supported: hasOption(req, "Supported", "timer") || hasOption(req, "Require", "timer")}
	se, ok := parseSessionExpires(req)
	if !ok {
		return o
	}
	if se.interval < minSE {
		if o.supported {
			o.tooSmall = true
			return o
		}
		se.interval = minSE
	}
	switch {
	case !o.supported:
		se.refresher = refresherUAS
	case se.refresher == "":
		se.refresher = refresherUAC
	}
	o.se = se
	return o
}

// timerResponseHeaders are the headers of our 2xx to a request that
// negotiated o.
func (o timerOffer) responseHeaders() []sip.Header {
	if o.se.interval == 0 {
		return nil
	}
	hs := []sip.Header{sip.NewHeader("Session-Expires", o.se.String())}
	if o.supported {
		// RFC 4028 section 9: MUST with refresher=uac, SHOULD with uas.
		hs = append(hs, sip.NewHeader("Require", "timer"))
	}
	return hs
}

// expiryMargin is how long before a session interval ends that the side
// not refreshing gives up (RFC 4028 section 10: the smaller of 32 s and a
// third of the interval).
func expiryMargin(interval time.Duration) time.Duration {
	return min(32*time.Second, interval/3)
}

// sessionTimer runs one dialog's session timer: when we refresh, a refresh
// at half the interval; in every case the expiry, at the interval less
// expiryMargin after the last refresh. Both only signal, on channels the
// call's goroutine reads.
type sessionTimer struct {
	refreshCh chan struct{} // time for us to refresh
	expiredCh chan struct{} // the session expired without a refresh

	mu        sync.Mutex
	se        sessionExpires
	weRefresh bool
	refresh   *time.Timer
	expire    *time.Timer
	stopped   bool
}

func newSessionTimer() *sessionTimer {
	return &sessionTimer{refreshCh: make(chan struct{}, 1), expiredCh: make(chan struct{}, 1)}
}

// set (re)starts the timer from now for an interval negotiated in a
// transaction where we were the UAC (asUAC) or the UAS. An interval of 0
// stops it: the session no longer expires.
func (t *sessionTimer) set(se sessionExpires, asUAC bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopTimers()
	if t.stopped || se.interval <= 0 {
		t.se, t.weRefresh = sessionExpires{}, false
		return
	}
	t.se = se
	t.weRefresh = (se.refresher == refresherUAC) == asUAC
	if t.weRefresh {
		t.refresh = time.AfterFunc(se.interval/2, func() { signal(t.refreshCh) })
	}
	t.expire = time.AfterFunc(se.interval-expiryMargin(se.interval), func() { signal(t.expiredCh) })
}

// retryRefresh schedules our next refresh attempt after d (the expiry stays
// where it is).
func (t *sessionTimer) retryRefresh(d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped || !t.weRefresh {
		return
	}
	if t.refresh != nil {
		t.refresh.Stop()
	}
	t.refresh = time.AfterFunc(d, func() { signal(t.refreshCh) })
}

// current is the negotiated interval and whether we refresh.
func (t *sessionTimer) current() (sessionExpires, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.se, t.weRefresh
}

// stop ends the timer for good (the call is over).
func (t *sessionTimer) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	t.stopTimers()
}

func (t *sessionTimer) stopTimers() {
	if t.refresh != nil {
		t.refresh.Stop()
		t.refresh = nil
	}
	if t.expire != nil {
		t.expire.Stop()
		t.expire = nil
	}
}

// signal sends on a buffered channel of one without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

package server

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/onecxi/phone/wire"
)

// Defaults of [Limits], applied to its zero fields. They are meant to be
// what a real deployment accepts: far above what an honest client or tenant
// does, low enough that one tenant cannot take the server from the others.
const (
	DefaultCallsPerAccount      = 500
	DefaultEventConnsPerAccount = 2000
	DefaultControlPerSecond     = 20
	DefaultControlBurst         = 40
	DefaultAuthFailures         = 5
	DefaultAuthWindow           = time.Minute
	DefaultAuthBackoff          = time.Second
	DefaultAuthBackoffMax       = 5 * time.Minute
)

// NoLimit turns a count or rate of [Limits] off.
const NoLimit = -1

// Bounds on the durations of Limits; beyond them a value is surely a typo.
const maxAuthDuration = 24 * time.Hour

// capRetryAfter is the Retry-After of a refusal at a capacity limit (an
// account's connections, the server's calls): connections come and go, so
// this is a polite interval for a client to wait, not a promise.
const capRetryAfter = 5 * time.Second

// reasonControlRate is the close reason of a connection that sent control
// messages faster than Limits allow (close code 1008).
const reasonControlRate = "control message rate exceeded"

// Limits bounds what one account, one connection or one client address can
// take (README, "Abuse limits"). A zero field takes its default; NoLimit
// (-1) turns a limit off.
type Limits struct {
	// CallsPerAccount bounds an account's concurrent calls, ringing or
	// connected (default DefaultCallsPerAccount): a start over it is
	// refused too_many_requests. The account's /v1/call connections are
	// bounded at twice it (a call has at most two legs): an upgrade over
	// that is refused 429.
	CallsPerAccount int
	// EventConnsPerAccount bounds an account's /v1/events connections
	// (default DefaultEventConnsPerAccount): an upgrade over it is refused
	// 429 with Retry-After.
	EventConnsPerAccount int
	// ControlPerSecond and ControlBurst are each connection's token bucket
	// for control messages (JSON messages, well-formed or not, and
	// WebSocket pings; audio frames do not count): ControlBurst at once,
	// ControlPerSecond sustained (defaults DefaultControlPerSecond,
	// DefaultControlBurst). A connection over it is closed with 1008; a
	// call leg closed so has hung up. ControlPerSecond NoLimit turns the
	// bucket off (ControlBurst is then ignored; it cannot be NoLimit).
	ControlPerSecond int
	ControlBurst     int
	// AuthFailures failed authentications within AuthWindow from one
	// client address, or for one account name, start a back-off: requests
	// from that address or for that account are refused 429 with
	// Retry-After for AuthBackoff, doubling with each failure after one
	// ends up to AuthBackoffMax, until a quiet AuthWindow after the last
	// back-off has passed. AuthFailures NoLimit turns the back-off off
	// (failures are still logged sampled).
	AuthFailures   int
	AuthWindow     time.Duration
	AuthBackoff    time.Duration
	AuthBackoffMax time.Duration
}

// limitsFile is Limits as JSON spells it (durations as strings).
type limitsFile struct {
	CallsPerAccount      int    `json:"callsPerAccount"`
	EventConnsPerAccount int    `json:"eventConnsPerAccount"`
	ControlPerSecond     int    `json:"controlPerSecond"`
	ControlBurst         int    `json:"controlBurst"`
	AuthFailures         int    `json:"authFailures"`
	AuthWindow           string `json:"authWindow"`
	AuthBackoff          string `json:"authBackoff"`
	AuthBackoffMax       string `json:"authBackoffMax"`
}

// parse converts f, appending an error naming the field for each
// duration that does not parse.
func (f limitsFile) parse(errs []error) (Limits, []error) {
	l := Limits{
		CallsPerAccount:      f.CallsPerAccount,
		EventConnsPerAccount: f.EventConnsPerAccount,
		ControlPerSecond:     f.ControlPerSecond,
		ControlBurst:         f.ControlBurst,
		AuthFailures:         f.AuthFailures,
	}
	for _, d := range []struct {
		name string
		text string
		to   *time.Duration
	}{
		{"authWindow", f.AuthWindow, &l.AuthWindow},
		{"authBackoff", f.AuthBackoff, &l.AuthBackoff},
		{"authBackoffMax", f.AuthBackoffMax, &l.AuthBackoffMax},
	} {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil {
			errs = append(errs, fmt.Errorf("limits.%s: %s is not a duration such as \"1m\"", d.name, wire.Quote(d.text)))
		}
		*d.to = v
	}
	return l, errs
}

// validate reports each bad field of l by name.
func (l Limits) validate() []error {
	var errs []error
	for _, f := range []struct {
		name  string
		value int
		off   bool // may be NoLimit
	}{
		{"callsPerAccount", l.CallsPerAccount, true},
		{"eventConnsPerAccount", l.EventConnsPerAccount, true},
		{"controlPerSecond", l.ControlPerSecond, true},
		{"controlBurst", l.ControlBurst, false},
		{"authFailures", l.AuthFailures, true},
	} {
		switch {
		case f.off && f.value < NoLimit:
			errs = append(errs, fmt.Errorf("limits.%s: %d is negative (0 takes the default, %d turns the limit off)", f.name, f.value, NoLimit))
		case !f.off && f.value < 0:
			errs = append(errs, fmt.Errorf("limits.%s: %d is negative (0 takes the default)", f.name, f.value))
		}
	}
	for _, f := range []struct {
		name  string
		value time.Duration
	}{
		{"authWindow", l.AuthWindow},
		{"authBackoff", l.AuthBackoff},
		{"authBackoffMax", l.AuthBackoffMax},
	} {
		if f.value < 0 || f.value > maxAuthDuration {
			errs = append(errs, fmt.Errorf("limits.%s: %v is outside 0..%v", f.name, f.value, maxAuthDuration))
		}
	}
	d := l.withDefaults()
	if l.AuthBackoff >= 0 && l.AuthBackoffMax >= 0 && d.AuthBackoff > d.AuthBackoffMax {
		errs = append(errs, fmt.Errorf("limits.authBackoff: %v is more than limits.authBackoffMax (%v)", d.AuthBackoff, d.AuthBackoffMax))
	}
	return errs
}

// withDefaults returns l with zero fields set.
func (l Limits) withDefaults() Limits {
	l.CallsPerAccount = cmp.Or(l.CallsPerAccount, DefaultCallsPerAccount)
	l.EventConnsPerAccount = cmp.Or(l.EventConnsPerAccount, DefaultEventConnsPerAccount)
	l.ControlPerSecond = cmp.Or(l.ControlPerSecond, DefaultControlPerSecond)
	l.ControlBurst = cmp.Or(l.ControlBurst, DefaultControlBurst)
	l.AuthFailures = cmp.Or(l.AuthFailures, DefaultAuthFailures)
	l.AuthWindow = cmp.Or(l.AuthWindow, DefaultAuthWindow)
	l.AuthBackoff = cmp.Or(l.AuthBackoff, DefaultAuthBackoff)
	l.AuthBackoffMax = cmp.Or(l.AuthBackoffMax, DefaultAuthBackoffMax)
	return l
}

// Per-account connection caps. The counts live in acctState and belong to
// the registry goroutine, so checking and taking a slot is one step and
// exact however many upgrades race.

// slotKind is which of an account's connection caps a slot counts against.
type slotKind int

const (
	slotCall   slotKind = iota // a /v1/call connection: 2 × CallsPerAccount
	slotEvents                 // a /v1/events connection: EventConnsPerAccount
)

// slots returns the account's count of kind and its cap (≤ 0: none).
func (r *registry) slots(st *acctState, kind slotKind) (n *int, limit int) {
	if kind == slotCall {
		return &st.callConns, 2 * r.limits.CallsPerAccount
	}
	return &st.eventConns, r.limits.EventConnsPerAccount
}

// reserve takes one of acct's slots of kind: false if the account is at
// its cap, errStopped once shutting down.
func (r *registry) reserve(acct *account, kind slotKind) (bool, error) {
	if r.closing {
		return false, errStopped
	}
	n, limit := r.slots(r.stateOf(acct), kind)
	if limit > 0 && *n >= limit {
		return false, nil
	}
	*n++
	return true, nil
}

// release gives back a slot reserve took.
func (r *registry) release(acct *account, kind slotKind) {
	n, _ := r.slots(r.stateOf(acct), kind)
	*n--
}

// atCallLimit reports whether st may not place another call.
func (r *registry) atCallLimit(st *acctState) bool {
	return r.limits.CallsPerAccount > 0 && len(st.calls) >= r.limits.CallsPerAccount
}

// reserveSlot takes one of acct's connection slots of kind before an
// upgrade. It returns the function that gives the slot back (call it once
// the connection is over, or if the upgrade fails), or nil when it has
// answered 429 (the account is at its cap) or 503 (shutting down).
func (s *Server) reserveSlot(w http.ResponseWriter, acct *account, kind slotKind) (release func()) {
	var ok bool
	var err error
	if e := s.reg.do(func() { ok, err = s.reg.reserve(acct, kind) }); e != nil || err != nil {
		writeError(w, http.StatusServiceUnavailable, wire.CodeShuttingDown, "the server is shutting down")
		return nil
	}
	if !ok {
		what := "events connections"
		if kind == slotCall {
			what = "call connections"
		}
		s.log.Debug("account at its connection limit", "account", acct.name, "kind", what)
		refuseTooMany(w, capRetryAfter, "the account is at its limit of "+what)
		return nil
	}
	return func() { _ = s.reg.do(func() { s.reg.release(acct, kind) }) }
}

// refuseTooMany answers 429 too_many_requests with Retry-After: wait in
// whole seconds, rounded up, at least 1.
func refuseTooMany(w http.ResponseWriter, wait time.Duration, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
	writeError(w, http.StatusTooManyRequests, wire.CodeTooManyRequests, msg)
}

func retryAfterSeconds(wait time.Duration) int {
	return max(1, int((wait+time.Second-1)/time.Second))
}

// tokenBucket limits one connection's control messages. It belongs to the
// connection's reader goroutine: no lock, no allocation. The zero value
// (rate 0) allows everything.
type tokenBucket struct {
	rate   float64 // tokens per second; 0: no limit
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(l Limits) tokenBucket {
	if l.ControlPerSecond <= 0 {
		return tokenBucket{}
	}
	b := float64(max(l.ControlBurst, 1))
	return tokenBucket{rate: float64(l.ControlPerSecond), burst: b, tokens: b}
}

// take spends one token at now, refilled at rate since the last take;
// false when none is left.
func (b *tokenBucket) take(now time.Time) bool {
	if b.rate == 0 {
		return true
	}
	if !b.last.IsZero() {
		if d := now.Sub(b.last); d > 0 {
			b.tokens = min(b.burst, b.tokens+d.Seconds()*b.rate)
		}
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// allowControl counts one control message read on the socket l was created
// with (on its reader goroutine). Over the rate the leg that socket carries
// (l, or the leg it resumed) hangs up — the far party gets the normal
// end{reason:"remote"} — and the socket closes with 1008; false then, and
// for anything read after.
func (l *leg) allowControl() bool {
	if l.phase.Load() == legRefused {
		return false
	}
	if l.bucket.take(time.Now()) {
		return true
	}
	if l.phase.Swap(legRefused) == legRefused {
		return false
	}
	target := l
	if l.cs != nil {
		target = l.cs.carried.Load()
	}
	target.log.Info("control message rate exceeded; closing")
	_ = l.reg.do(func() { l.reg.hangup(target) })
	target.conn.Close(wire.ClosePolicy, reasonControlRate)
	return false
}

// allowControl counts one control message of the events connection (on
// its reader goroutine); over the rate it closes with 1008.
func (ec *eventConn) allowControl() bool {
	if ec.limited {
		return false
	}
	if ec.bucket.take(time.Now()) {
		return true
	}
	ec.limited = true
	ec.log.Info("control message rate exceeded; closing")
	ec.conn.Close(wire.ClosePolicy, reasonControlRate)
	return false
}

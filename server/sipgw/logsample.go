package sipgw

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/onecxi/phone/wire"
)

// defaultLogEvery is how often a repeated refusal or parse error is logged:
// its first occurrence at once, then at most one line per defaultLogEvery
// for each source and reason, carrying the count of those left out.
const defaultLogEvery = 10 * time.Second

// maxSampleKeys bounds the (source, reason) pairs a sampler remembers. Past
// it, new sources share one key per reason, so a flood from many (spoofed)
// addresses still logs a handful of lines and takes bounded memory.
const maxSampleKeys = 1024

// manySources is the source of the shared keys past maxSampleKeys.
const manySources = "*"

// sampler decides which of many similar log lines are written. A line is
// keyed by its source (an IP address, not a port, since a flood varies its
// ports) and a reason, which callers take from a fixed set of texts, never
// from what a peer sent.
type sampler struct {
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	keys map[sampleKey]*sampleState
}

type sampleKey struct{ source, reason string }

type sampleState struct {
	until      time.Time // lines before this are counted, not written
	suppressed int
	report     func(suppressed int) // writes the count left out (flush)
}

func newSampler(every time.Duration) *sampler {
	return &sampler{every: every, now: time.Now, keys: make(map[sampleKey]*sampleState)}
}

// sample reports whether a line for source and reason is written now; when
// it is, suppressed counts those left out since the last one written. When
// it is not, report is kept to write the count if the period ends with no
// further line written (see flush).
func (s *sampler) sample(source, reason string, report func(suppressed int)) (write bool, suppressed int) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	k := sampleKey{source, reason}
	st := s.keys[k]
	if st == nil && len(s.keys) >= maxSampleKeys {
		k = sampleKey{manySources, reason}
		st = s.keys[k]
		if st == nil && len(s.keys) >= 2*maxSampleKeys {
			return false, 0 // reasons are a fixed set: this does not happen
		}
	}
	if st == nil {
		s.keys[k] = &sampleState{until: now.Add(s.every)}
		return true, 0
	}
	if now.Before(st.until) {
		st.suppressed++
		st.report = report
		return false, 0
	}
	n := st.suppressed
	st.suppressed, st.report, st.until = 0, nil, now.Add(s.every)
	return true, n
}

// flush writes the counts of lines left out in periods that are over (all
// of them when final) and forgets keys that stayed quiet for a period.
func (s *sampler) flush(final bool) {
	now := s.now()
	var reports []func()
	s.mu.Lock()
	for k, st := range s.keys {
		if !final && now.Before(st.until) {
			continue
		}
		if st.suppressed > 0 && st.report != nil {
			n, report := st.suppressed, st.report
			reports = append(reports, func() { report(n) })
			st.suppressed, st.report, st.until = 0, nil, now.Add(s.every)
			continue
		}
		delete(s.keys, k)
	}
	s.mu.Unlock()
	for _, r := range reports {
		r()
	}
}

// run flushes every period until ctx ends, then once more for good.
func (s *sampler) run(ctx context.Context) {
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.flush(true)
			return
		case <-t.C:
			s.flush(false)
		}
	}
}

// sourceKey is the sampling key of a "host:port" source: its IP, or the
// text itself cut short when it is not an address.
func sourceKey(src string) string {
	if ip, ok := sourceIP(src); ok {
		return ip.String()
	}
	if ap, err := netip.ParseAddr(src); err == nil {
		return ap.Unmap().String()
	}
	return cutText(src, 64)
}

// logSampled writes one line at level through log, sampled by the source's
// IP and reason; attrs follow. A line that ends a run of left-out ones says
// how many ("suppressed"); the count of a run nothing followed is written
// when its period ends, as a line with the same message, source and reason.
func (g *Gateway) logSampled(level slog.Level, msg, source, reason string, attrs ...any) {
	key := sourceKey(source)
	write, n := g.sampler.sample(key, msg+"\x00"+reason, func(n int) {
		g.log.Log(context.Background(), level, msg, "source", source, "reason", reason,
			"suppressed", n, "period", g.sampler.every)
	})
	if !write {
		return
	}
	args := append([]any{"source", source, "reason", reason}, attrs...)
	if n > 0 {
		args = append(args, "suppressed", n, "period", g.sampler.every)
	}
	g.log.Log(context.Background(), level, msg, args...)
}

// cutText is s cut to at most n bytes on a rune boundary, with "…" when cut.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Limits of what a sipgo log line carries.
const (
	maxLogMessage = 96  // its message
	maxLogError   = 160 // an error's text, after wire.QuoteError
	maxLogString  = 64  // any other text; longer ones are wire.Quote'd
)

// sipgoLog is the slog handler sipgo logs through. sipgo puts whole packets
// and messages in some lines (a packet it cannot parse: every byte of it, at
// ERROR); here every line is cut to one short line (a raw packet to a quoted
// prefix, long texts and errors cut) and warnings and errors are sampled by
// message (and source, when the line has one), so a flood writes a handful
// of lines. The gateway screens packets before sipgo parses them (admit.go),
// so sipgo's parse errors should not happen; this is the safety net.
type sipgoLog struct {
	next    slog.Handler
	sampler *sampler
}

func (h *sipgoLog) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *sipgoLog) WithAttrs(as []slog.Attr) slog.Handler {
	short := make([]slog.Attr, len(as))
	for i, a := range as {
		short[i] = shortAttr(a)
	}
	return &sipgoLog{next: h.next.WithAttrs(short), sampler: h.sampler}
}

func (h *sipgoLog) WithGroup(name string) slog.Handler {
	return &sipgoLog{next: h.next.WithGroup(name), sampler: h.sampler}
}

func (h *sipgoLog) Handle(ctx context.Context, r slog.Record) error {
	msg := cutText(r.Message, maxLogMessage)
	var suppressed int
	if r.Level >= slog.LevelWarn {
		// Sampled before anything is cut: a flood costs little.
		source := ""
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "raddr", "source", "src", "addr":
				source = a.Value.String()
				return false
			}
			return true
		})
		level, next := r.Level, h.next
		write, n := h.sampler.sample(sourceKey(source), "sipgo\x00"+msg, func(n int) {
			rec := slog.NewRecord(time.Now(), level, msg, 0)
			rec.AddAttrs(slog.Int("suppressed", n), slog.Duration("period", h.sampler.every))
			_ = next.Handle(context.Background(), rec)
		})
		if !write {
			return nil
		}
		suppressed = n
	}
	out := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(shortAttr(a))
		return true
	})
	if suppressed > 0 {
		out.AddAttrs(slog.Int("suppressed", suppressed), slog.Duration("period", h.sampler.every))
	}
	return h.next.Handle(ctx, out)
}

// shortAttr cuts what an attribute of a sipgo line carries: a raw packet
// ("data") to wire.Quote's prefix, an error to a short text, any other long
// text (a start line, a header, a whole message) to wire.Quote's prefix.
func shortAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		as := v.Group()
		short := make([]any, len(as))
		for i, g := range as {
			short[i] = shortAttr(g)
		}
		return slog.Group(a.Key, short...)
	case slog.KindString:
		s := v.String()
		if a.Key == "data" || len(s) > maxLogString {
			return slog.String(a.Key, wire.Quote(s))
		}
		return slog.String(a.Key, s)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, cutText(wire.QuoteError(x).Error(), maxLogError))
		case []byte:
			return slog.String(a.Key, wire.Quote(string(x)))
		case nil:
			return slog.Attr{Key: a.Key, Value: v}
		default:
			s := fmt.Sprint(x)
			if a.Key == "data" || len(s) > maxLogString {
				s = wire.Quote(s)
			}
			return slog.String(a.Key, s)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

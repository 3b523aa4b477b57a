package wire

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"strconv"
	"strings"
	"unicode/utf8"
)

// QuoteRunes is how many runes of an input [Quote] and [QuotePath] show:
// enough to recognise a value, too few to carry a payload.
const QuoteRunes = 16

// MaxQuoteLen bounds the length in bytes of what [Quote] and [QuotePath]
// return: the quotes, QuoteRunes runes escaped at worst as \U0010ffff (10
// bytes each), "…" and " (<length> bytes)" with a length of up to 20 digits.
const MaxQuoteLen = 2 + 10*QuoteRunes + len("…") + len(" ( bytes)") + 20

// Quote returns s quoted for an error message, a log line or an event text.
// Such text must never carry a whole outside input (a number, a payload
// field, a config value, a flag, a header), which may be megabytes long:
//
//   - s of at most QuoteRunes runes is strconv.Quote(s): "abc";
//   - a longer s is strconv.Quote of its first QuoteRunes runes, then "…"
//     and its length in bytes: "0123456789abcdef"… (1048576 bytes).
//
// The cut never splits a rune; an invalid UTF-8 byte counts as one rune and
// is escaped (\xff) by strconv.Quote. The result is at most [MaxQuoteLen]
// bytes. Secrets (API keys, push tokens) are not quoted at all: use
// [Redact].
func Quote(s string) string {
	n := 0
	for i := 0; i < len(s); n++ {
		if n == QuoteRunes {
			return strconv.Quote(s[:i]) + "… (" + strconv.Itoa(len(s)) + " bytes)"
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return strconv.Quote(s)
}

// QuotePath is Quote for a file path, whose end (the file's name) says more
// than its start: a path of more than QuoteRunes runes is cut to its last
// QuoteRunes runes, with "…" before the quote and its length after:
// …"441/002/bad.json" (59 bytes). The cut never splits a rune.
func QuotePath(p string) string {
	n := 0
	for i := len(p); i > 0; n++ {
		if n == QuoteRunes {
			return "…" + strconv.Quote(p[i:]) + " (" + strconv.Itoa(len(p)) + " bytes)"
		}
		_, size := utf8.DecodeLastRuneInString(p[:i])
		i -= size
	}
	return strconv.Quote(p)
}

// QuoteError returns err with what its text repeats of an input cut as
// [Quote] cuts it. It is for errors of other packages, which repeat their
// whole input:
//
//   - every quoted string in the text longer than QuoteRunes runes: "…" as
//     %q and strconv.Quote write it (encoding/json's unknown field, strconv,
//     time.ParseDuration, net/url, flag's invalid value), `…` as regexp does;
//   - the unquoted echoes of encoding/json (a number: "cannot unmarshal
//     number 1234…"), io/fs (a path, cut by [QuotePath]), net (an address,
//     a host name) and flag (an undefined flag's name, a bad flag's text),
//     each the first time it appears.
//
// The result's Unwrap is err, so errors.Is and errors.As still find err and
// all it wraps. An err (or nil) with nothing to cut is returned as it is.
func QuoteError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	short := quoteQuoted(msg)
	type echo struct {
		s     string
		quote func(string) string
	}
	var echoes []echo
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if num, ok := strings.CutPrefix(te.Value, "number "); ok {
			echoes = append(echoes, echo{num, Quote})
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		echoes = append(echoes, echo{pe.Path, QuotePath})
	}
	var ae *net.AddrError
	if errors.As(err, &ae) {
		echoes = append(echoes, echo{ae.Addr, Quote})
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		echoes = append(echoes, echo{de.Name, Quote})
	}
	for _, p := range []string{"flag provided but not defined: -", "bad flag syntax: "} {
		if rest, ok := strings.CutPrefix(msg, p); ok {
			echoes = append(echoes, echo{rest, Quote})
		}
	}
	for _, e := range echoes {
		if utf8.RuneCountInString(e.s) > QuoteRunes {
			short = strings.Replace(short, e.s, e.quote(e.s), 1)
		}
	}
	if short == msg {
		return err
	}
	return &quotedError{msg: short, err: err}
}

// quotedError is QuoteError's result: a shorter text for err.
type quotedError struct {
	msg string
	err error
}

func (e *quotedError) Error() string { return e.msg }
func (e *quotedError) Unwrap() error { return e.err }

// quoteQuoted replaces each quoted string in msg of more than QuoteRunes
// runes by its Quote. It reads msg once: a quote that is not closed ends
// the search.
func quoteQuoted(msg string) string {
	var b strings.Builder
	done := 0 // msg[:done] is in b
	for i := 0; i < len(msg); {
		j := strings.IndexAny(msg[i:], "\"`")
		if j < 0 {
			break
		}
		i += j
		end := closingQuote(msg[i:])
		if end < 0 {
			break
		}
		q := msg[i : i+end+1]
		if s, err := strconv.Unquote(q); err == nil && utf8.RuneCountInString(s) > QuoteRunes {
			b.WriteString(msg[done:i])
			b.WriteString(Quote(s))
			done = i + len(q)
		}
		i += len(q)
	}
	if done == 0 {
		return msg
	}
	b.WriteString(msg[done:])
	return b.String()
}

// closingQuote returns the index of the quote that closes the one s starts
// with: the next backquote after a backquote; after a double quote the next
// one not escaped on the same line. -1 when there is none.
func closingQuote(s string) int {
	if s[0] == '`' {
		if k := strings.IndexByte(s[1:], '`'); k >= 0 {
			return k + 1
		}
		return -1
	}
	for k := 1; k < len(s); k++ {
		switch s[k] {
		case '\\':
			k++
		case '"':
			return k
		case '\n':
			return -1
		}
	}
	return -1
}

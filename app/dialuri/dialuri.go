package dialuri

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/onecxi/phone/wire"
)

// maxLink bounds the link read at all: anything longer is not a phone link.
const maxLink = 2048

// Errors, each wrapped with the detail; test with errors.Is.
var (
	// ErrNotALink: empty, too long, or not scheme:rest.
	ErrNotALink = errors.New("not a dial link")
	// ErrScheme: a scheme other than tel, callto, sip or sips.
	ErrScheme = errors.New("not a tel:, callto: or sip: link")
	// ErrNotANumber: the link names something that is not a phone number
	// (a SIP user name, letters, a second "+", …).
	ErrNotANumber = errors.New("the link does not hold a phone number")
	// ErrTooLong: more digits than a number may have.
	ErrTooLong = errors.New("the number is too long")
)

// Target is what a link asks to call.
type Target struct {
	Scheme    string // "tel", "callto", "sip" or "sips"
	Number    string // digits with an optional leading "+", wire.ValidNumber
	Extension string // digits (and * #) to send as DTMF once answered, if any
}

// Parse reads a click-to-call link.
func Parse(link string) (Target, error) {
	link = strings.TrimSpace(link)
	if link == "" || len(link) > maxLink {
		return Target{}, fmt.Errorf("%w: %s", ErrNotALink, wire.Quote(link))
	}
	if i := strings.IndexFunc(link, func(r rune) bool { return r < 0x20 || r == 0x7f }); i >= 0 {
		return Target{}, fmt.Errorf("%w: a control character in %s", ErrNotALink, wire.Quote(link))
	}
	scheme, rest, ok := strings.Cut(link, ":")
	if !ok || scheme == "" {
		return Target{}, fmt.Errorf("%w: %s", ErrNotALink, wire.Quote(link))
	}
	scheme = strings.ToLower(scheme)
	var (
		t   Target
		err error
	)
	switch scheme {
	case "tel":
		t, err = parseTel(rest)
	case "callto":
		t, err = parseCallto(rest)
	case "sip", "sips":
		t, err = parseSIP(rest)
	default:
		return Target{}, fmt.Errorf("%w: %s", ErrScheme, wire.Quote(scheme))
	}
	if err != nil {
		return Target{}, fmt.Errorf("%s link %s: %w", scheme, wire.Quote(link), err)
	}
	t.Scheme = scheme
	return t, nil
}

// parseTel reads RFC 3966's telephone-subscriber: number, then ;params.
func parseTel(rest string) (Target, error) {
	rest = strings.TrimPrefix(rest, "//") // tel://… is common in the wild
	rest, err := unescape(rest)
	if err != nil {
		return Target{}, err
	}
	number, params, _ := strings.Cut(rest, ";")
	var t Target
	var context string
	for p := range strings.SplitSeq(params, ";") {
		name, value, _ := strings.Cut(p, "=")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "":
		case "ext":
			ext, err := digits(value, false)
			if err != nil || ext == "" {
				return Target{}, fmt.Errorf("%w: extension %s", ErrNotANumber, wire.Quote(value))
			}
			t.Extension = ext
		case "phone-context":
			context = strings.TrimSpace(value)
		}
		// isub, postd and other parameters change nothing we dial.
	}
	n, err := digits(number, true)
	if err != nil {
		return Target{}, err
	}
	if !strings.HasPrefix(n, "+") && strings.HasPrefix(context, "+") {
		// A local number in a global-number context: the context is its
		// prefix (RFC 3966 5.1.5). A domain context leaves it as dialled.
		prefix, err := digits(context, true)
		if err != nil {
			return Target{}, fmt.Errorf("phone-context: %w", err)
		}
		n = prefix + n
	}
	return t.with(n)
}

// parseCallto reads callto:, which Skype and many CRMs emit as
// callto:+1 555 0100, callto://+15550100 or callto:+15550100?call.
func parseCallto(rest string) (Target, error) {
	rest = strings.TrimPrefix(rest, "//")
	rest, _, _ = strings.Cut(rest, "?")
	rest, err := unescape(rest)
	if err != nil {
		return Target{}, err
	}
	rest = strings.TrimSuffix(rest, "/")
	n, err := digits(rest, true)
	if err != nil {
		return Target{}, err
	}
	return Target{}.with(n)
}

// parseSIP reads a SIP URI whose user part is a phone number
// (sip:+14155550100@carrier.example;user=phone).
func parseSIP(rest string) (Target, error) {
	rest, _, _ = strings.Cut(rest, "?") // headers
	user, _, hasHost := strings.Cut(rest, "@")
	if !hasHost {
		// sip:host alone names no user to call.
		return Target{}, fmt.Errorf("%w: no user part", ErrNotANumber)
	}
	user, _, _ = strings.Cut(user, ":") // a password, never used
	user, _, _ = strings.Cut(user, ";") // user parameters
	user, err := unescape(user)
	if err != nil {
		return Target{}, err
	}
	n, err := digits(user, true)
	if err != nil {
		return Target{}, err
	}
	return Target{}.with(n)
}

func (t Target) with(n string) (Target, error) {
	if len(strings.TrimPrefix(n, "+")) == 0 {
		return Target{}, fmt.Errorf("%w: no digits", ErrNotANumber)
	}
	if len(n) > wire.MaxNumberLen {
		return Target{}, fmt.Errorf("%w: %d characters, at most %d", ErrTooLong, len(n), wire.MaxNumberLen)
	}
	if !wire.ValidNumber(n) {
		return Target{}, fmt.Errorf("%w: %s", ErrNotANumber, wire.Quote(n))
	}
	t.Number = n
	return t, nil
}

// unescape decodes %XX escapes (a "+" may arrive as %2B); a broken escape
// is refused.
func unescape(s string) (string, error) {
	u, err := url.PathUnescape(s)
	if err != nil {
		return "", fmt.Errorf("%w: a broken %%-escape", ErrNotALink)
	}
	return u, nil
}

// digits keeps the digits of s and a leading "+" (when plus is allowed),
// dropping visual separators; anything else is refused. For an extension
// (plus false) "*" and "#" are kept too.
func digits(s string, plus bool) (string, error) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && plus && b.Len() == 0:
			b.WriteRune(r)
		case (r == '*' || r == '#') && !plus:
			b.WriteRune(r)
		case separator(r):
		case r == '+':
			return "", fmt.Errorf("%w: a \"+\" inside the number", ErrNotANumber)
		default:
			return "", fmt.Errorf("%w: %s is not a digit", ErrNotANumber, wire.Quote(string(r)))
		}
		if b.Len() > 2*wire.MaxNumberLen {
			return "", fmt.Errorf("%w: more than %d digits", ErrTooLong, wire.MaxNumberLen)
		}
	}
	return b.String(), nil
}

// separator reports RFC 3966's visual separators and the look-alikes word
// processors and CRMs put in numbers: spaces (also no-break and thin ones),
// hyphens and dashes, dots and brackets.
func separator(r rune) bool {
	switch r {
	case ' ', '-', '.', '(', ')', '\t',
		'\u00a0', '\u2009', '\u202f', // no-break, thin, narrow no-break space
		'\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212', // hyphens, dashes, minus
		'\u00b7', '/': // middle dot, slash (1-800/555-0100)
		return true
	}
	return false
}

package wire

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuote(t *testing.T) {
	digits16 := "0123456789abcdef"
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"short", "abc", `"abc"`},
		{"escapes", "a\"b\\c\n", `"a\"b\\c\n"`},
		{"exactly QuoteRunes", digits16, `"0123456789abcdef"`},
		{"one more", digits16 + "g", `"0123456789abcdef"… (17 bytes)`},
		{"1 MiB", digits16 + strings.Repeat("9", 1<<20-16), `"0123456789abcdef"… (1048576 bytes)`},
		{"multibyte exactly", strings.Repeat("é", 16), `"` + strings.Repeat("é", 16) + `"`},
		{"multibyte cut", strings.Repeat("é", 20), `"` + strings.Repeat("é", 16) + `"… (40 bytes)`},
		{"4-byte rune at the cut", strings.Repeat("a", 15) + "😀😀", `"aaaaaaaaaaaaaaa😀"… (23 bytes)`},
		{"invalid UTF-8", "\xff\xfe", `"\xff\xfe"`},
		{"invalid UTF-8 cut", strings.Repeat("\xff", 17), `"` + strings.Repeat(`\xff`, 16) + `"… (17 bytes)`},
		{"truncated rune at the end", strings.Repeat("a", 15) + "\xe2\x82", `"aaaaaaaaaaaaaaa\xe2"… (17 bytes)`},
		{"non-printable", "\x00\u200b", `"\x00\u200b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Quote(tt.in)
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, len(got), MaxQuoteLen)
			assert.True(t, utf8.ValidString(got), "the quote is valid UTF-8")
		})
	}
}

// The worst case of escaping stays within MaxQuoteLen.
func TestQuoteWorstCase(t *testing.T) {
	worst := strings.Repeat("\U0010ffff", 1<<16) // escaped as \U0010ffff
	got := Quote(worst)
	assert.LessOrEqual(t, len(got), MaxQuoteLen)
	assert.Greater(t, len(got), MaxQuoteLen-30, "MaxQuoteLen is close to the real bound")
}

func TestQuotePath(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", `""`},
		{"short", "c.pem", `"c.pem"`},
		{"exactly QuoteRunes", "/etc/onecxi.json", `"/etc/onecxi.json"`},
		{"long keeps the end", "/tmp/TestLoadConfig/002/bad.json", `…"fig/002/bad.json" (32 bytes)`},
		{"multibyte at the cut", "/x/" + strings.Repeat("é", 20), `…"` + strings.Repeat("é", 16) + `" (43 bytes)`},
		{"invalid UTF-8", "/a/\xff" + strings.Repeat("b", 16), `…"` + strings.Repeat("b", 16) + `" (20 bytes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := QuotePath(tt.in)
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, len(got), MaxQuoteLen)
		})
	}
}

func TestQuoteError(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	longDigits := strings.Repeat("7", 1<<20)
	_, atoiErr := strconv.Atoi(long)
	_, durErr := time.ParseDuration(long)
	_, urlErr := url.Parse("http://h/" + long + "%zz")
	_, _, hostErr := net.SplitHostPort(long)
	_, reErr := regexp.Compile("(" + long)
	_, pathErr := os.Open("/nonexistent/" + long + "/config.json")
	var unknownField struct{}
	dec := json.NewDecoder(strings.NewReader(`{"` + long + `":1}`))
	dec.DisallowUnknownFields()
	jsonFieldErr := dec.Decode(&unknownField)
	var n struct{ N int8 }
	jsonNumErr := json.Unmarshal([]byte(`{"N":`+longDigits+`}`), &n)
	flags := flag.NewFlagSet("x", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	flags.Duration("d", 0, "")
	flagValueErr := flags.Parse([]string{"-d", long})
	flagNameErr := flags.Parse([]string{"-" + long})
	flagSyntaxErr := flags.Parse([]string{"---" + long})

	tests := []struct {
		name string
		err  error
		keep string // what the short text still says
	}{
		{"strconv", atoiErr, "invalid syntax"},
		{"time.ParseDuration", durErr, "invalid duration"},
		{"url.Parse", urlErr, "invalid URL escape"},
		{"net.SplitHostPort", hostErr, "missing port"},
		{"regexp", reErr, "missing closing )"},
		{"os.Open", pathErr, `/config.json" (`},
		{"json unknown field", jsonFieldErr, "unknown field"},
		{"json number", jsonNumErr, "cannot unmarshal number"},
		{"flag value", flagValueErr, "for flag -d"},
		{"flag name", flagNameErr, "not defined"},
		{"flag syntax", flagSyntaxErr, "bad flag syntax"},
		{"wrapped", fmt.Errorf("reading: %w", atoiErr), "reading: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Error(t, tt.err)
			require.Greater(t, len(tt.err.Error()), 1<<20, "the original repeats the input")
			got := QuoteError(tt.err)
			msg := got.Error()
			assert.Less(t, len(msg), 300, "%s", Quote(msg))
			assert.Contains(t, msg, tt.keep)
			assert.True(t, errors.Is(got, tt.err), "the original is still in the chain")
		})
	}

	var ne *strconv.NumError
	assert.ErrorAs(t, QuoteError(atoiErr), &ne, "errors.As finds the original's type")
	var pe *fs.PathError
	assert.True(t, errors.As(QuoteError(pathErr), &pe), "errors.As finds the *fs.PathError")
	var te *json.UnmarshalTypeError
	assert.ErrorAs(t, QuoteError(jsonNumErr), &te)

	short := errors.New(`strconv.Atoi: parsing "12x": invalid syntax`)
	assert.Same(t, short, QuoteError(short), "nothing to cut: the same error")
	assert.NoError(t, QuoteError(nil))
	assert.Equal(t, `a "0123456789abcdef"… (20 bytes) b "c" d`,
		QuoteError(errors.New(`a "0123456789abcdefghij" b "c" d`)).Error())
	assert.Equal(t, "a `0123` b", QuoteError(errors.New("a `0123` b")).Error())
	assert.Equal(t, `x "unclosed `+long, QuoteError(errors.New(`x "unclosed `+long)).Error(),
		"an unclosed quote is left alone")
}

// A decoder's error quotes a bad value short, even within the 4 KiB a
// message may have.
func TestDecodeErrorsQuoteShort(t *testing.T) {
	long := strings.Repeat("5", 3500)
	tests := []struct{ name, json, keep string }{
		{"bad number", `{"type":"start","kind":"inbound","to":"` + long + `x","registeredNumber":"1"}`, "to "},
		{"unknown type", `{"type":"` + long + `"}`, "unknown type"},
		{"unknown kind", `{"type":"start","kind":"` + long + `","to":"1","registeredNumber":"1"}`, "call kind"},
		{"bad digit", `{"type":"dtmf","digit":"` + long + `"}`, "dtmf"},
		{"unknown field", `{"type":"ping","` + long + `":1}`, "unknown field"},
		{"number field", `{"type":"ping","ref":` + long + `}`, "cannot unmarshal number"},
		{"push callType", `{"type":"incoming","push":{"callFrom":"1","callTo":"2","registeredNumber":"2","callType":"` + long + `"}}`, "callType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.json))
			require.ErrorIs(t, err, ErrMalformed)
			assert.Less(t, len(err.Error()), 200, "%s", Quote(err.Error()))
			assert.Contains(t, err.Error(), tt.keep)
		})
	}
	_, err := ParseDeviceRegistration([]byte(`{"deviceId":"d1","registeredNumber":"1","platform":"` + long + `"}`))
	require.ErrorIs(t, err, ErrMalformed)
	assert.Less(t, len(err.Error()), 200)
	assert.Contains(t, err.Error(), "platform")
	_, err = ParseDeviceRegistration([]byte(`{"` + long + `":1}`))
	require.ErrorIs(t, err, ErrMalformed)
	assert.Less(t, len(err.Error()), 200)
}

// FuzzQuote checks Quote, QuotePath and QuoteError on any text: the quotes
// are bounded and are Go string literals of a prefix (a suffix) of the
// input; QuoteError leaves no long quoted string behind.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "abc", "0123456789abcdefg", strings.Repeat("é", 20), "\xff\xfe", "\U0010ffff", "a\"\\",
		`x "0123456789abcdefghij" y`, "`0123456789abcdefghij`", `"\q" "\"`, "flag provided but not defined: -0123456789abcdefghij"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Quote(s)
		require.LessOrEqual(t, len(got), MaxQuoteLen, "the quote is bounded")
		require.True(t, utf8.ValidString(got), "the quote is valid UTF-8")
		quoted, rest, cut := strings.Cut(got, "…")
		prefix, err := strconv.Unquote(quoted)
		require.NoError(t, err, "the quote is a Go string literal: %s", got)
		require.True(t, strings.HasPrefix(s, prefix), "the quote is a prefix of the input")
		if !cut {
			require.Equal(t, s, prefix, "a short input is quoted whole")
			require.LessOrEqual(t, utf8.RuneCountInString(s), QuoteRunes)
		} else {
			require.Equal(t, QuoteRunes, utf8.RuneCountInString(prefix), "a cut input shows QuoteRunes runes")
			require.Equal(t, " ("+strconv.Itoa(len(s))+" bytes)", rest)
		}

		got = QuotePath(s)
		require.LessOrEqual(t, len(got), MaxQuoteLen, "the path's quote is bounded")
		if tail, ok := strings.CutPrefix(got, "…"); ok {
			quoted = tail[:strings.LastIndex(tail, " (")]
			suffix, err := strconv.Unquote(quoted)
			require.NoError(t, err, "the quote is a Go string literal: %s", got)
			require.True(t, strings.HasSuffix(s, suffix), "the quote is a suffix of the input")
		} else {
			require.Equal(t, strconv.Quote(s), got)
		}

		short := quoteQuoted(s)
		require.Equal(t, short, quoteQuoted(short), "no long quoted string is left")
		require.NotEmpty(t, QuoteError(errors.New("e"+s)).Error())
	})
}

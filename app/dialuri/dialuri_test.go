package dialuri

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/wire"
)

func TestParse(t *testing.T) {
	tests := []struct {
		link   string
		number string
		ext    string
	}{
		{"tel:+1-415-555-0100", "+14155550100", ""},
		{"TEL:+1 (415) 555.0100", "+14155550100", ""},
		{"tel://+14155550100", "+14155550100", ""},
		{"tel:%2B14155550100", "+14155550100", ""},
		{"tel:555-0100;phone-context=+1-212", "+12125550100", ""},
		{"tel:5550100;phone-context=example.com", "5550100", ""},
		{"tel:+1-415-555-0100;ext=123", "+14155550100", "123"},
		{"tel:+44 20 7946 0958;isub=1411", "+442079460958", ""},
		{"tel:(+44) 20 7946 0958", "+442079460958", ""},
		{"tel:+49\u00a030\u202f1234\u20135678", "+493012345678", ""},
		{"tel:1-800/555-0100", "18005550100", ""},
		{"  tel:90000  ", "90000", ""},
		{"callto:+1 415 555 0100", "+14155550100", ""},
		{"callto://+14155550100/", "+14155550100", ""},
		{"callto:+14155550100?call", "+14155550100", ""},
		{"sip:+14155550100@carrier.example;user=phone", "+14155550100", ""},
		{"sips:1002@pbx.example", "1002", ""},
		{"sip:%2B14155550100:secret@carrier.example?Subject=hi", "+14155550100", ""},
	}
	for _, tt := range tests {
		t.Run(tt.link, func(t *testing.T) {
			got, err := Parse(tt.link)
			require.NoError(t, err)
			assert.Equal(t, tt.number, got.Number)
			assert.Equal(t, tt.ext, got.Extension)
			assert.True(t, wire.ValidNumber(got.Number))
		})
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		link string
		want error
	}{
		{"", ErrNotALink},
		{"14155550100", ErrNotALink},
		{":+1", ErrNotALink},
		{strings.Repeat("tel:1", 1000), ErrNotALink},
		{"http://example.com/+1415", ErrScheme},
		{"javascript:alert(1)", ErrScheme},
		{"tel:", ErrNotANumber},
		{"tel:+", ErrNotANumber},
		{"tel:1-800-FLOWERS", ErrNotANumber},
		{"tel:+1+415", ErrNotANumber},
		{"tel:12\x0034", ErrNotALink},
		{"tel:12%0034", ErrNotANumber},
		{"tel:١٢٣", ErrNotANumber},
		{"tel:%zz", ErrNotALink},
		{"tel:555;phone-context=+1x", ErrNotANumber},
		{"tel:+1;ext=abc", ErrNotANumber},
		{"tel:" + strings.Repeat("1", 40), ErrTooLong},
		{"tel:" + strings.Repeat("1", 500), ErrTooLong},
		{"callto:skype.user", ErrNotANumber},
		{"sip:alice@example.com", ErrNotANumber},
		{"sip:example.com", ErrNotANumber},
		{"tel:+1 415 555 0100\n;ext=1", ErrNotALink},
	}
	for _, tt := range tests {
		t.Run(tt.link, func(t *testing.T) {
			_, err := Parse(tt.link)
			require.ErrorIs(t, err, tt.want)
			assert.Less(t, len(err.Error()), 300, "the error quotes a short prefix only")
		})
	}
}

// FuzzParse: any input either parses to a number the protocol accepts or
// is refused with one of the package's errors and a short message; never a
// panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"tel:+1-415-555-0100;ext=12", "callto://+1 415", "sip:+1@h;user=phone",
		"tel:555;phone-context=+1-212", "tel:%2B1", "sip:a@b", "tel:+1+2", "x:y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, link string) {
		got, err := Parse(link)
		if err != nil {
			if !errorsIsAny(err) {
				t.Fatalf("untyped error %v", err)
			}
			if len(err.Error()) > 400 || !utf8.ValidString(err.Error()) {
				t.Fatalf("error too long or not UTF-8: %.80q", err.Error())
			}
			return
		}
		if !wire.ValidNumber(got.Number) {
			t.Fatalf("%q gave an invalid number %q", link, got.Number)
		}
		if strings.Trim(got.Extension, "0123456789*#") != "" {
			t.Fatalf("%q gave a bad extension %q", link, got.Extension)
		}
	})
}

func errorsIsAny(err error) bool {
	for _, e := range []error{ErrNotALink, ErrScheme, ErrNotANumber, ErrTooLong} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

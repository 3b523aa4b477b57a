package app

import (
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/app/dialuri"
)

// The packages register the same link schemes on Linux (the desktop
// entry's MimeType) and macOS (the bundle's CFBundleURLTypes), under the
// app's ID, and the phone reads a number from a link of each.
func TestPackagesRegisterTheLinkSchemes(t *testing.T) {
	desktop, err := os.ReadFile("../packaging/linux/onecxi-phone.desktop.in")
	require.NoError(t, err)
	var linux []string
	for _, m := range regexp.MustCompile(`x-scheme-handler/([a-z]+)`).FindAllStringSubmatch(string(desktop), -1) {
		linux = append(linux, m[1])
	}

	f, err := os.Open("../packaging/macos/url-types.plist")
	require.NoError(t, err)
	defer f.Close()
	root, err := decodePlist(xml.NewDecoder(f))
	require.NoError(t, err)
	types := root.(map[string]any)["CFBundleURLTypes"].([]any)
	require.Len(t, types, 1)
	urlType := types[0].(map[string]any)
	assert.Equal(t, AppID, urlType["CFBundleURLName"])
	var mac []string
	for _, s := range urlType["CFBundleURLSchemes"].([]any) {
		mac = append(mac, s.(string))
	}

	assert.Equal(t, []string{"tel", "callto", "sip", "sips"}, linux)
	assert.Equal(t, linux, mac)
	examples := map[string]string{
		"tel":    "tel:+14155550100",
		"callto": "callto:+14155550100",
		"sip":    "sip:+14155550100@pbx.example",
		"sips":   "sips:+14155550100@pbx.example",
	}
	for _, scheme := range mac {
		link, ok := examples[scheme]
		require.True(t, ok, "no example link for scheme %q", scheme)
		target, err := dialuri.Parse(link)
		require.NoError(t, err, link)
		assert.Equal(t, "+14155550100", target.Number, link)
	}
}

// errEndOfList is decodePlist meeting the end of the array or dict it was
// reading the items of.
var errEndOfList = errors.New("end of list")

// decodePlist reads the next XML property-list value: dict, array, string,
// true or false (what the packaging files hold).
func decodePlist(d *xml.Decoder) (any, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		if _, end := tok.(xml.EndElement); end {
			return nil, errEndOfList
		}
		start, ok := tok.(xml.StartElement)
		if !ok || start.Name.Local == "plist" {
			continue // text, comments, the declaration; plist holds the value
		}
		switch start.Name.Local {
		case "string", "key":
			var s string
			err := d.DecodeElement(&s, &start)
			return s, err
		case "true", "false":
			return start.Name.Local == "true", d.Skip()
		case "array", "dict":
			var items []any
			for {
				v, err := decodePlist(d)
				if errors.Is(err, errEndOfList) {
					break
				}
				if err != nil {
					return nil, err
				}
				items = append(items, v)
			}
			if start.Name.Local == "array" {
				return items, nil
			}
			m := make(map[string]any, len(items)/2)
			for i := 0; i+1 < len(items); i += 2 {
				m[items[i].(string)] = items[i+1]
			}
			return m, nil
		}
		return nil, fmt.Errorf("plist: unexpected <%s>", start.Name.Local)
	}
}

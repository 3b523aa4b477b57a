package wire

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCredentialsRoundTrip(t *testing.T) {
	h := http.Header{}
	SetCredentials(h, "acme", "ocx_secret")
	acc, key, ok := Credentials(h)
	assert.True(t, ok)
	assert.Equal(t, "acme", acc)
	assert.Equal(t, "ocx_secret", key)

	tests := []struct {
		name string
		h    http.Header
	}{
		{"none", http.Header{}},
		{"no account", http.Header{HeaderAuth: {"Bearer k"}}},
		{"basic auth", http.Header{HeaderAccount: {"a"}, HeaderAuth: {"Basic k"}}},
		{"empty bearer", http.Header{HeaderAccount: {"a"}, HeaderAuth: {"Bearer "}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, ok := Credentials(tt.h)
			assert.False(t, ok)
		})
	}
}

func TestRedactNeverShowsTheSecret(t *testing.T) {
	assert.Equal(t, "****", Redact("short"))
	assert.Equal(t, "****wxyz", Redact("ocx_abcdefghijklmnopqrstuvwxyz"))
	assert.NotContains(t, Redact("ocx_abcdefghijklmnop"), "abcdefgh")
}

func TestDeclinePathEscapes(t *testing.T) {
	assert.Equal(t, "/v1/calls/c_1/decline", DeclinePath("c_1"))
	assert.Equal(t, "/v1/calls/a%2Fb/decline", DeclinePath("a/b"))
}

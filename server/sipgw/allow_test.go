package sipgw

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAllowList(t *testing.T) {
	a, err := buildAllowList(context.Background(), net.DefaultResolver, []Trunk{
		{Name: "ip", Host: "192.0.2.1"},
		{Name: "listed", Host: "ignored.invalid", Allow: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}},
		{Name: "name", Host: "localhost"},
	})
	require.NoError(t, err)
	tests := []struct {
		ip   string
		want bool
	}{
		{"192.0.2.1", true}, {"192.0.2.2", false}, {"198.51.100.200", true}, {"127.0.0.1", true},
		{"::ffff:192.0.2.1", true}, {"203.0.113.1", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, a.allows(netip.MustParseAddr(tt.ip)), tt.ip)
	}
	_, err = buildAllowList(context.Background(), net.DefaultResolver, []Trunk{{Name: "x", Host: "no-such-host.invalid"}})
	assert.Error(t, err)
}

func TestSourceIP(t *testing.T) {
	ip, ok := sourceIP("127.0.0.1:5060")
	assert.True(t, ok)
	assert.Equal(t, netip.MustParseAddr("127.0.0.1"), ip)
	_, ok = sourceIP("nonsense")
	assert.False(t, ok)
}

package platform

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ipNet(s string) net.Addr {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	n.IP = ip
	return n
}

func TestUsableAddrs(t *testing.T) {
	up, down := net.FlagUp|net.FlagBroadcast, net.FlagBroadcast
	loopback := net.FlagUp | net.FlagLoopback
	for _, tc := range []struct {
		name string
		ifs  []ifaceAddrs
		want []string
	}{
		{"no interfaces", nil, nil},
		{"loopback only", []ifaceAddrs{{loopback, []net.Addr{ipNet("127.0.0.1/8"), ipNet("::1/128")}}}, nil},
		{"an interface that is down", []ifaceAddrs{{down, []net.Addr{ipNet("192.168.1.20/24")}}}, nil},
		{"link up, no network yet (link-local only)",
			[]ifaceAddrs{{up, []net.Addr{ipNet("fe80::1c2b:3aff:fe4d:5e6f/64"), ipNet("169.254.10.2/16")}}}, nil},
		{"Wi-Fi with IPv4 and IPv6",
			[]ifaceAddrs{
				{loopback, []net.Addr{ipNet("127.0.0.1/8")}},
				{up, []net.Addr{ipNet("fe80::1/64"), ipNet("192.168.1.20/24"), ipNet("2001:db8::20/64")}},
			}, []string{"192.168.1.20", "2001:db8::20"}},
		{"sorted over interfaces, each once",
			[]ifaceAddrs{
				{up, []net.Addr{ipNet("10.8.0.2/24")}},
				{up, []net.Addr{&net.IPAddr{IP: net.ParseIP("10.0.0.5")}, ipNet("10.8.0.2/24")}},
			}, []string{"10.0.0.5", "10.8.0.2"}},
		{"an address of another kind is skipped",
			[]ifaceAddrs{{up, []net.Addr{&net.UnixAddr{Name: "/tmp/x", Net: "unix"}, ipNet("10.0.0.5/8")}}},
			[]string{"10.0.0.5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, usableAddrs(tc.ifs))
		})
	}
}

func TestAddrSetsDiffer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		a, b   []string
		differ bool
	}{
		{"none, none", nil, nil, false},
		{"none, empty", nil, []string{}, false},
		{"none to some: the network is back", nil, []string{"192.168.1.20"}, true},
		{"some to none: the network is gone", []string{"192.168.1.20"}, nil, true},
		{"same", []string{"10.0.0.5", "192.168.1.20"}, []string{"10.0.0.5", "192.168.1.20"}, false},
		{"same, other order", []string{"192.168.1.20", "10.0.0.5"}, []string{"10.0.0.5", "192.168.1.20"}, false},
		{"same, repeated", []string{"10.0.0.5", "10.0.0.5"}, []string{"10.0.0.5"}, false},
		{"another network (new DHCP lease)", []string{"192.168.1.20"}, []string{"192.168.7.31"}, true},
		{"a VPN came up", []string{"192.168.1.20"}, []string{"10.8.0.2", "192.168.1.20"}, true},
		{"the VPN went down", []string{"10.8.0.2", "192.168.1.20"}, []string{"192.168.1.20"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.differ, addrSetsDiffer(tc.a, tc.b))
			assert.Equal(t, tc.differ, addrSetsDiffer(tc.b, tc.a), "symmetric")
		})
	}
}

// addrSource is a scripted address listing: each call returns the next
// entry, then the last one for ever.
type addrSource struct {
	mu    sync.Mutex
	steps []addrStep
	calls int
}

type addrStep struct {
	addrs []string
	err   error
}

func (s *addrSource) list() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.steps[min(s.calls, len(s.steps)-1)]
	s.calls++
	return st.addrs, st.err
}

func (s *addrSource) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func TestWatchAddrs(t *testing.T) {
	wifi, vpn := []string{"192.168.1.20"}, []string{"10.8.0.2", "192.168.1.20"}
	src := &addrSource{steps: []addrStep{
		{addrs: nil},                      // start: offline
		{addrs: nil},                      // no change
		{addrs: wifi},                     // none to some: 1
		{err: errors.New("netlink busy")}, // skipped, not taken for "none"
		{addrs: []string{"192.168.1.20"}}, // same set: no change
		{addrs: vpn},                      // 2
		{addrs: []string{"192.168.1.20"}}, // 3
		{addrs: []string{"192.168.1.20"}}, // stays
	}}
	var changes atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- watchAddrs(ctx, time.Millisecond, src.list, func() { changes.Add(1) }, slog.New(slog.DiscardHandler))
	}()
	require.Eventually(t, func() bool { return src.callCount() > len(src.steps)+2 }, 5*time.Second, time.Millisecond,
		"the watcher went through every step")
	assert.Equal(t, int32(3), changes.Load())
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err, "ends quietly with its context")
	case <-time.After(5 * time.Second):
		t.Fatal("WatchNetwork did not return when its context ended")
	}
}

func TestWatchAddrsFailsWhenItCannotList(t *testing.T) {
	src := &addrSource{steps: []addrStep{{err: errors.New("no netlink")}}}
	err := watchAddrs(context.Background(), time.Millisecond, src.list, func() { t.Error("changed called") },
		slog.New(slog.DiscardHandler))
	assert.ErrorContains(t, err, "no netlink")
}

func TestHeadlessSimulatesNetworkChanges(t *testing.T) {
	h := NewHeadless()
	h.SimulateNetworkChange() // nobody watching: nothing happens
	var a, b atomic.Int32
	ctxA, cancelA := context.WithCancel(context.Background())
	ctxB, cancelB := context.WithCancel(context.Background())
	defer cancelB()
	var wg sync.WaitGroup
	wg.Go(func() { assert.NoError(t, h.WatchNetwork(ctxA, func() { a.Add(1) })) })
	wg.Go(func() { assert.NoError(t, h.WatchNetwork(ctxB, func() { b.Add(1) })) })
	require.Eventually(t, func() bool { return h.NetworkWatchers() == 2 }, 5*time.Second, time.Millisecond)

	h.SimulateNetworkChange()
	assert.Equal(t, int32(1), a.Load())
	assert.Equal(t, int32(1), b.Load())

	cancelA()
	require.Eventually(t, func() bool { return h.NetworkWatchers() == 1 }, 5*time.Second, time.Millisecond)
	h.SimulateNetworkChange()
	assert.Equal(t, int32(1), a.Load(), "a watch that ended hears nothing")
	assert.Equal(t, int32(2), b.Load())
	cancelB()
	wg.Wait()
}

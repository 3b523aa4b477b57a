package devices

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Memory is a Store that forgets everything when the server
// stops: for tests and for a server run without a database file.
type Memory struct {
	mu      sync.Mutex
	devices map[[2]string]Device // account, device ID
	seq     int64                // insertion order, for "oldest first"
	order   map[[2]string]int64
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{devices: map[[2]string]Device{}, order: map[[2]string]int64{}}
}

func (m *Memory) Put(_ context.Context, d Device) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{d.Account, d.DeviceID}
	if _, ok := m.devices[k]; !ok {
		m.seq++
		m.order[k] = m.seq
	}
	m.devices[k] = d
	return nil
}

func (m *Memory) Delete(_ context.Context, account, deviceID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{account, deviceID}
	if _, ok := m.devices[k]; !ok {
		return ErrNoDevice
	}
	delete(m.devices, k)
	delete(m.order, k)
	return nil
}

func (m *Memory) ByNumber(_ context.Context, account, number string) ([]Device, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Device
	for k, d := range m.devices {
		if k[0] == account && d.Number == number {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b Device) int {
		return int(m.order[[2]string{a.Account, a.DeviceID}] - m.order[[2]string{b.Account, b.DeviceID}])
	})
	return out, nil
}

func (m *Memory) DropToken(_ context.Context, account, kind, token string) (int, error) {
	if kind != TokenVoIP && kind != TokenFCM {
		return 0, fmt.Errorf("drop token: unknown kind %q", kind)
	}
	if token == "" {
		return 0, errors.New("drop token: empty token")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, d := range m.devices {
		if k[0] == account && TokenOf(d, kind) == token {
			delete(m.devices, k)
			delete(m.order, k)
			n++
		}
	}
	return n, nil
}

func (m *Memory) Close() error { return nil }

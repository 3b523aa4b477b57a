package accounts

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Memory is a Store that forgets everything when the process ends: for
// tests and for a server run without a database (the demo).
type Memory struct {
	mu       sync.Mutex
	accounts map[string]Account
	keys     []Key // in the order added
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{accounts: map[string]Account{}} }

func (m *Memory) Lookup(_ context.Context, name string) (Account, []Hash, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[name]
	if !ok {
		return Account{}, nil, ErrNoAccount
	}
	var hs []Hash
	for _, k := range m.keys {
		if k.Account == name && k.Live() {
			hs = append(hs, k.Hash)
		}
	}
	a.DIDs = CloneDIDs(a.DIDs)
	return a, hs, nil
}

func (m *Memory) ByDID(_ context.Context, did string) (Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var found []Account
	for _, a := range m.accounts {
		if _, ok := a.DIDs[did]; ok {
			found = append(found, a)
		}
	}
	switch len(found) {
	case 0:
		return Account{}, ErrNoAccount
	case 1:
		a := found[0]
		a.DIDs = CloneDIDs(a.DIDs)
		return a, nil
	}
	return Account{}, ErrAmbiguousDID
}

func (m *Memory) Create(_ context.Context, a Account) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.accounts[a.Name]; ok {
		return fmt.Errorf("%w: %s", ErrAccountTaken, a.Name)
	}
	if a.Created.IsZero() {
		a.Created = time.Now()
	}
	a.DIDs = CloneDIDs(a.DIDs)
	m.accounts[a.Name] = a
	return nil
}

func (m *Memory) SetDIDs(_ context.Context, name string, dids map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[name]
	if !ok {
		return ErrNoAccount
	}
	a.DIDs = CloneDIDs(dids)
	m.accounts[name] = a
	return nil
}

func (m *Memory) List(context.Context) ([]Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Account, 0, len(m.accounts))
	for _, a := range m.accounts {
		a.DIDs = CloneDIDs(a.DIDs)
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Account) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

func (m *Memory) AddKey(_ context.Context, account string, h Hash) (Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.accounts[account]; !ok {
		return Key{}, ErrNoAccount
	}
	for _, k := range m.keys {
		if k.Hash == h {
			if !k.Live() {
				return Key{}, fmt.Errorf("%w: %w", ErrKeyExists, ErrKeyRevoked)
			}
			return Key{}, ErrKeyExists
		}
	}
	k := Key{ID: KeyID(h), Account: account, Hash: h, Created: time.Now()}
	m.keys = append(m.keys, k)
	return k, nil
}

func (m *Memory) Revoke(_ context.Context, account, id string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.accounts[account]; !ok {
		return 0, ErrNoAccount
	}
	now := time.Now()
	n := 0
	for i, k := range m.keys {
		if k.Account == account && k.Live() && (id == "" || k.ID == id) {
			m.keys[i].Revoked = now
			n++
		}
	}
	if n == 0 && id != "" {
		return 0, ErrNoKey
	}
	return n, nil
}

func (m *Memory) Keys(_ context.Context, account string) ([]Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.accounts[account]; !ok {
		return nil, ErrNoAccount
	}
	var out []Key
	for _, k := range m.keys {
		if k.Account == account {
			out = append(out, k)
		}
	}
	return out, nil
}

func (m *Memory) Close() error { return nil }

var _ Store = (*Memory)(nil)

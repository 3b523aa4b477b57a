package cdr

import (
	"context"
	"slices"
	"sync"
)

// Memory is a Store in memory, for tests.
type Memory struct {
	mu   sync.Mutex
	recs []Record
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{} }

func (m *Memory) Write(_ context.Context, recs []Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
outer:
	for _, r := range recs {
		for i := range m.recs {
			if m.recs[i].CallID == r.CallID {
				m.recs[i] = m.recs[i].Merge(r)
				continue outer
			}
		}
		m.recs = append(m.recs, r)
	}
	return nil
}

func (m *Memory) List(_ context.Context, q Query) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	for i := len(m.recs) - 1; i >= 0; i-- {
		r := m.recs[i]
		if (q.Account == "" || r.Account == q.Account) && !r.Start.Before(q.Since) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b Record) int { return b.Start.Compare(a.Start) })
	if len(out) > q.LimitOf() {
		out = out[:q.LimitOf()]
	}
	return out, nil
}

func (m *Memory) Close() error { return nil }

var _ Store = (*Memory)(nil)

// Package cdrtest is the behaviour every cdr.Store shows, as one test
// suite: an implementation (memory, SQLite, PostgreSQL) passes it by calling
// Run from its own tests. Only tests import it.
package cdrtest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server/cdr"
)

// Run checks a store that open returns empty, fresh for each call.
func Run(t *testing.T, open func(t *testing.T) cdr.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	answered := cdr.Record{CallID: "c1", Account: "acme", Kind: "inbound", From: "1001", To: "90000", Node: "n1",
		Start: t0, Answer: t0.Add(time.Second), End: t0.Add(61 * time.Second), Duration: time.Minute, Reason: "hangup"}
	declined := cdr.Record{CallID: "c2", Account: "acme", Kind: "app_to_app", From: "1001", To: "1002", Node: "n1",
		Start: t0.Add(time.Hour), End: t0.Add(time.Hour + 3*time.Second), Reason: "declined"}
	other := cdr.Record{CallID: "c3", Account: "globex", Kind: "outbound", From: "2001", To: "+15550100", Node: "n2",
		Start: t0.Add(2 * time.Hour), Answer: t0.Add(2*time.Hour + time.Second), End: t0.Add(2*time.Hour + 2*time.Second),
		Duration: time.Second, Reason: "remote"}

	s := open(t)
	require.NoError(t, s.Write(ctx, []cdr.Record{answered, declined}))
	require.NoError(t, s.Write(ctx, []cdr.Record{other}))
	require.NoError(t, s.Write(ctx, nil))

	tests := []struct {
		name string
		q    cdr.Query
		want []string
	}{
		{"all, newest first", cdr.Query{}, []string{"c3", "c2", "c1"}},
		{"one account", cdr.Query{Account: "acme"}, []string{"c2", "c1"}},
		{"since", cdr.Query{Since: t0.Add(time.Hour)}, []string{"c3", "c2"}},
		{"limit", cdr.Query{Limit: 1}, []string{"c3"}},
		{"account and since", cdr.Query{Account: "acme", Since: t0.Add(time.Minute)}, []string{"c2"}},
		{"unknown account", cdr.Query{Account: "nobody"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.List(ctx, tt.q)
			require.NoError(t, err)
			var ids []string
			for _, r := range got {
				ids = append(ids, r.CallID)
			}
			assert.Equal(t, tt.want, ids)
		})
	}

	t.Run("fields survive", func(t *testing.T) {
		got, err := s.List(ctx, cdr.Query{Account: "acme"})
		require.NoError(t, err)
		require.Len(t, got, 2)
		for i, want := range []cdr.Record{declined, answered} {
			g := got[i]
			assert.True(t, want.Start.Equal(g.Start), "start")
			assert.True(t, want.Answer.Equal(g.Answer), "answer")
			assert.Equal(t, want.Answer.IsZero(), g.Answer.IsZero())
			assert.True(t, want.End.Equal(g.End), "end")
			g.Start, g.Answer, g.End = want.Start, want.Answer, want.End
			assert.Equal(t, want, g)
		}
	})

	t.Run("a later record of a call updates it", func(t *testing.T) {
		s := open(t)
		start := cdr.Record{CallID: "c9", Account: "acme", Kind: "app_to_app", From: "1001", To: "1002", Node: "n1", Start: t0}
		require.NoError(t, s.Write(ctx, []cdr.Record{start}))
		start.Answer = t0.Add(10 * time.Second) // written again when answered
		require.NoError(t, s.Write(ctx, []cdr.Record{start}))
		got, err := s.List(ctx, cdr.Query{})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.True(t, got[0].Open(), "in progress")
		// The node holding the other party closes it: it knows less.
		closing := cdr.Record{CallID: "c9", Node: "n1,n2", End: t0.Add(time.Minute), Reason: cdr.ReasonNodeLost}
		require.NoError(t, s.Write(ctx, []cdr.Record{closing}))
		// A late end never replaces the first.
		require.NoError(t, s.Write(ctx, []cdr.Record{{CallID: "c9", End: t0.Add(time.Hour), Reason: "hangup"}}))
		got, err = s.List(ctx, cdr.Query{})
		require.NoError(t, err)
		require.Len(t, got, 1)
		g := got[0]
		assert.False(t, g.Open())
		assert.Equal(t, cdr.ReasonNodeLost, g.Reason)
		assert.Equal(t, "n1,n2", g.Node)
		assert.Equal(t, "1001", g.From, "what the closing record lacked is kept")
		assert.Equal(t, "app_to_app", g.Kind)
		assert.True(t, g.Start.Equal(t0))
		assert.True(t, g.End.Equal(t0.Add(time.Minute)))
		assert.True(t, g.Answer.Equal(t0.Add(10*time.Second)))
		assert.Equal(t, 50*time.Second, g.Duration, "talk time from the answer to the end")
	})
}

// Package accountstest is the behaviour every accounts.Store shows, as one
// test suite: a store implementation (memory, SQLite, PostgreSQL) passes it
// by calling Run from its own tests. Only tests import it.
package accountstest

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server/accounts"
)

func hash(s string) accounts.Hash { return sha256.Sum256([]byte(s)) }

// Run checks a store that open returns empty, fresh for each call.
func Run(t *testing.T, open func(t *testing.T) accounts.Store) {
	steps := []struct {
		name string
		do   func(t *testing.T, ctx context.Context, s accounts.Store)
	}{
		{"unknown account", func(t *testing.T, ctx context.Context, s accounts.Store) {
			_, _, err := s.Lookup(ctx, "nobody")
			assert.ErrorIs(t, err, accounts.ErrNoAccount)
			_, err = s.AddKey(ctx, "nobody", hash("k"))
			assert.ErrorIs(t, err, accounts.ErrNoAccount)
			_, err = s.Revoke(ctx, "nobody", "")
			assert.ErrorIs(t, err, accounts.ErrNoAccount)
			_, err = s.Keys(ctx, "nobody")
			assert.ErrorIs(t, err, accounts.ErrNoAccount)
			assert.ErrorIs(t, s.SetDIDs(ctx, "nobody", nil), accounts.ErrNoAccount)
		}},
		{"create, look up, list", func(t *testing.T, ctx context.Context, s accounts.Store) {
			require.NoError(t, s.Create(ctx, accounts.Account{Name: "acme", DIDs: map[string]string{"90000": "echo"}}))
			require.NoError(t, s.Create(ctx, accounts.Account{Name: "globex"}))
			assert.ErrorIs(t, s.Create(ctx, accounts.Account{Name: "acme"}), accounts.ErrAccountTaken)
			a, hs, err := s.Lookup(ctx, "acme")
			require.NoError(t, err)
			assert.Equal(t, "acme", a.Name)
			assert.Equal(t, map[string]string{"90000": "echo"}, a.DIDs)
			assert.False(t, a.Created.IsZero())
			assert.Empty(t, hs, "no key yet")
			all, err := s.List(ctx)
			require.NoError(t, err)
			require.Len(t, all, 2)
			assert.Equal(t, "acme", all[0].Name)
			assert.Equal(t, "globex", all[1].Name)
			assert.Empty(t, all[1].DIDs)
		}},
		{"DIDs", func(t *testing.T, ctx context.Context, s accounts.Store) {
			require.NoError(t, s.Create(ctx, accounts.Account{Name: "acme", DIDs: map[string]string{"90000": "echo", "90100": "app:1001"}}))
			require.NoError(t, s.Create(ctx, accounts.Account{Name: "globex", DIDs: map[string]string{"90000": "ivr"}}))
			a, err := s.ByDID(ctx, "90100")
			require.NoError(t, err)
			assert.Equal(t, "acme", a.Name)
			assert.Equal(t, "app:1001", a.DIDs["90100"])
			_, err = s.ByDID(ctx, "90000")
			assert.ErrorIs(t, err, accounts.ErrAmbiguousDID)
			_, err = s.ByDID(ctx, "12345")
			assert.ErrorIs(t, err, accounts.ErrNoAccount)
			require.NoError(t, s.SetDIDs(ctx, "globex", map[string]string{"90200": "echo"}))
			a, err = s.ByDID(ctx, "90000")
			require.NoError(t, err, "no longer ambiguous")
			assert.Equal(t, "acme", a.Name)
			a, _, err = s.Lookup(ctx, "globex")
			require.NoError(t, err)
			assert.Equal(t, map[string]string{"90200": "echo"}, a.DIDs)
		}},
		{"keys: add, rotate, revoke", func(t *testing.T, ctx context.Context, s accounts.Store) {
			require.NoError(t, s.Create(ctx, accounts.Account{Name: "acme"}))
			require.NoError(t, s.Create(ctx, accounts.Account{Name: "globex"}))
			k1, err := s.AddKey(ctx, "acme", hash("one"))
			require.NoError(t, err)
			assert.Equal(t, accounts.KeyID(hash("one")), k1.ID)
			assert.True(t, k1.Live())
			_, err = s.AddKey(ctx, "acme", hash("one"))
			assert.ErrorIs(t, err, accounts.ErrKeyExists)
			_, err = s.AddKey(ctx, "globex", hash("one"))
			assert.ErrorIs(t, err, accounts.ErrKeyExists, "a hash is stored once, whatever the account")
			_, err = s.AddKey(ctx, "acme", hash("two"))
			require.NoError(t, err)
			_, err = s.AddKey(ctx, "globex", hash("three"))
			require.NoError(t, err)

			_, hs, err := s.Lookup(ctx, "acme")
			require.NoError(t, err)
			assert.ElementsMatch(t, []accounts.Hash{hash("one"), hash("two")}, hs)

			n, err := s.Revoke(ctx, "acme", k1.ID)
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			_, hs, _ = s.Lookup(ctx, "acme")
			assert.Equal(t, []accounts.Hash{hash("two")}, hs, "revoked at once")
			_, err = s.Revoke(ctx, "acme", k1.ID)
			assert.ErrorIs(t, err, accounts.ErrNoKey, "already revoked")
			_, err = s.Revoke(ctx, "acme", accounts.KeyID(hash("three")))
			assert.ErrorIs(t, err, accounts.ErrNoKey, "another account's key")
			_, err = s.AddKey(ctx, "acme", hash("one"))
			assert.ErrorIs(t, err, accounts.ErrKeyRevoked, "a revoked key never comes back")
			assert.True(t, errors.Is(err, accounts.ErrKeyExists))

			keys, err := s.Keys(ctx, "acme")
			require.NoError(t, err)
			require.Len(t, keys, 2)
			assert.Equal(t, k1.ID, keys[0].ID, "oldest first")
			assert.False(t, keys[0].Live())
			assert.True(t, keys[1].Live())

			n, err = s.Revoke(ctx, "acme", "")
			require.NoError(t, err)
			assert.Equal(t, 1, n, "every live key")
			_, hs, err = s.Lookup(ctx, "acme")
			require.NoError(t, err, "the account stays")
			assert.Empty(t, hs)
			_, hs, _ = s.Lookup(ctx, "globex")
			assert.Equal(t, []accounts.Hash{hash("three")}, hs, "another account is untouched")
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			s := open(t)
			st.do(t, context.Background(), s)
		})
	}
}

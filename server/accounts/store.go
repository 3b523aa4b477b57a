// Package accounts is the store of the server's tenants and their API keys,
// kept as SHA-256 hashes: what authentication checks every request against,
// so that keys added, rotated or revoked at run time take effect at once,
// without a restart.
//
// [Store] is the small interface the server uses; [Memory] keeps accounts for
// a server's life (tests, the phone's embedded demo server, a server run
// without a database), and package server/sqlstore keeps them in SQLite or
// PostgreSQL. Package accounts/accountstest is the behaviour every Store
// shows. This package links nothing but the standard library: the phone's
// embedded server uses it.
package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"time"
)

// Hash is the SHA-256 of an API key; the key itself is never stored.
type Hash = [sha256.Size]byte

// Account is a tenant: its name (what clients send in X-OneCxi-Account) and
// its DID plan (DID → "echo", "ivr" or "app:<registeredNumber>"; the server
// validates routes before it stores them).
type Account struct {
	Name    string
	DIDs    map[string]string
	Created time.Time
}

// Key is an API key of an account, as stored: its hash and an ID that names
// it in listings and revocations (the first IDLen hex digits of the hash:
// not secret, since the key behind it is random).
type Key struct {
	ID      string
	Account string
	Hash    Hash
	Created time.Time
	Revoked time.Time // zero: live
}

// Live reports whether k still authenticates.
func (k Key) Live() bool { return k.Revoked.IsZero() }

// IDLen is how many hex digits of a key's hash make its ID.
const IDLen = 12

// KeyID returns the ID of the key whose hash is h.
func KeyID(h Hash) string { return hex.EncodeToString(h[:])[:IDLen] }

// Errors of a Store.
var (
	ErrNoAccount    = errors.New("no such account")
	ErrAccountTaken = errors.New("account already exists")
	ErrAmbiguousDID = errors.New("DID belongs to several accounts")
	ErrNoKey        = errors.New("no such live key")
	// ErrKeyExists: the hash is already stored (live, or revoked: a
	// revoked key never comes back, see ErrKeyRevoked).
	ErrKeyExists = errors.New("key already stored")
	// ErrKeyRevoked is returned (wrapping ErrKeyExists) when the hash
	// added is that of a revoked key.
	ErrKeyRevoked = errors.New("key was revoked")
)

// Store keeps accounts and their key hashes. Implementations are safe for
// concurrent use and see every change at once: a key revoked by one process
// (onecxi-server account revoke) is refused by the server on its next
// Lookup.
type Store interface {
	// Lookup returns the named account and the hashes of its live keys;
	// ErrNoAccount if there is no such account.
	Lookup(ctx context.Context, name string) (Account, []Hash, error)
	// ByDID returns the account whose DID plan has did: ErrNoAccount if
	// none, ErrAmbiguousDID if several (a trunk call to it cannot be
	// routed).
	ByDID(ctx context.Context, did string) (Account, error)
	// Create adds an account (ErrAccountTaken if the name is used).
	Create(ctx context.Context, a Account) error
	// SetDIDs replaces an account's DID plan (ErrNoAccount).
	SetDIDs(ctx context.Context, name string, dids map[string]string) error
	// List returns every account, by name.
	List(ctx context.Context) ([]Account, error)
	// AddKey stores a key hash for an account: ErrNoAccount; ErrKeyExists
	// if the hash is stored already (wrapping ErrKeyRevoked too if that
	// key was revoked: revocation is for good).
	AddKey(ctx context.Context, account string, h Hash) (Key, error)
	// Revoke revokes the account's live key id, or all its live keys if id
	// is "", and returns how many it revoked: ErrNoAccount; ErrNoKey if id
	// names no live key of the account.
	Revoke(ctx context.Context, account, id string) (int, error)
	// Keys lists an account's keys, live and revoked, oldest first
	// (ErrNoAccount).
	Keys(ctx context.Context, account string) ([]Key, error)
	Close() error
}

// CloneDIDs returns a copy of a DID plan (never nil).
func CloneDIDs(d map[string]string) map[string]string {
	if d == nil {
		return map[string]string{}
	}
	return maps.Clone(d)
}

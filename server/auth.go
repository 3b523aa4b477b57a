package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/server/accounts"
	"github.com/onecxi/phone/wire"
)

// account is a tenant at run time. Everything a call can reach (numbers, DID
// routes, other calls) is looked up through its account, which is how
// accounts stay invisible to each other. One *account stands for a name for
// the server's life (the registry keys its state by it); its DID plan is
// replaced whenever the store shows it changed.
type account struct {
	name string
	plan atomic.Pointer[didPlan]
}

// didPlan is an account's DID plan as stored and as parsed.
type didPlan struct {
	raw    map[string]string
	routes map[string]didRoute
}

// route returns where did leads in a's plan.
func (a *account) route(did string) (didRoute, bool) {
	p := a.plan.Load()
	if p == nil {
		return didRoute{}, false
	}
	rt, ok := p.routes[did]
	return rt, ok
}

// authStoreTimeout bounds one look-up in the accounts store.
const authStoreTimeout = 5 * time.Second

// errAccountStore is what a failed look-up in the accounts store is to a
// client: the server's fault, not the credentials'.
var errAccountStore = errors.New("accounts store unavailable")

// authenticator checks credentials against the key hashes of the accounts
// store, on every request: a key added, rotated or revoked (onecxi-server
// account …) counts from the next request on, without a restart.
type authenticator struct {
	store accounts.Store
	log   *slog.Logger

	mu     sync.Mutex
	byName map[string]*account
	// dummy is compared against when the account is unknown, so the time a
	// failed check takes does not tell which account names exist (beyond
	// what the store's own look-up time tells).
	dummy []accounts.Hash
}

func newAuthenticator(store accounts.Store, log *slog.Logger) *authenticator {
	return &authenticator{
		store:  store,
		log:    log,
		byName: make(map[string]*account),
		dummy:  []accounts.Hash{sha256.Sum256([]byte(GenerateKey()))},
	}
}

// SeedAccounts writes the accounts of cfg into store: each is created if
// missing, its DID plan set to the configuration's (a configured account's
// DIDs are the configuration's), and each of its apiKeyHashes added unless
// the store has it. A hash the store holds as revoked stays revoked: it is
// logged, and should leave the configuration. New seeds the store it is
// given; the account subcommands seed theirs too.
func SeedAccounts(ctx context.Context, store accounts.Store, cfg Config, log *slog.Logger) error {
	for _, ac := range cfg.Accounts {
		err := store.Create(ctx, accounts.Account{Name: ac.Name, DIDs: ac.DIDs})
		if errors.Is(err, accounts.ErrAccountTaken) {
			err = store.SetDIDs(ctx, ac.Name, ac.DIDs)
		}
		if err != nil {
			return fmt.Errorf("seed account %s: %w", ac.Name, err)
		}
		for i, h := range ac.APIKeyHashes {
			sum, err := parseKeyHash(h)
			if err != nil {
				return fmt.Errorf("%w: accounts[%s].apiKeyHashes[%d]: %w", ErrInvalidConfig, ac.Name, i, err)
			}
			switch _, err := store.AddKey(ctx, ac.Name, sum); {
			case errors.Is(err, accounts.ErrKeyRevoked):
				log.Warn("a configured API key hash was revoked and stays revoked: remove it from the configuration",
					"account", ac.Name, "key", accounts.KeyID(sum))
			case err == nil, errors.Is(err, accounts.ErrKeyExists):
			default:
				return fmt.Errorf("seed account %s: %w", ac.Name, err)
			}
		}
	}
	return nil
}

// CheckDIDs checks a DID plan as the configuration's "dids" are checked
// (for accounts made at run time: onecxi-server account add -did).
func CheckDIDs(dids map[string]string) error {
	var errs []error
	for did, r := range dids {
		if !wire.ValidNumber(did) {
			errs = append(errs, fmt.Errorf("DID %s: not a number (digits, optional leading +, at most %d)", wire.Quote(did), wire.MaxNumberLen))
		}
		if _, err := parseRoute(r); err != nil {
			errs = append(errs, fmt.Errorf("DID %s: %w", wire.Quote(did), err))
		}
	}
	return errors.Join(errs...)
}

// CheckAccountName checks an account name: 1-64 of A-Z a-z 0-9 . _ -
func CheckAccountName(name string) error {
	if !validAccountName(name) {
		return fmt.Errorf("account name %s is not 1-64 of A-Z a-z 0-9 . _ -", wire.Quote(name))
	}
	return nil
}

// get returns the *account for rec, updating its DID plan if the store's
// changed. Routes that do not parse (the store was written by hand) are
// left out, and logged.
func (a *authenticator) get(rec accounts.Account) *account {
	a.mu.Lock()
	acct := a.byName[rec.Name]
	if acct == nil {
		acct = &account{name: rec.Name}
		a.byName[rec.Name] = acct
	}
	a.mu.Unlock()
	if p := acct.plan.Load(); p != nil && maps.Equal(p.raw, rec.DIDs) {
		return acct
	}
	p := &didPlan{raw: maps.Clone(rec.DIDs), routes: make(map[string]didRoute, len(rec.DIDs))}
	for did, r := range rec.DIDs {
		route, err := parseRoute(r)
		if err != nil || !wire.ValidNumber(did) {
			a.log.Error("accounts store: a DID route is invalid and ignored", "account", rec.Name, "did", wire.Quote(did), "route", wire.Quote(r))
			continue
		}
		p.routes[did] = route
	}
	acct.plan.Store(p)
	return acct
}

// known returns the *account named name if this server has met it (an
// authenticated request, or a trunk call), else nil. Other nodes of a
// cluster name accounts in what they send (bridge.go): one this node has
// never met has no calls or devices here.
func (a *authenticator) known(name string) *account {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.byName[name]
}

// lookup returns the *account named name from the store (nil if there is
// none, or the store failed: logged).
func (a *authenticator) lookup(ctx context.Context, name string) *account {
	if acct := a.known(name); acct != nil {
		return acct
	}
	rec, _, err := a.store.Lookup(ctx, name)
	if err != nil {
		if !errors.Is(err, accounts.ErrNoAccount) {
			a.log.Error("accounts store: look-up failed", "account", wire.Quote(name), "err", err)
		}
		return nil
	}
	return a.get(rec)
}

// accountByDID returns the account owning did: nil if none or several do
// (no trunk call can be routed to it), or if the store failed (logged).
func (a *authenticator) accountByDID(ctx context.Context, did string) *account {
	ctx, cancel := context.WithTimeout(ctx, authStoreTimeout)
	defer cancel()
	rec, err := a.store.ByDID(ctx, did)
	switch {
	case errors.Is(err, accounts.ErrNoAccount):
		return nil
	case errors.Is(err, accounts.ErrAmbiguousDID):
		a.log.Warn("a trunk call's DID belongs to several accounts: not routed", "did", wire.Quote(did))
		return nil
	case err != nil:
		a.log.Error("accounts store: DID look-up failed", "did", wire.Quote(did), "err", err)
		return nil
	}
	return a.get(rec)
}

// check returns the account whose name and key these are, or nil. The key is
// hashed and compared in constant time against every live key hash of the
// account (or the dummy), so neither the key nor the existence of the
// account leaks through the comparison's timing. err is errAccountStore if
// the store could not answer.
func (a *authenticator) check(ctx context.Context, name, key string) (*account, error) {
	sum := sha256.Sum256([]byte(key))
	ctx, cancel := context.WithTimeout(ctx, authStoreTimeout)
	defer cancel()
	rec, hashes, err := a.store.Lookup(ctx, name)
	known := err == nil
	if err != nil && !errors.Is(err, accounts.ErrNoAccount) {
		a.log.Error("accounts store: look-up failed", "account", wire.Quote(name), "err", err)
		return nil, errAccountStore
	}
	if !known || len(hashes) == 0 {
		hashes = a.dummy
	}
	match := 0
	for i := range hashes {
		match |= subtle.ConstantTimeCompare(sum[:], hashes[i][:])
	}
	if !known || match != 1 {
		return nil, nil
	}
	return a.get(rec), nil
}

// authenticate reads the credential headers of r. On failure it has written
// the 401 reply (429 while the client address or the account name is in
// its failed-authentication back-off; 500 if the accounts store failed)
// and returns nil.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) *account {
	name, key, ok := wire.Credentials(r.Header)
	addr := clientAddr(s.proxies.clientOf(r))
	// Before any hashing: a client in its back-off costs a map lookup.
	if wait := s.guard.wait(addr, name); wait > 0 {
		refuseTooMany(w, wait, "too many failed authentications: retry later")
		return nil
	}
	if !ok {
		writeError(w, http.StatusUnauthorized, wire.CodeUnauthorized,
			"missing credentials: send "+wire.HeaderAccount+" and "+wire.HeaderAuth+": Bearer <api key>")
		return nil
	}
	acct, err := s.auth.check(r.Context(), name, key)
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.CodeInternal, "the server cannot check credentials now: retry later")
		return nil
	}
	if acct == nil {
		// The account name is not a secret; the key is, so only its tail is
		// logged, and sampled (authGuard.failed).
		s.guard.failed(s.log, addr, name, key, s.proxies.clientOf(r), r.URL.Path)
		writeError(w, http.StatusUnauthorized, wire.CodeUnauthorized, "unknown account or wrong API key")
		return nil
	}
	return acct
}

package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"

	"github.com/onecxi/phone/wire"
)

// account is a tenant at run time. Everything a call can reach (numbers, DID
// routes, other calls) is looked up through its account, which is how
// accounts stay invisible to each other.
type account struct {
	name   string
	hashes [][sha256.Size]byte
	dids   map[string]didRoute
}

// authenticator checks credentials against stored key hashes.
type authenticator struct {
	accounts map[string]*account
	byDID    map[string]*account // nil for a DID of several accounts (no SIP trunk)
	// dummy is compared against when the account is unknown, so the time a
	// failed check takes does not tell which account names exist.
	dummy [][sha256.Size]byte
}

func newAuthenticator(cfg Config) (*authenticator, error) {
	a := &authenticator{
		accounts: make(map[string]*account, len(cfg.Accounts)),
		byDID:    make(map[string]*account),
		dummy:    [][sha256.Size]byte{sha256.Sum256([]byte(GenerateKey()))},
	}
	for _, ac := range cfg.Accounts {
		acct := &account{name: ac.Name, dids: make(map[string]didRoute, len(ac.DIDs))}
		for _, h := range ac.APIKeyHashes {
			sum, err := parseKeyHash(h)
			if err != nil {
				return nil, err // Validate ran first; kept for safety
			}
			acct.hashes = append(acct.hashes, sum)
		}
		for did, r := range ac.DIDs {
			route, err := parseRoute(r)
			if err != nil {
				return nil, err
			}
			acct.dids[did] = route
			if _, dup := a.byDID[did]; dup {
				a.byDID[did] = nil // ambiguous: no trunk call can be routed to it
			} else {
				a.byDID[did] = acct
			}
		}
		a.accounts[ac.Name] = acct
	}
	return a, nil
}

// accountByDID returns the account owning did, or nil if none or several do.
func (a *authenticator) accountByDID(did string) *account { return a.byDID[did] }

// check returns the account whose name and key these are, or nil. The key is
// hashed and compared in constant time against every hash of the account (or
// the dummy), so neither the key nor the existence of the account leaks
// through timing.
func (a *authenticator) check(name, key string) *account {
	sum := sha256.Sum256([]byte(key))
	acct, known := a.accounts[name]
	hashes := a.dummy
	if known {
		hashes = acct.hashes
	}
	match := 0
	for i := range hashes {
		match |= subtle.ConstantTimeCompare(sum[:], hashes[i][:])
	}
	if !known || match != 1 {
		return nil
	}
	return acct
}

// authenticate reads the credential headers of r. On failure it has written
// the 401 reply (429 while the client address or the account name is in
// its failed-authentication back-off) and returns nil.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) *account {
	name, key, ok := wire.Credentials(r.Header)
	addr := clientAddr(r.RemoteAddr)
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
	acct := s.auth.check(name, key)
	if acct == nil {
		// The account name is not a secret; the key is, so only its tail is
		// logged, and sampled (authGuard.failed).
		s.guard.failed(s.log, addr, name, key, r.RemoteAddr, r.URL.Path)
		writeError(w, http.StatusUnauthorized, wire.CodeUnauthorized, "unknown account or wrong API key")
		return nil
	}
	return acct
}

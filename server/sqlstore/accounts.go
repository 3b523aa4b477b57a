package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/onecxi/phone/server/accounts"
)

// accountStore is the accounts.Store of a DB. Key hashes are stored as 64
// hex digits.
type accountStore struct{ d *DB }

var _ accounts.Store = accountStore{}

func (s accountStore) exists(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string) (time.Time, error) {
	var created int64
	err := q.QueryRowContext(ctx, `SELECT created FROM accounts WHERE name = $1`, name).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, accounts.ErrNoAccount
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("accounts: %w", err)
	}
	return fromNanos(created), nil
}

func (s accountStore) dids(ctx context.Context, name string) (map[string]string, error) {
	rows, err := s.d.db.QueryContext(ctx, `SELECT did, route FROM account_dids WHERE account = $1`, name)
	if err != nil {
		return nil, fmt.Errorf("accounts: DIDs: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var did, route string
		if err := rows.Scan(&did, &route); err != nil {
			return nil, fmt.Errorf("accounts: DIDs: %w", err)
		}
		out[did] = route
	}
	return out, rows.Err()
}

func (s accountStore) account(ctx context.Context, name string) (accounts.Account, error) {
	created, err := s.exists(ctx, s.d.db, name)
	if err != nil {
		return accounts.Account{}, err
	}
	dids, err := s.dids(ctx, name)
	if err != nil {
		return accounts.Account{}, err
	}
	return accounts.Account{Name: name, DIDs: dids, Created: created}, nil
}

func (s accountStore) Lookup(ctx context.Context, name string) (accounts.Account, []accounts.Hash, error) {
	a, err := s.account(ctx, name)
	if err != nil {
		return accounts.Account{}, nil, err
	}
	rows, err := s.d.db.QueryContext(ctx, `SELECT hash FROM api_keys WHERE account = $1 AND revoked = 0`, name)
	if err != nil {
		return accounts.Account{}, nil, fmt.Errorf("accounts: keys: %w", err)
	}
	defer rows.Close()
	var hs []accounts.Hash
	for rows.Next() {
		var hx string
		if err := rows.Scan(&hx); err != nil {
			return accounts.Account{}, nil, fmt.Errorf("accounts: keys: %w", err)
		}
		h, err := decodeHash(hx)
		if err != nil {
			return accounts.Account{}, nil, err
		}
		hs = append(hs, h)
	}
	if err := rows.Err(); err != nil {
		return accounts.Account{}, nil, fmt.Errorf("accounts: keys: %w", err)
	}
	return a, hs, nil
}

func decodeHash(hx string) (accounts.Hash, error) {
	var h accounts.Hash
	if len(hx) != 2*len(h) {
		return h, fmt.Errorf("accounts: a stored key hash is %d characters, not %d", len(hx), 2*len(h))
	}
	if _, err := hex.Decode(h[:], []byte(hx)); err != nil {
		return h, errors.New("accounts: a stored key hash is not hex")
	}
	return h, nil
}

func (s accountStore) ByDID(ctx context.Context, did string) (accounts.Account, error) {
	rows, err := s.d.db.QueryContext(ctx, `SELECT account FROM account_dids WHERE did = $1 LIMIT 2`, did)
	if err != nil {
		return accounts.Account{}, fmt.Errorf("accounts: by DID: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return accounts.Account{}, fmt.Errorf("accounts: by DID: %w", err)
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return accounts.Account{}, fmt.Errorf("accounts: by DID: %w", err)
	}
	switch len(names) {
	case 0:
		return accounts.Account{}, accounts.ErrNoAccount
	case 1:
		return s.account(ctx, names[0])
	}
	return accounts.Account{}, accounts.ErrAmbiguousDID
}

// pgAccountsLock serialises the account store's writes on PostgreSQL.
const pgAccountsLock = 0x0c51_0002

func (s accountStore) Create(ctx context.Context, a accounts.Account) error {
	created := a.Created
	if created.IsZero() {
		created = time.Now()
	}
	return s.d.inLockedTx(ctx, pgAccountsLock, func(tx *sql.Tx) error {
		if _, err := s.exists(ctx, tx, a.Name); err == nil {
			return fmt.Errorf("%w: %s", accounts.ErrAccountTaken, a.Name)
		} else if !errors.Is(err, accounts.ErrNoAccount) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (name, created) VALUES ($1, $2)`, a.Name, nanos(created)); err != nil {
			return fmt.Errorf("accounts: create: %w", err)
		}
		return putDIDs(ctx, tx, a.Name, a.DIDs)
	})
}

func putDIDs(ctx context.Context, tx *sql.Tx, name string, dids map[string]string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM account_dids WHERE account = $1`, name); err != nil {
		return fmt.Errorf("accounts: DIDs: %w", err)
	}
	for did, route := range dids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_dids (account, did, route) VALUES ($1, $2, $3)`, name, did, route); err != nil {
			return fmt.Errorf("accounts: DIDs: %w", err)
		}
	}
	return nil
}

func (s accountStore) SetDIDs(ctx context.Context, name string, dids map[string]string) error {
	return s.d.inLockedTx(ctx, pgAccountsLock, func(tx *sql.Tx) error {
		if _, err := s.exists(ctx, tx, name); err != nil {
			return err
		}
		return putDIDs(ctx, tx, name, dids)
	})
}

func (s accountStore) List(ctx context.Context) ([]accounts.Account, error) {
	rows, err := s.d.db.QueryContext(ctx, `SELECT name, created FROM accounts ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("accounts: list: %w", err)
	}
	var out []accounts.Account
	for rows.Next() {
		var a accounts.Account
		var created int64
		if err := rows.Scan(&a.Name, &created); err != nil {
			rows.Close()
			return nil, fmt.Errorf("accounts: list: %w", err)
		}
		a.Created = fromNanos(created)
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounts: list: %w", err)
	}
	for i := range out {
		if out[i].DIDs, err = s.dids(ctx, out[i].Name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s accountStore) AddKey(ctx context.Context, account string, h accounts.Hash) (accounts.Key, error) {
	k := accounts.Key{ID: accounts.KeyID(h), Account: account, Hash: h, Created: time.Now()}
	err := s.d.inLockedTx(ctx, pgAccountsLock, func(tx *sql.Tx) error {
		if _, err := s.exists(ctx, tx, account); err != nil {
			return err
		}
		var revoked int64
		switch err := tx.QueryRowContext(ctx, `SELECT revoked FROM api_keys WHERE hash = $1`, hex.EncodeToString(h[:])).Scan(&revoked); {
		case err == nil && revoked != 0:
			return fmt.Errorf("%w: %w", accounts.ErrKeyExists, accounts.ErrKeyRevoked)
		case err == nil:
			return accounts.ErrKeyExists
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("accounts: add key: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, account, hash, created, revoked) VALUES ($1, $2, $3, $4, 0)`,
			k.ID, account, hex.EncodeToString(h[:]), nanos(k.Created)); err != nil {
			return fmt.Errorf("accounts: add key: %w", err)
		}
		return nil
	})
	if err != nil {
		return accounts.Key{}, err
	}
	return k, nil
}

func (s accountStore) Revoke(ctx context.Context, account, id string) (int, error) {
	var n int64
	err := s.d.inLockedTx(ctx, pgAccountsLock, func(tx *sql.Tx) error {
		if _, err := s.exists(ctx, tx, account); err != nil {
			return err
		}
		now := time.Now().UnixNano()
		var res sql.Result
		var err error
		if id == "" {
			res, err = tx.ExecContext(ctx, `UPDATE api_keys SET revoked = $1 WHERE account = $2 AND revoked = 0`, now, account)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE api_keys SET revoked = $1 WHERE account = $2 AND id = $3 AND revoked = 0`, now, account, id)
		}
		if err != nil {
			return fmt.Errorf("accounts: revoke: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("accounts: revoke: %w", err)
		}
		if n == 0 && id != "" {
			return accounts.ErrNoKey
		}
		return nil
	})
	return int(n), err
}

func (s accountStore) Keys(ctx context.Context, account string) ([]accounts.Key, error) {
	if _, err := s.exists(ctx, s.d.db, account); err != nil {
		return nil, err
	}
	rows, err := s.d.db.QueryContext(ctx, `SELECT id, hash, created, revoked FROM api_keys WHERE account = $1 ORDER BY created, id`, account)
	if err != nil {
		return nil, fmt.Errorf("accounts: keys: %w", err)
	}
	defer rows.Close()
	var out []accounts.Key
	for rows.Next() {
		k := accounts.Key{Account: account}
		var hx string
		var created, revoked int64
		if err := rows.Scan(&k.ID, &hx, &created, &revoked); err != nil {
			return nil, fmt.Errorf("accounts: keys: %w", err)
		}
		if k.Hash, err = decodeHash(hx); err != nil {
			return nil, err
		}
		k.Created, k.Revoked = fromNanos(created), fromNanos(revoked)
		out = append(out, k)
	}
	return out, rows.Err()
}

func (accountStore) Close() error { return nil }

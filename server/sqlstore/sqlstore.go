// Package sqlstore keeps the server's shared state — accounts and API key
// hashes (package accounts) and call detail records (package cdr) — in SQL:
// SQLite in one file by default (modernc.org/sqlite, pure Go), PostgreSQL
// (jackc/pgx) when a deployment's nodes share one database.
//
// [Open] takes the configuration's "database" value: "sqlite:<file>" or a
// "postgres://" (or "postgresql://") URL. It runs the schema migrations the
// database lacks, each once, in order, recorded in schema_migrations; a
// database whose schema is newer than this binary knows is refused.
//
// Only the standalone server (through package server/providers) and its
// commands import this package: the phone's embedded server links no SQL
// driver.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite": pure Go, no cgo

	"github.com/onecxi/phone/server/accounts"
	"github.com/onecxi/phone/server/cdr"
	"github.com/onecxi/phone/wire"
)

// Database kinds, from the URL's scheme.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// ErrBadURL is wrapped by Open's errors about the database value itself.
var ErrBadURL = errors.New("bad database URL")

// ErrSchemaTooNew is returned by Open when the database was migrated by a
// newer binary: this one would misread it.
var ErrSchemaTooNew = errors.New("database schema is newer than this server knows")

// DB is an open database: its Accounts, Calls and Devices stores share it. Close
// it (not them) when done.
type DB struct {
	db      *sql.DB
	kind    string
	version int // schema version after migrations
}

// ParseURL checks a database value and returns its kind and the driver's
// data source name.
func ParseURL(s string) (kind, dsn string, err error) {
	switch {
	case strings.HasPrefix(s, "sqlite:"):
		path := strings.TrimPrefix(s, "sqlite:")
		if path == "" {
			return "", "", fmt.Errorf("%w: sqlite: needs a file path (sqlite:/var/lib/onecxi/server.db)", ErrBadURL)
		}
		// A URI filename: what would end the path is escaped. Write
		// transactions begin IMMEDIATE, so two processes on one file wait
		// their turn (busy_timeout) instead of failing SQLITE_BUSY when
		// both upgrade a read to a write.
		path = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
		return SQLite, "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate", nil
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		if _, err := url.Parse(s); err != nil {
			// url's error repeats the URL, password included: say less.
			return "", "", fmt.Errorf("%w: postgres URL does not parse", ErrBadURL)
		}
		return Postgres, s, nil
	}
	return "", "", fmt.Errorf("%w: %s is not sqlite:<file> or postgres://…", ErrBadURL, wire.Quote(Redact(s)))
}

// Redact returns a database value fit for logs and errors: a URL's password
// is replaced by "xxxxx".
func Redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			return u.Redacted()
		}
	}
	return s
}

// Open opens the database s names (see ParseURL) and migrates its schema.
func Open(ctx context.Context, s string) (*DB, error) {
	kind, dsn, err := ParseURL(s)
	if err != nil {
		return nil, err
	}
	driver := "sqlite"
	if kind == Postgres {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", wire.Quote(Redact(s)), wire.QuoteError(err))
	}
	if kind == SQLite {
		// One writer at a time is SQLite's rule; one connection keeps it
		// simple (the writes are small and rare next to calls).
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(16)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	d := &DB{db: db, kind: kind}
	if err := d.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("database %s: %w", wire.Quote(Redact(s)), err)
	}
	return d, nil
}

// Kind is SQLite or Postgres.
func (d *DB) Kind() string { return d.kind }

// Version is the database's schema version.
func (d *DB) Version() int { return d.version }

// Accounts is the accounts.Store in d. Its Close does nothing: close d.
func (d *DB) Accounts() accounts.Store { return accountStore{d} }

// Calls is the cdr.Store in d. Its Close does nothing: close d.
func (d *DB) Calls() cdr.Store { return callStore{d} }

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// inTx runs f in a transaction, committed if f returns nil.
func (d *DB) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// inLockedTx is inTx holding, on PostgreSQL, the transaction-scoped
// advisory lock key: writes that read before they write (does the
// account exist? is the key known?) are serialised across the servers
// sharing the database, which start, and seed their accounts, at once.
// SQLite serialises writers itself.
func (d *DB) inLockedTx(ctx context.Context, key int64, f func(tx *sql.Tx) error) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		if d.kind == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, key); err != nil {
				return fmt.Errorf("advisory lock: %w", err)
			}
		}
		return f(tx)
	})
}

// nanos and fromNanos store times as Unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

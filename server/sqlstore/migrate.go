package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// migration is one step of the schema. Steps are only ever appended: a
// released step never changes, so that every database at version N has the
// same schema. Statements are separated by ";" and hold none inside them;
// {{serial}} is an auto-incrementing integer primary key in either dialect.
type migration struct {
	version int
	name    string
	sql     string
}

var migrations = []migration{
	{1, "accounts, API keys and call detail records", `
CREATE TABLE accounts (
	name    TEXT PRIMARY KEY,
	created BIGINT NOT NULL
);
CREATE TABLE account_dids (
	account TEXT NOT NULL,
	did     TEXT NOT NULL,
	route   TEXT NOT NULL,
	PRIMARY KEY (account, did)
);
CREATE INDEX account_dids_by_did ON account_dids (did);
CREATE TABLE api_keys (
	id      TEXT PRIMARY KEY,
	account TEXT NOT NULL,
	hash    TEXT NOT NULL UNIQUE,
	created BIGINT NOT NULL,
	revoked BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_by_account ON api_keys (account, created);
CREATE TABLE call_records (
	id          {{serial}},
	call_id     TEXT NOT NULL,
	account     TEXT NOT NULL,
	kind        TEXT NOT NULL,
	from_number TEXT NOT NULL,
	to_number   TEXT NOT NULL,
	node        TEXT NOT NULL,
	started     BIGINT NOT NULL,
	answered    BIGINT NOT NULL DEFAULT 0,
	ended       BIGINT NOT NULL,
	duration_ms BIGINT NOT NULL DEFAULT 0,
	reason      TEXT NOT NULL
);
CREATE INDEX call_records_by_start ON call_records (started);
CREATE INDEX call_records_by_account ON call_records (account, started)`},
	// IF NOT EXISTS: a deviceDb file of the older devices/sqlite package
	// already has this very table, with its registrations; it is adopted.
	{2, "device registry", `
CREATE TABLE IF NOT EXISTS devices (
	account    TEXT NOT NULL,
	device_id  TEXT NOT NULL,
	number     TEXT NOT NULL,
	platform   TEXT NOT NULL,
	voip_token TEXT NOT NULL DEFAULT '',
	fcm_token  TEXT NOT NULL DEFAULT '',
	created    BIGINT NOT NULL,
	updated    BIGINT NOT NULL,
	PRIMARY KEY (account, device_id)
);
CREATE INDEX IF NOT EXISTS devices_by_number ON devices (account, number)`},
	// A call's record is written when it starts and updated when it ends
	// (cdr.Record.Merge): one row per call.
	{3, "one call record per call", `
CREATE UNIQUE INDEX IF NOT EXISTS call_records_by_call ON call_records (call_id)`},
}

// pgMigrationLock is the advisory lock that keeps two PostgreSQL nodes
// starting at once from migrating together.
const pgMigrationLock = 0x0c51_0001

// SchemaVersion is the newest schema this binary knows.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// migrate applies the migrations the database lacks, each in its own
// transaction together with its row in schema_migrations.
func (d *DB) migrate(ctx context.Context) error {
	// Under the migration lock: two PostgreSQL servers creating the
	// table at once can both fail on the catalogue's unique index.
	if err := d.inLockedTx(ctx, pgMigrationLock, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version BIGINT PRIMARY KEY,
	name    TEXT NOT NULL,
	applied BIGINT NOT NULL
)`)
		return err
	}); err != nil {
		return fmt.Errorf("schema_migrations: %w", err)
	}
	for {
		done, err := d.step(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// step applies the next migration, if any; done when there was none.
func (d *DB) step(ctx context.Context) (done bool, err error) {
	err = d.inLockedTx(ctx, pgMigrationLock, func(tx *sql.Tx) error {
		var current int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("schema version: %w", err)
		}
		d.version = current
		if current > SchemaVersion() {
			return fmt.Errorf("%w: the database is at schema version %d, this binary knows up to %d: run a newer onecxi-server (never an older one) against it",
				ErrSchemaTooNew, current, SchemaVersion())
		}
		if current == SchemaVersion() {
			done = true
			return nil
		}
		m := migrations[current] // versions are 1, 2, … in order
		serial := "INTEGER PRIMARY KEY AUTOINCREMENT"
		if d.kind == Postgres {
			serial = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
		}
		for _, stmt := range strings.Split(strings.ReplaceAll(m.sql, "{{serial}}", serial), ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)`,
			m.version, m.name, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("migration %d: record: %w", m.version, err)
		}
		d.version = m.version
		return nil
	})
	return done, err
}

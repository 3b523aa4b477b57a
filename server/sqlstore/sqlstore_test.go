package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server/accounts"
	"github.com/onecxi/phone/server/accounts/accountstest"
	"github.com/onecxi/phone/server/cdr"
	"github.com/onecxi/phone/server/cdr/cdrtest"
	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/server/devices/devicestest"
	"github.com/onecxi/phone/server/sqlstore"
)

// databases are the kinds every test runs against: a fresh database of
// each per call.
var databases = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "server.db") }},
	{"postgres", postgresURL},
}

func open(t *testing.T, url string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestAccounts(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			accountstest.Run(t, func(t *testing.T) accounts.Store { return open(t, d.url(t)).Accounts() })
		})
	}
}

func TestDevices(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			devicestest.Run(t, func(t *testing.T) devices.Store { return open(t, d.url(t)).Devices() })
		})
	}
}

func TestCallRecords(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			cdrtest.Run(t, func(t *testing.T) cdr.Store { return open(t, d.url(t)).Calls() })
		})
	}
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			url := d.url(t)
			db := open(t, url)
			assert.Equal(t, sqlstore.SchemaVersion(), db.Version())
			require.NoError(t, db.Accounts().Create(ctx, accounts.Account{Name: "acme"}))
			require.NoError(t, db.Close())

			// Opened again: nothing to apply, the data is there.
			db = open(t, url)
			assert.Equal(t, sqlstore.SchemaVersion(), db.Version())
			_, _, err := db.Accounts().Lookup(ctx, "acme")
			require.NoError(t, err)
			require.NoError(t, db.Close())

			// Each migration ran once.
			raw := rawDB(t, url)
			var n int
			require.NoError(t, raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n))
			assert.Equal(t, sqlstore.SchemaVersion(), n)

			// A database one migration behind (version 2: no one-record-
			// per-call index) gets that one only.
			_, err = raw.ExecContext(ctx, `DROP INDEX call_records_by_call`)
			require.NoError(t, err)
			_, err = raw.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = 3`)
			require.NoError(t, err)
			db = open(t, url)
			assert.Equal(t, sqlstore.SchemaVersion(), db.Version())
			_, _, err = db.Accounts().Lookup(ctx, "acme")
			require.NoError(t, err, "migration 1 did not run again")
			rec := cdr.Record{CallID: "c1", Account: "acme", Start: time.Now()}
			require.NoError(t, db.Calls().Write(ctx, []cdr.Record{rec}))
			rec.End, rec.Reason = time.Now(), "hangup"
			require.NoError(t, db.Calls().Write(ctx, []cdr.Record{rec}))
			recs, err := db.Calls().List(ctx, cdr.Query{})
			require.NoError(t, err)
			assert.Len(t, recs, 1, "migration 3 ran: one record per call")
			require.NoError(t, db.Close())

			// A newer binary's schema is refused, clearly.
			_, err = raw.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES ($1, 'from the future', 0)`,
				sqlstore.SchemaVersion()+1)
			require.NoError(t, err)
			_, err = sqlstore.Open(ctx, url)
			require.ErrorIs(t, err, sqlstore.ErrSchemaTooNew)
			assert.ErrorContains(t, err, "newer onecxi-server")
		})
	}
}

func rawDB(t *testing.T, url string) *sql.DB {
	kind, dsn, err := sqlstore.ParseURL(url)
	require.NoError(t, err)
	driver := "sqlite"
	if kind == sqlstore.Postgres {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestSQLiteFileNamesAreFileNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"a#b.db", "a?b.db", "a%20b.db"} {
		db := open(t, "sqlite:"+filepath.Join(dir, name))
		require.NoError(t, db.Close())
		_, err := os.Stat(filepath.Join(dir, name))
		assert.NoError(t, err, "the file is called %s", name)
	}
}

func TestParseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, kind, err string
	}{
		{"sqlite:/var/lib/x.db", sqlstore.SQLite, ""},
		{"postgres://u:p@db/onecxi", sqlstore.Postgres, ""},
		{"postgresql://db/onecxi?sslmode=require", sqlstore.Postgres, ""},
		{"sqlite:", "", "needs a file path"},
		{"mysql://u:secretpassword@db/x", "", "is not sqlite:<file> or postgres://"},
		{"/var/lib/x.db", "", "is not sqlite:<file>"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			kind, _, err := sqlstore.ParseURL(tt.in)
			if tt.err != "" {
				require.ErrorIs(t, err, sqlstore.ErrBadURL)
				assert.ErrorContains(t, err, tt.err)
				assert.NotContains(t, err.Error(), "secretpassword", "a password never shows")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.kind, kind)
		})
	}
	assert.Equal(t, "postgres://u:xxxxx@db/x", sqlstore.Redact("postgres://u:pw@db/x"))
}

// A deviceDb file written by the device registry this package replaced
// (server/devices/sqlite: the devices table alone, no schema_migrations)
// is adopted with its registrations.
func TestAdoptsAnOlderDeviceDBFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "devices.db")
	old, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = old.ExecContext(ctx, `
CREATE TABLE devices (
	account TEXT NOT NULL, device_id TEXT NOT NULL, number TEXT NOT NULL,
	platform TEXT NOT NULL, voip_token TEXT NOT NULL DEFAULT '', fcm_token TEXT NOT NULL DEFAULT '',
	created INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY (account, device_id));
CREATE INDEX devices_by_number ON devices (account, number);
INSERT INTO devices VALUES ('acme', 'd1', '1002', 'android', '', 'fcm-token', 1, 2);`)
	require.NoError(t, err)
	require.NoError(t, old.Close())

	db, err := sqlstore.Open(ctx, "sqlite:"+path)
	require.NoError(t, err)
	defer db.Close()
	got, err := db.Devices().ByNumber(ctx, "acme", "1002")
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "d1", got[0].DeviceID)
	assert.Equal(t, "fcm-token", got[0].FCMToken)
}

// Servers sharing a fresh database start at once: each migrates and seeds
// the same account, DIDs and key, and none fails (the writes are
// serialised; a loser sees "taken" or "exists", as seeding expects).
func TestConcurrentStartsOnOneDatabase(t *testing.T) {
	for _, b := range databases {
		t.Run(b.name, func(t *testing.T) {
			url := b.url(t)
			const servers = 6
			errs := make(chan error, servers)
			for range servers {
				go func() {
					db, err := sqlstore.Open(context.Background(), url)
					if err != nil {
						errs <- err
						return
					}
					defer db.Close()
					ctx := context.Background()
					st := db.Accounts()
					err = st.Create(ctx, accounts.Account{Name: "acme", DIDs: map[string]string{"90000": "echo", "90100": "app:1002"}})
					if errors.Is(err, accounts.ErrAccountTaken) {
						err = st.SetDIDs(ctx, "acme", map[string]string{"90000": "echo", "90100": "app:1002"})
					}
					if err == nil {
						if _, kerr := st.AddKey(ctx, "acme", accounts.Hash{1}); kerr != nil && !errors.Is(kerr, accounts.ErrKeyExists) {
							err = kerr
						}
					}
					errs <- err
				}()
			}
			for range servers {
				assert.NoError(t, <-errs)
			}
			a, hashes, err := open(t, url).Accounts().Lookup(context.Background(), "acme")
			require.NoError(t, err)
			assert.Len(t, a.DIDs, 2)
			assert.Len(t, hashes, 1)
		})
	}
}

// Package sqlite is the device registry in one SQLite file (modernc.org/sqlite:
// pure Go, no cgo), the reference server's default when it is given a
// deviceDb. Only the standalone server imports it: the phone's embedded
// demo server keeps its registrations in memory.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite: no cgo, so the server cross-builds anywhere

	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/wire"
)

// Store is a devices.Store in one SQLite file, in WAL mode so lookups while
// ringing do not wait behind a registration.
type Store struct {
	db *sql.DB
}

// sqliteSchema is applied on open; it only ever adds.
const sqliteSchema = `
CREATE TABLE IF NOT EXISTS devices (
	account    TEXT NOT NULL,
	device_id  TEXT NOT NULL,
	number     TEXT NOT NULL,
	platform   TEXT NOT NULL,
	voip_token TEXT NOT NULL DEFAULT '',
	fcm_token  TEXT NOT NULL DEFAULT '',
	created    INTEGER NOT NULL,
	updated    INTEGER NOT NULL,
	PRIMARY KEY (account, device_id)
);
CREATE INDEX IF NOT EXISTS devices_by_number ON devices (account, number);
`

// Open opens (creating if needed) the registry database at path.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("device registry %s: %w", wire.QuotePath(path), wire.QuoteError(err))
	}
	// One writer at a time is SQLite's rule; one connection keeps it simple
	// and registrations are rare next to calls.
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, sqliteSchema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("device registry %s: %w", wire.QuotePath(path), wire.QuoteError(err))
	}
	return &Store{db: db}, nil
}

func (s *Store) Put(ctx context.Context, d devices.Device) error {
	now := d.Updated
	if now.IsZero() {
		now = time.Now()
	}
	_, err := s.db.ExecContext(ctx, `
INSERT INTO devices (account, device_id, number, platform, voip_token, fcm_token, created, updated)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (account, device_id) DO UPDATE SET
	number = excluded.number, platform = excluded.platform,
	voip_token = excluded.voip_token, fcm_token = excluded.fcm_token, updated = excluded.updated`,
		d.Account, d.DeviceID, d.Number, d.Platform, d.VoIPToken, d.FCMToken, now.UnixNano(), now.UnixNano())
	if err != nil {
		return fmt.Errorf("register device: %w", err)
	}
	return nil
}

func (s *Store) Delete(ctx context.Context, account, deviceID string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM devices WHERE account = ? AND device_id = ?`, account, deviceID)
	if err != nil {
		return fmt.Errorf("unregister device: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return devices.ErrNoDevice
	}
	return nil
}

func (s *Store) ByNumber(ctx context.Context, account, number string) ([]devices.Device, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT device_id, platform, voip_token, fcm_token, updated FROM devices
WHERE account = ? AND number = ? ORDER BY created, device_id`, account, number)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	var out []devices.Device
	for rows.Next() {
		d := devices.Device{Account: account, Number: number}
		var updated int64
		if err := rows.Scan(&d.DeviceID, &d.Platform, &d.VoIPToken, &d.FCMToken, &updated); err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		d.Updated = time.Unix(0, updated)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return out, nil
}

func (s *Store) DropToken(ctx context.Context, account, kind, token string) (int, error) {
	var col string
	switch kind {
	case devices.TokenVoIP:
		col = "voip_token"
	case devices.TokenFCM:
		col = "fcm_token"
	default:
		return 0, fmt.Errorf("drop token: unknown kind %q", kind)
	}
	if token == "" {
		return 0, errors.New("drop token: empty token")
	}
	// col is one of two constants above, never input.
	res, err := s.db.ExecContext(ctx, `DELETE FROM devices WHERE account = ? AND `+col+` = ?`, account, token)
	if err != nil {
		return 0, fmt.Errorf("drop token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("drop token: %w", err)
	}
	return int(n), nil
}

func (s *Store) Close() error { return s.db.Close() }

var _ devices.Store = (*Store)(nil)

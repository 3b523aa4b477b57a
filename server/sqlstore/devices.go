package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/onecxi/phone/server/devices"
)

// deviceStore is the devices.Store of a DB: the device registry shared by
// every node of a deployment.
type deviceStore struct{ d *DB }

var _ devices.Store = deviceStore{}

// Devices is the devices.Store in d. Its Close does nothing: close d.
func (d *DB) Devices() devices.Store { return deviceStore{d} }

func (s deviceStore) Put(ctx context.Context, d devices.Device) error {
	now := d.Updated
	if now.IsZero() {
		now = time.Now()
	}
	_, err := s.d.db.ExecContext(ctx, `
INSERT INTO devices (account, device_id, number, platform, voip_token, fcm_token, created, updated)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (account, device_id) DO UPDATE SET
	number = excluded.number, platform = excluded.platform,
	voip_token = excluded.voip_token, fcm_token = excluded.fcm_token, updated = excluded.updated`,
		d.Account, d.DeviceID, d.Number, d.Platform, d.VoIPToken, d.FCMToken, now.UnixNano(), now.UnixNano())
	if err != nil {
		return fmt.Errorf("register device: %w", err)
	}
	return nil
}

func (s deviceStore) Delete(ctx context.Context, account, deviceID string) error {
	res, err := s.d.db.ExecContext(ctx, `DELETE FROM devices WHERE account = $1 AND device_id = $2`, account, deviceID)
	if err != nil {
		return fmt.Errorf("unregister device: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return devices.ErrNoDevice
	}
	return nil
}

func (s deviceStore) ByNumber(ctx context.Context, account, number string) ([]devices.Device, error) {
	rows, err := s.d.db.QueryContext(ctx, `
SELECT device_id, platform, voip_token, fcm_token, updated FROM devices
WHERE account = $1 AND number = $2 ORDER BY created, device_id`, account, number)
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

func (s deviceStore) DropToken(ctx context.Context, account, kind, token string) (int, error) {
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
	res, err := s.d.db.ExecContext(ctx, `DELETE FROM devices WHERE account = $1 AND `+col+` = $2`, account, token)
	if err != nil {
		return 0, fmt.Errorf("drop token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("drop token: %w", err)
	}
	return int(n), nil
}

func (deviceStore) Close() error { return nil }

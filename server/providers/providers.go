// Package providers opens what a server configuration names beyond the
// server's core: the database of accounts and call detail records
// (database: SQLite or PostgreSQL, package server/sqlstore), the device
// registry (its own SQLite file, deviceDb, or else the database) and the APNs and FCM push transports (push).
// The standalone server (cmd/onecxi-server) uses it; the phone's embedded
// demo server does not, so the phone links no SQL driver, no APNs client
// and no Google API client.
package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/server/push"
	"github.com/onecxi/phone/server/push/apns"
	"github.com/onecxi/phone/server/push/fcm"
	"github.com/onecxi/phone/server/sqlstore"
)

// openTimeout bounds opening the database and reading FCM's credentials.
const openTimeout = 10 * time.Second

// Set is what Open opened.
type Set struct {
	// Devices is the device store: the SQLite file of cfg.DeviceDB, else
	// the database of cfg.Database; nil without either (the server then
	// keeps registrations in memory).
	Devices   devices.Store
	devicesDB *sqlstore.DB // cfg.DeviceDB's file of its own, closed by Close
	// DB is the database of cfg.Database (accounts and call detail
	// records); nil without one (the server then keeps accounts in memory
	// and no records).
	DB *sqlstore.DB
	// Push are the transports of cfg.Push, one per configured provider.
	Push []push.Transport
}

// Open opens the device store and builds the push transports cfg names.
// hc, if not nil, is the HTTP client push providers are reached with (a
// test's fake APNs and FCM, or an egress proxy); FCM's OAuth token is added
// on top of its transport. A bad push setting is a server.ErrInvalidConfig.
// Close the Set after the server has shut down.
func Open(ctx context.Context, cfg server.Config, hc *http.Client) (*Set, error) {
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	set := &Set{}
	if c := cfg.Push.APNs; c != nil {
		t, err := apns.New(*c, hc)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", server.ErrInvalidConfig, err)
		}
		set.Push = append(set.Push, t)
	}
	if c := cfg.Push.FCM; c != nil {
		t, err := fcm.New(ctx, *c, hc)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", server.ErrInvalidConfig, err)
		}
		set.Push = append(set.Push, t)
	}
	if cfg.Database != "" {
		db, err := sqlstore.Open(ctx, cfg.Database)
		if err != nil {
			return nil, err
		}
		set.DB = db
	}
	switch {
	case cfg.DeviceDB != "":
		db, err := sqlstore.Open(ctx, "sqlite:"+cfg.DeviceDB)
		if err != nil {
			_ = set.Close()
			return nil, fmt.Errorf("deviceDb: %w", err)
		}
		set.devicesDB = db
		set.Devices = db.Devices()
	case set.DB != nil:
		// No file of its own: the registry lives in the shared database,
		// so every node rings the same devices.
		set.Devices = set.DB.Devices()
	}
	return set, nil
}

// Options hands the set to server.New.
func (s *Set) Options() []server.Option {
	opts := []server.Option{server.WithPush(s.Push...)}
	if s.Devices != nil {
		opts = append(opts, server.WithDeviceStore(s.Devices))
	}
	if s.DB != nil {
		opts = append(opts, server.WithAccountStore(s.DB.Accounts()), server.WithCallRecords(s.DB.Calls()))
	}
	return opts
}

// Close closes the database and the device store. Safe on a Set without
// them.
func (s *Set) Close() error {
	if s == nil {
		return nil
	}
	var errs []error
	if s.DB != nil {
		if err := s.DB.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close database: %w", err))
		}
	}
	if s.devicesDB != nil {
		if err := s.devicesDB.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close device registry: %w", err))
		}
	}
	return errors.Join(errs...)
}

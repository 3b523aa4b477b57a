// Package cdr is the server's call detail records: one [Record] per call,
// written when the call ends.
//
// [Store] is the small interface a database implements (package
// server/sqlstore: SQLite or PostgreSQL; [Memory] for tests). The server
// never writes to a store from its registry: it hands records to a [Writer],
// whose goroutine writes them in batches from a bounded queue, so a slow
// database costs dropped records (counted, and logged sampled), never a
// stalled call. This package links nothing but the standard library.
package cdr

import (
	"context"
	"time"
)

// Record is one call: who (account, from, to), what (call kind), where (the
// server node), when (start, answer, end) and how it ended.
type Record struct {
	CallID  string
	Account string
	Kind    string // wire.CallKind: inbound, outbound, app_to_app
	From    string // the caller's registered number (a trunk caller's number)
	To      string // what the caller dialled
	Node    string // the server node that carried the call (Config.NodeID)
	Start   time.Time
	Answer  time.Time // zero: never answered
	End     time.Time
	// Duration is the talk time, from answer to end (0 if never answered).
	Duration time.Duration
	// Reason is the end reason (hangup, remote, declined, no_answer,
	// busy, network_lost, shutdown, …).
	Reason string
}

// Query selects records for List: an account ("" for all), records of
// calls started at or after Since (zero: all), at most Limit (≤ 0: 100),
// newest first.
type Query struct {
	Account string
	Since   time.Time
	Limit   int
}

// DefaultLimit is a Query's limit when it gives none.
const DefaultLimit = 100

// LimitOf returns q's effective limit.
func (q Query) LimitOf() int {
	if q.Limit <= 0 {
		return DefaultLimit
	}
	return q.Limit
}

// Store keeps call detail records. Implementations are safe for concurrent
// use.
type Store interface {
	// Write stores records, all or none.
	Write(ctx context.Context, recs []Record) error
	// List returns the records q selects, newest start first.
	List(ctx context.Context, q Query) ([]Record, error)
	Close() error
}

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
	// busy, network_lost, shutdown, ReasonNodeLost, …); "" while the call
	// is in progress.
	Reason string
}

// ReasonNodeLost ends the record of a call whose server node was lost
// (killed, cut off) while it carried the call: another node that had a
// party of it writes it.
const ReasonNodeLost = "node_lost"

// Open reports whether r is a call still in progress: written when the
// call started, so a call survives in the records even if its node dies.
func (r Record) Open() bool { return r.End.IsZero() }

// Merge returns the stored record r updated by a later record of the same
// call: an open record takes the later one's end, talk time (worked out
// from the answer if the later one has none) and reason, and its answer
// and nodes when it has them, and fills what it lacked; a closed record
// stays as it is (the first end wins).
func (r Record) Merge(later Record) Record {
	if !r.Open() {
		return r
	}
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	fill(&r.Account, later.Account)
	fill(&r.Kind, later.Kind)
	fill(&r.From, later.From)
	fill(&r.To, later.To)
	if later.Node != "" {
		r.Node = later.Node
	}
	if r.Start.IsZero() {
		r.Start = later.Start
	}
	if !later.Answer.IsZero() {
		r.Answer = later.Answer
	}
	r.End, r.Duration, r.Reason = later.End, later.Duration, later.Reason
	if r.Duration == 0 && !r.End.IsZero() && !r.Answer.IsZero() {
		r.Duration = r.End.Sub(r.Answer) // a closing record that did not know the answer
	}
	return r
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
	// Write stores records, all or none. A record of a call the store
	// already holds (same CallID) updates it (Record.Merge).
	Write(ctx context.Context, recs []Record) error
	// List returns the records q selects, newest start first.
	List(ctx context.Context, q Query) ([]Record, error)
	Close() error
}

package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/onecxi/phone/server/cdr"
)

// callStore is the cdr.Store of a DB.
type callStore struct{ d *DB }

var _ cdr.Store = callStore{}

func (s callStore) Write(ctx context.Context, recs []cdr.Record) error {
	if len(recs) == 0 {
		return nil
	}
	return s.d.inTx(ctx, func(tx *sql.Tx) error {
		// A later record of a call updates an open one (cdr.Record.Merge).
		st, err := tx.PrepareContext(ctx, `INSERT INTO call_records
(call_id, account, kind, from_number, to_number, node, started, answered, ended, duration_ms, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (call_id) DO UPDATE SET
	account     = CASE WHEN call_records.account = '' THEN excluded.account ELSE call_records.account END,
	kind        = CASE WHEN call_records.kind = '' THEN excluded.kind ELSE call_records.kind END,
	from_number = CASE WHEN call_records.from_number = '' THEN excluded.from_number ELSE call_records.from_number END,
	to_number   = CASE WHEN call_records.to_number = '' THEN excluded.to_number ELSE call_records.to_number END,
	node        = CASE WHEN excluded.node <> '' THEN excluded.node ELSE call_records.node END,
	started     = CASE WHEN call_records.started = 0 THEN excluded.started ELSE call_records.started END,
	answered    = CASE WHEN excluded.answered <> 0 THEN excluded.answered ELSE call_records.answered END,
	ended       = excluded.ended,
	duration_ms = CASE
		WHEN excluded.duration_ms = 0 AND excluded.ended <> 0 AND call_records.answered <> 0 AND excluded.answered = 0
		THEN (excluded.ended - call_records.answered) / 1000000
		ELSE excluded.duration_ms END,
	reason      = excluded.reason
WHERE call_records.ended = 0`)
		if err != nil {
			return fmt.Errorf("call records: %w", err)
		}
		defer st.Close()
		for _, r := range recs {
			if _, err := st.ExecContext(ctx, r.CallID, r.Account, r.Kind, r.From, r.To, r.Node,
				nanos(r.Start), nanos(r.Answer), nanos(r.End), r.Duration.Milliseconds(), r.Reason); err != nil {
				return fmt.Errorf("call records: %w", err)
			}
		}
		return nil
	})
}

func (s callStore) List(ctx context.Context, q cdr.Query) ([]cdr.Record, error) {
	var where []string
	var args []any
	if q.Account != "" {
		args = append(args, q.Account)
		where = append(where, fmt.Sprintf("account = $%d", len(args)))
	}
	if !q.Since.IsZero() {
		args = append(args, q.Since.UnixNano())
		where = append(where, fmt.Sprintf("started >= $%d", len(args)))
	}
	args = append(args, q.LimitOf())
	query := `SELECT call_id, account, kind, from_number, to_number, node, started, answered, ended, duration_ms, reason FROM call_records`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf(" ORDER BY started DESC, id DESC LIMIT $%d", len(args))
	rows, err := s.d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("call records: %w", err)
	}
	defer rows.Close()
	var out []cdr.Record
	for rows.Next() {
		var r cdr.Record
		var start, answer, end, ms int64
		if err := rows.Scan(&r.CallID, &r.Account, &r.Kind, &r.From, &r.To, &r.Node, &start, &answer, &end, &ms, &r.Reason); err != nil {
			return nil, fmt.Errorf("call records: %w", err)
		}
		r.Start, r.Answer, r.End = fromNanos(start), fromNanos(answer), fromNanos(end)
		r.Duration = time.Duration(ms) * time.Millisecond
		out = append(out, r)
	}
	return out, rows.Err()
}

func (callStore) Close() error { return nil }

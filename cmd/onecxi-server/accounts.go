package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/onecxi/phone/internal/flagparse"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/accounts"
	"github.com/onecxi/phone/server/cdr"
	"github.com/onecxi/phone/server/sqlstore"
	"github.com/onecxi/phone/wire"
)

// InputError is bad input to a subcommand: which argument, what it was
// (quoted short: it may be a pasted key), and why it is wrong.
type InputError struct {
	Arg    string // the flag or argument, e.g. "-since"
	Value  string
	Reason string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Arg, wire.Quote(e.Value), e.Reason)
}

// openTimeout bounds opening (and migrating) the database.
const openTimeout = 30 * time.Second

// dbFlags are the flags that name the database a subcommand works on.
type dbFlags struct {
	config, database *string
}

func addDBFlags(fs *flag.FlagSet) dbFlags {
	return dbFlags{
		config:   fs.String("config", "", "JSON configuration `file`: its database, whose accounts it seeds first"),
		database: fs.String("database", "", "database `URL` (sqlite:<file> or postgres://…), overriding the configuration's"),
	}
}

// open opens the database the flags name, seeding a configuration's
// accounts into it as the server would at start.
func (f dbFlags) open(ctx context.Context, stderr io.Writer) (*sqlstore.DB, error) {
	var cfg server.Config
	if *f.config != "" {
		var err error
		if cfg, err = server.LoadConfig(*f.config); err != nil {
			return nil, err
		}
	}
	if *f.database != "" {
		cfg.Database = *f.database
	}
	if cfg.Database == "" {
		return nil, errors.New("no database: give -database sqlite:<file> or postgres://…, or a -config with a database")
	}
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	db, err := sqlstore.Open(octx, cfg.Database)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := server.SeedAccounts(ctx, db.Accounts(), cfg, log); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// didFlags collects -did DID=route.
type didFlags map[string]string

func (d didFlags) String() string { return "" }

func (d didFlags) Set(v string) error {
	// flag's error names the flag and quotes the value (short, through
	// flagparse): these say only what is wrong.
	did, route, ok := strings.Cut(v, "=")
	if !ok {
		return errors.New("not DID=route (90000=echo, 90050=ivr, 90100=app:1001)")
	}
	if err := server.CheckDIDs(map[string]string{did: route}); err != nil {
		return wire.QuoteError(err)
	}
	if _, dup := d[did]; dup {
		return fmt.Errorf("DID %s is given twice", wire.Quote(did))
	}
	d[did] = route
	return nil
}

const accountUsage = `usage: onecxi-server account add    [db flags] [-did DID=route]... NAME
       onecxi-server account rotate [db flags] [-keep] NAME
       onecxi-server account revoke [db flags] [-key ID] NAME
       onecxi-server account list   [db flags] [NAME]

Accounts and API key hashes in the configured database, changed while
servers run: a key added or rotated signs in at once, a revoked one is
refused on its next request (live calls go on to their end). add and rotate
print the new API key once; only its hash is stored.
db flags: -config file (its database; its accounts are seeded first) and/or
-database sqlite:<file>|postgres://…
`

// account is `onecxi-server account …`.
func account(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, accountUsage)
		return exitUsage
	}
	verb := args[0]
	fs := flag.NewFlagSet("onecxi-server account "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, accountUsage+"\nflags:\n")
		fs.PrintDefaults()
	}
	db := addDBFlags(fs)
	dids := didFlags{}
	var keep *bool
	var keyID *string
	switch verb {
	case "add":
		fs.Var(dids, "did", "a DID of the account and its route, `DID=route` (echo, ivr, app:<number>); repeatable")
	case "rotate":
		keep = fs.Bool("keep", false, "keep the account's other keys live (default: revoke them)")
	case "revoke":
		keyID = fs.String("key", "", "the `ID` of the key to revoke (account list shows them; default: every key)")
	case "list":
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, accountUsage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "onecxi-server account: %s is not add, rotate, revoke or list\n\n%s", wire.Quote(verb), accountUsage)
		return exitUsage
	}
	if err := flagparse.Parse(fs, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "onecxi-server account %s: %v\n", verb, err)
		return code
	}
	var name string
	switch {
	case fs.NArg() > 1:
		return fail(exitUsage, &InputError{Arg: "argument", Value: fs.Arg(1), Reason: "unexpected (one account NAME, after the flags)"})
	case fs.NArg() == 1:
		name = fs.Arg(0)
		if err := server.CheckAccountName(name); err != nil {
			return fail(exitUsage, &InputError{Arg: "NAME", Value: name, Reason: "is not 1-64 of A-Z a-z 0-9 . _ -"})
		}
	case verb != "list":
		return fail(exitUsage, errors.New("the account NAME is required (see -h)"))
	}
	if keyID != nil && *keyID != "" && !validKeyID(*keyID) {
		return fail(exitUsage, &InputError{Arg: "-key", Value: *keyID, Reason: fmt.Sprintf("is not a key ID (%d hex digits, as account list shows)", accounts.IDLen)})
	}
	d, err := db.open(ctx, stderr)
	if err != nil {
		return fail(exitUsage, err)
	}
	defer d.Close()
	st := d.Accounts()
	switch verb {
	case "add":
		if err := st.Create(ctx, accounts.Account{Name: name, DIDs: dids}); err != nil {
			return fail(exitFailure, err)
		}
		return newKey(ctx, st, name, stdout, stderr, "account "+name+" added")
	case "rotate":
		old, err := st.Keys(ctx, name)
		if err != nil {
			return fail(exitFailure, err)
		}
		if code := newKey(ctx, st, name, stdout, stderr, "new key for account "+name); code != exitOK {
			return code
		}
		if *keep {
			return exitOK
		}
		for _, k := range old {
			if !k.Live() {
				continue
			}
			if _, err := st.Revoke(ctx, name, k.ID); err != nil && !errors.Is(err, accounts.ErrNoKey) {
				return fail(exitFailure, err)
			}
			fmt.Fprintf(stdout, "revoked key %s\n", k.ID)
		}
		return exitOK
	case "revoke":
		n, err := st.Revoke(ctx, name, *keyID)
		if err != nil {
			return fail(exitFailure, err)
		}
		fmt.Fprintf(stdout, "revoked %d key(s) of account %s: refused from the next request on; live calls go on to their end\n", n, name)
		return exitOK
	}
	return listAccounts(ctx, st, name, stdout, stderr)
}

func validKeyID(s string) bool {
	if len(s) != accounts.IDLen {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// newKey makes a key for the account, stores its hash and prints the key
// once, on stdout.
func newKey(ctx context.Context, st accounts.Store, name string, stdout, stderr io.Writer, what string) int {
	key := server.GenerateKey()
	k, err := st.AddKey(ctx, name, sha256.Sum256([]byte(key)))
	if err != nil {
		fmt.Fprintf(stderr, "onecxi-server account: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "%s\n  key ID:   %s\n  API key:  %s\n(shown once: only its hash is stored)\n", what, k.ID, key)
	return exitOK
}

func listAccounts(ctx context.Context, st accounts.Store, name string, stdout, stderr io.Writer) int {
	var list []accounts.Account
	if name != "" {
		a, _, err := st.Lookup(ctx, name)
		if err != nil {
			fmt.Fprintf(stderr, "onecxi-server account list: %v\n", err)
			return exitFailure
		}
		list = []accounts.Account{a}
	} else {
		var err error
		if list, err = st.List(ctx); err != nil {
			fmt.Fprintf(stderr, "onecxi-server account list: %v\n", err)
			return exitFailure
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tKEY ID\tCREATED\tREVOKED\tDIDS")
	for _, a := range list {
		keys, err := st.Keys(ctx, a.Name)
		if err != nil {
			fmt.Fprintf(stderr, "onecxi-server account list: %v\n", err)
			return exitFailure
		}
		var plan []string
		for _, did := range slices.Sorted(maps.Keys(a.DIDs)) {
			plan = append(plan, did+"="+a.DIDs[did])
		}
		didText := strings.Join(plan, " ")
		if len(keys) == 0 {
			fmt.Fprintf(tw, "%s\t-\t\t\t%s\n", a.Name, didText)
		}
		for i, k := range keys {
			revoked := "-"
			if !k.Live() {
				revoked = k.Revoked.UTC().Format(time.RFC3339)
			}
			if i > 0 {
				didText = ""
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, k.ID, k.Created.UTC().Format(time.RFC3339), revoked, didText)
		}
	}
	_ = tw.Flush()
	return exitOK
}

// calls is `onecxi-server calls`: the call detail records, newest first.
func calls(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("onecxi-server calls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: onecxi-server calls [-config f | -database URL] [-account A] [-since 24h|2026-03-01|RFC 3339] [-limit N]\n\nCall detail records in the configured database, newest first.\n\nflags:\n")
		fs.PrintDefaults()
	}
	db := addDBFlags(fs)
	var (
		acct  = fs.String("account", "", "only this account's calls")
		since = fs.String("since", "", "only calls started since: a `time` (RFC 3339, or a date 2006-01-02, UTC) or a duration back from now (24h)")
		limit = fs.Int("limit", cdr.DefaultLimit, "at most `N` calls (1-100000)")
	)
	if err := flagparse.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "onecxi-server calls: %v\n", err)
		return code
	}
	if fs.NArg() > 0 {
		return fail(exitUsage, &InputError{Arg: "argument", Value: fs.Arg(0), Reason: "unexpected (see -h)"})
	}
	q := cdr.Query{Account: *acct, Limit: *limit}
	if *acct != "" && server.CheckAccountName(*acct) != nil {
		return fail(exitUsage, &InputError{Arg: "-account", Value: *acct, Reason: "is not 1-64 of A-Z a-z 0-9 . _ -"})
	}
	if *limit < 1 || *limit > 100_000 {
		return fail(exitUsage, &InputError{Arg: "-limit", Value: strconv.Itoa(*limit), Reason: "is not 1-100000"})
	}
	if *since != "" {
		t, err := parseSince(*since, time.Now())
		if err != nil {
			return fail(exitUsage, err)
		}
		q.Since = t
	}
	d, err := db.open(ctx, stderr)
	if err != nil {
		return fail(exitUsage, err)
	}
	defer d.Close()
	recs, err := d.Calls().List(ctx, q)
	if err != nil {
		return fail(exitFailure, err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tACCOUNT\tKIND\tFROM\tTO\tANSWERED\tTALK\tEND REASON\tNODE\tCALL ID")
	for _, r := range recs {
		answered := "-"
		if !r.Answer.IsZero() {
			answered = r.Answer.Sub(r.Start).Round(time.Millisecond).String() + " after"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Start.UTC().Format("2006-01-02T15:04:05.000Z"), r.Account, r.Kind,
			r.From, r.To, answered, r.Duration.Round(time.Millisecond), r.Reason, r.Node, r.CallID)
	}
	_ = tw.Flush()
	return exitOK
}

// parseSince reads -since: a duration back from now, an RFC 3339 time or a
// date (UTC).
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, &InputError{Arg: "-since", Value: s, Reason: "a duration back from now is positive (24h)"}
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, &InputError{Arg: "-since", Value: s, Reason: "is not a duration (24h), an RFC 3339 time or a date 2006-01-02"}
}

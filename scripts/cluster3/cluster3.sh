#!/usr/bin/env bash
# A 3-node OneCxi cluster on one machine: the worked example of
# docs/deploy.md.
#
#   scripts/cluster3/cluster3.sh up       start it: NATS x3, PostgreSQL, 3 nodes, HAProxy (TLS)
#   scripts/cluster3/cluster3.sh verify   check it: calls over TLS, call records, a cross-node
#                                         app call, a rolling restart with an app call up (hand-over),
#                                         the auth back-off behind HAProxy, a lost node, a lost NATS server
#   scripts/cluster3/cluster3.sh down     stop it and remove the work directory
#   scripts/cluster3/cluster3.sh down -keep   stop it, keep the work directory (logs)
#
# Everything lives under one work directory (CLUSTER3_DIR, default
# /tmp/onecxi-cluster3) and on private loopback ports from CLUSTER3_PORT_BASE
# (default 18400) up; no system service is used (installing missing packages
# aside: see below). The binaries are
# taken from CLUSTER3_BIN (default: the repository's bin/), as
# `make cluster-example` builds them:
#
#   GOWORK=off go build -o bin/onecxi-server ./cmd/onecxi-server
#   GOWORK=off go build -o bin/onecxi-cli ./cmd/onecxi-cli
#
# Missing Debian packages (nats-server, haproxy, postgresql, openssl, curl)
# are installed when run as root; otherwise the apt-get command is printed
# and the script fails. As root, PostgreSQL runs as the postgres system user
# (it refuses to run as root).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=${CLUSTER3_DIR:-/tmp/onecxi-cluster3}
BIN=${CLUSTER3_BIN:-$REPO/bin}
BASE=${CLUSTER3_PORT_BASE:-18400}

# Ports, all on 127.0.0.1.
nats_port()    { echo $((BASE + 20 + $1)); }   # NATS clients: 18421-18423
route_port()   { echo $((BASE + 30 + $1)); }   # NATS cluster routes: 18431-18433
natsmon_port() { echo $((BASE + 40 + $1)); }   # NATS monitoring: 18441-18443
PG_PORT=$((BASE + 50))                          # PostgreSQL: 18450
call_port()    { echo $((BASE + 60 + $1)); }   # node call listeners (plain HTTP): 18461-18463
metrics_port() { echo $((BASE + 70 + $1)); }   # node metrics listeners: 18471-18473
LB_PORT=$((BASE + 80))                          # HAProxy, TLS: 18480 (the cluster's address)
STATS_PORT=$((BASE + 81))                       # HAProxy status page: 18481
NODES=(1 2 3)
LB_URL=https://127.0.0.1:$LB_PORT

PACKAGES=(nats-server haproxy postgresql openssl curl)

step() { printf '\n==> %s\n' "$*"; }
say()  { printf '    %s\n' "$*"; }
die()  { printf 'cluster3: FAILED: %s\n' "$*" >&2; exit 1; }
# run: echo a command, then run it.
run()  { printf '    $ %s\n' "$*"; "$@"; }
# run_pg: run, as the PostgreSQL cluster's owner (as_pg).
run_pg() {
	if (( $(id -u) == 0 )); then printf '    $ runuser -u postgres -- %s\n' "$*"; else printf '    $ %s\n' "$*"; fi
	as_pg "$@"
}

# now_ms: milliseconds since the epoch, for the timings printed.
now_ms() { date +%s%3N; }
since()  { local t0=$1; awk -v d=$(( $(now_ms) - t0 )) 'BEGIN { printf "%.1f s", d / 1000 }'; }

# wait_for SECONDS DESCRIPTION COMMAND...: retry COMMAND every 0.2 s until
# it succeeds, or fail after SECONDS.
wait_for() {
	local limit=$1 what=$2; shift 2
	local deadline=$(( $(now_ms) + limit * 1000 ))
	until "$@" >/dev/null 2>&1; do
		if (( $(now_ms) > deadline )); then
			die "$what: not after ${limit}s"
		fi
		sleep 0.1
	done
}

# ---------------------------------------------------------------- packages

pg_bin_dir() {
	local d
	for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k4 -n -r); do
		if [[ -x $d/pg_ctl ]]; then echo "$d"; return 0; fi
	done
	return 1
}

ensure_packages() {
	step "Debian packages: ${PACKAGES[*]}"
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	if (( ${#missing[@]} == 0 )); then
		say "all installed"
		return 0
	fi
	say "missing: ${missing[*]}"
	if (( $(id -u) != 0 )); then
		say "install them with:"
		say "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
		die "missing Debian packages"
	fi
	run apt-get update -q
	DEBIAN_FRONTEND=noninteractive run apt-get install -y -q --no-install-recommends "${missing[@]}"
	# Debian starts a system-wide PostgreSQL cluster or HAProxy when it
	# installs them. This example uses neither: stop what the install just
	# started (only what it started).
	for p in "${missing[@]}"; do
		case $p in postgresql|haproxy|nats-server) ;; *) continue ;; esac
		if [[ -d /run/systemd/system ]]; then
			if systemctl is-enabled --quiet "$p" 2>/dev/null; then
				run systemctl disable --now "$p"
			fi
		elif [[ -x /etc/init.d/$p ]]; then
			run /etc/init.d/"$p" stop || true
		fi
	done
}

check_tools() {
	command -v nats-server >/dev/null || die "nats-server not found (Debian package nats-server)"
	command -v haproxy >/dev/null || die "haproxy not found (Debian package haproxy)"
	command -v openssl >/dev/null || die "openssl not found"
	command -v curl >/dev/null || die "curl not found"
	PG_BIN=$(pg_bin_dir) || die "PostgreSQL server binaries (/usr/lib/postgresql/*/bin) not found (Debian package postgresql)"
	[[ -x $BIN/onecxi-server && -x $BIN/onecxi-cli ]] ||
		die "$BIN/onecxi-server and $BIN/onecxi-cli are needed: make cluster-example builds them, or run
    GOWORK=off go build -o bin/onecxi-server ./cmd/onecxi-server
    GOWORK=off go build -o bin/onecxi-cli ./cmd/onecxi-cli"
}

# ---------------------------------------------------------------- helpers

# as_pg: run a PostgreSQL command as the cluster's owner (postgres when we
# are root: PostgreSQL refuses to run as root).
as_pg() {
	if (( $(id -u) == 0 )); then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# fill TEMPLATE OUT VAR=value...: replace every @VAR@ in TEMPLATE.
fill() {
	local in=$1 out=$2; shift 2
	local args=() kv
	for kv in "$@"; do
		args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
	done
	sed "${args[@]}" "$in" >"$out"
	if grep -q '@[A-Z_0-9]*@' "$out"; then
		die "$out: unfilled $(grep -o '@[A-Z_0-9]*@' "$out" | sort -u | tr '\n' ' ')"
	fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start NAME LOGFILE COMMAND...: start a process in the background, its
# output to LOGFILE, its PID in $WORK/run/NAME.pid.
start() {
	local name=$1 log=$2; shift 2
	printf '    $ %s >%s 2>&1 &\n' "$*" "${log#"$WORK"/}"
	"$@" </dev/null >>"$log" 2>&1 &
	echo $! >"$WORK/run/$name.pid"
	disown $!  # no job notices from bash; cluster3.sh down stops it
}

pid_of() { cat "$WORK/run/$1.pid" 2>/dev/null; }
# ours PID: the process runs and is one of ours (its command line names the
# work directory), not another that took a stale PID.
ours()   { [[ -n $1 ]] && kill -0 "$1" 2>/dev/null && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "$WORK/"; }
alive()  { local p; p=$(pid_of "$1") && ours "$p"; }
not_alive() { ! alive "$1"; }

load_env() {
	[[ -f $WORK/cluster3.env ]] || die "$WORK/cluster3.env not found: run cluster3.sh up first"
	# shellcheck source=/dev/null
	source "$WORK/cluster3.env"
}

metric() { # metric NODE NAME: the sum of a metric's samples on a node
	curl -fsS "http://127.0.0.1:$(metrics_port "$1")/metrics" |
		awk -v m="$2" '$1 == m || index($1, m "{") == 1 { s += $2; n++ } END { if (n) print s + 0; else exit 1 }'
}
readyz()    { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(metrics_port "$1")/readyz"; }
lb_status() { # lb_status NODE: HAProxy's status of a node (UP, DOWN, …)
	curl -fsS "http://127.0.0.1:$STATS_PORT/;csv" |
		awk -F, -v s="call-$1" '$1 == "nodes" && $2 == s { split($18, a, " "); print a[1] }'
}
sees_nodes() { [[ $(metric "$1" onecxi_cluster_nodes) == "$2" ]]; }
all_see()    { local i; for i in "${NODES[@]}"; do sees_nodes "$i" "$1" || return 1; done; }
lb_is()      { [[ $(lb_status "$1") == "$2" ]]; }
ready_is()   { [[ $(readyz "$1") == "$2" ]]; }
calls_on()   { metric "$1" onecxi_calls; }
has_call()   { (( $(calls_on "$1") > 0 )); }

# ---------------------------------------------------------------- node

start_node() {
	local i=$1
	start "node-$i" "$WORK/node-$i/log" "$BIN/onecxi-server" -config "$WORK/node-$i/config.json"
}

wait_node_ready() {
	local i=$1
	wait_for 30 "node call-$i /readyz 200" ready_is "$i" 200
}

# ---------------------------------------------------------------- up

cmd_up() {
	if [[ -e $WORK ]]; then
		step "A previous run's $WORK exists: taking it down first"
		cmd_down
	fi
	ensure_packages
	check_tools
	local t_up i p
	t_up=$(now_ms)
	# On failure, say how to stop what was started.
	trap 'rc=$?; (( rc == 0 )) || echo "cluster3: up failed; stop what it started with: $0 down (down -keep keeps the logs)" >&2' EXIT

	step "Work directory $WORK, ports $((BASE + 21))-$((BASE + 81)) on 127.0.0.1"
	for p in $(nats_port 1) $(nats_port 2) $(nats_port 3) $(route_port 1) $(route_port 2) $(route_port 3) \
		$(natsmon_port 1) $(natsmon_port 2) $(natsmon_port 3) "$PG_PORT" \
		$(call_port 1) $(call_port 2) $(call_port 3) $(metrics_port 1) $(metrics_port 2) $(metrics_port 3) \
		"$LB_PORT" "$STATS_PORT"; do
		port_free "$p" || die "port $p is in use: set CLUSTER3_PORT_BASE to another base (now $BASE)"
	done
	mkdir -p "$WORK"/{run,tls,pg,haproxy,nats-1,nats-2,nats-3,node-1,node-2,node-3}
	chmod 755 "$WORK"
	chmod 700 "$WORK"/{tls,haproxy,nats-1,nats-2,nats-3,node-1,node-2,node-3}
	# Secrets of this run, in a file only its owner reads.
	local nats_pw route_pw pg_pw
	nats_pw=$(openssl rand -hex 16)
	route_pw=$(openssl rand -hex 16)
	pg_pw=$(openssl rand -hex 16)
	local db_url="postgres://onecxi:$pg_pw@127.0.0.1:$PG_PORT/onecxi?sslmode=disable"
	umask 077
	cat >"$WORK/cluster3.env" <<-EOF
		BASE=$BASE
		DB_URL='$db_url'
	EOF
	umask 022
	say "secrets (NATS and PostgreSQL passwords) are random, in files only their owner reads"

	step "1/6 NATS: a cluster of three servers (client ports $(nats_port 1)-$(nats_port 3), routes $(route_port 1)-$(route_port 3))"
	for i in "${NODES[@]}"; do
		fill "$HERE/nats.conf.in" "$WORK/nats-$i/nats.conf" I="$i" \
			CLIENT_PORT="$(nats_port "$i")" CLUSTER_PORT="$(route_port "$i")" MONITOR_PORT="$(natsmon_port "$i")" \
			NATS_PASSWORD="$nats_pw" ROUTE_PASSWORD="$route_pw" \
			CLUSTER_PORT_1="$(route_port 1)" CLUSTER_PORT_2="$(route_port 2)" CLUSTER_PORT_3="$(route_port 3)"
		start "nats-$i" "$WORK/nats-$i/log" nats-server -c "$WORK/nats-$i/nats.conf"
	done
	for i in "${NODES[@]}"; do
		wait_for 20 "NATS $i: 2 routes" nats_routes_are "$i" 2
	done
	say "each NATS server has 2 routes (/routez)"

	step "2/6 PostgreSQL: a private cluster in $WORK/pg on port $PG_PORT"
	if (( $(id -u) == 0 )); then
		id postgres >/dev/null 2>&1 || die "the postgres system user is missing (the postgresql package makes it)"
		chown postgres: "$WORK/pg"
	fi
	chmod 700 "$WORK/pg"
	# The superuser is the cluster's owner (postgres, or you when not root):
	# peer authentication lets only that system user in over the socket.
	local pg_super=postgres
	(( $(id -u) == 0 )) || pg_super=$(id -un)
	as_pg "$PG_BIN/initdb" -D "$WORK/pg/data" -U "$pg_super" --auth-local=peer --auth-host=scram-sha-256 \
		-E UTF8 --locale=C.UTF-8 --no-sync >"$WORK/pg/initdb.log" 2>&1 ||
		{ cat "$WORK/pg/initdb.log"; die "initdb"; }
	say "\$ $( (( $(id -u) == 0 )) && echo 'runuser -u postgres -- ')$PG_BIN/initdb -D pg/data -U $pg_super --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8"
	run_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w -t 60 \
		-o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1" start
	# The role's password goes in through psql's variable, not the command line.
	say "\$ psql: CREATE ROLE onecxi LOGIN PASSWORD '…'; CREATE DATABASE onecxi OWNER onecxi"
	as_pg "$PG_BIN/psql" -h "$WORK/pg" -p "$PG_PORT" -U "$pg_super" -d postgres -v ON_ERROR_STOP=1 -q -v pw="$pg_pw" <<-'EOF'
		CREATE ROLE onecxi LOGIN PASSWORD :'pw';
		CREATE DATABASE onecxi OWNER onecxi;
	EOF

	step "3/6 TLS: a self-signed certificate for 127.0.0.1 and localhost (HAProxy terminates TLS)"
	run openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
		-subj "/CN=onecxi-cluster3" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" 2>/dev/null
	cat "$WORK/tls/cert.pem" "$WORK/tls/key.pem" >"$WORK/tls/lb.pem"
	chmod 644 "$WORK/tls/cert.pem"
	say "clients trust $WORK/tls/cert.pem (onecxi-cli: SSL_CERT_FILE=…/cert.pem)"

	step "4/6 Three onecxi-server nodes call-1..3 (calls on $(call_port 1)-$(call_port 3), metrics on $(metrics_port 1)-$(metrics_port 3))"
	for i in "${NODES[@]}"; do
		fill "$HERE/node.json.in" "$WORK/node-$i/config.json" I="$i" \
			LISTEN_PORT="$(call_port "$i")" METRICS_PORT="$(metrics_port "$i")" \
			PG_PASSWORD="$pg_pw" PG_PORT="$PG_PORT" NATS_PASSWORD="$nats_pw" \
			NATS_PORT_1="$(nats_port 1)" NATS_PORT_2="$(nats_port 2)" NATS_PORT_3="$(nats_port 3)"
		chmod 600 "$WORK/node-$i/config.json"
	done
	say "node-1/config.json (passwords shown as …):"
	local t_nodes
	sed -E 's/(onecxi:)[0-9a-f]{32}@/\1…@/g' "$WORK/node-1/config.json" | sed 's/^/      /'
	# All three at once, on the empty database: the schema's migrations run
	# under a PostgreSQL advisory lock, so one node creates it and the others
	# wait for it.
	t_nodes=$(now_ms)
	for i in "${NODES[@]}"; do
		start_node "$i"
	done
	for i in "${NODES[@]}"; do
		wait_node_ready "$i"
	done
	wait_for 15 "every node sees 3 nodes" all_see 3
	say "all three ready (/readyz 200) and each sees 3 cluster nodes ($(since "$t_nodes") after their start, together on the empty database)"

	step "5/6 HAProxy on $LB_URL (TLS), health checks GET /readyz, status page http://127.0.0.1:$STATS_PORT/"
	fill "$HERE/haproxy.cfg.in" "$WORK/haproxy/haproxy.cfg" WORK="$WORK" LB_PORT="$LB_PORT" STATS_PORT="$STATS_PORT" \
		LISTEN_PORT_1="$(call_port 1)" LISTEN_PORT_2="$(call_port 2)" LISTEN_PORT_3="$(call_port 3)"
	run haproxy -c -q -f "$WORK/haproxy/haproxy.cfg"
	start haproxy "$WORK/haproxy/log" haproxy -db -f "$WORK/haproxy/haproxy.cfg"
	sleep 0.5
	alive haproxy || { sed 's/^/      | /' "$WORK/haproxy/log"; die "haproxy exited"; }
	for i in "${NODES[@]}"; do
		wait_for 15 "HAProxy: call-$i UP" lb_is "$i" UP
	done
	say "HAProxy sees call-1, call-2, call-3 UP"

	step "6/6 An account with DIDs, made while the nodes run (onecxi-server account add)"
	printf '    $ %s\n' "onecxi-server account add -database 'postgres://onecxi:…@127.0.0.1:$PG_PORT/onecxi?sslmode=disable' -did 90000=echo -did 90050=ivr acme"
	local out key
	out=$("$BIN/onecxi-server" account add -database "$db_url" -did 90000=echo -did 90050=ivr acme)
	key=$(sed -n 's/^ *API key: *//p' <<<"$out")
	[[ $key == ocx_* ]] || die "account add printed no API key"
	sed -E 's/(API key: *ocx_.{4}).*/\1… (kept in cluster3.env)/' <<<"$out" | sed 's/^/      /'
	umask 077
	printf "ONECXI_API_KEY='%s'\n" "$key" >>"$WORK/cluster3.env"
	umask 022

	step "Up in $(since "$t_up"): $LB_URL, account acme, DIDs 90000 (echo) and 90050 (IVR)"
	say "API key: source $WORK/cluster3.env (ONECXI_API_KEY); CA: $WORK/tls/cert.pem"
	trap - EXIT
}

nats_conns() { # nats_conns I: client connections to NATS server I
	curl -fsS "http://127.0.0.1:$(natsmon_port "$1")/varz" | sed -n 's/.*"connections": *\([0-9]*\).*/\1/p'
}

nats_routes_are() {
	[[ $(curl -fsS "http://127.0.0.1:$(natsmon_port "$1")/routez" | sed -n 's/.*"num_routes": *\([0-9]*\).*/\1/p') == "$2" ]]
}

# ---------------------------------------------------------------- verify

show() { sed 's/^/      | /' "$1"; }

# cli LOG URL NUMBER ARGS...: onecxi-cli as NUMBER of account acme against
# URL (HAProxy over TLS, checked against our certificate, or one node
# straight in plain HTTP); its output to LOG.
cli() {
	local log=$1 url=$2 num=$3; shift 3
	SSL_CERT_FILE=$WORK/tls/cert.pem ONECXI_API_KEY=$ONECXI_API_KEY \
		"$BIN/onecxi-cli" -server "$url" -account acme -number "$num" "$@" >"$log" 2>&1
}
node_url() { echo "http://127.0.0.1:$(call_port "$1")"; }

# Background onecxi-cli processes of verify, stopped (by their PIDs) if
# verify fails half-way.
BG_PIDS=()
bg_cli() { # bg_cli VAR LOG URL NUMBER ARGS...: cli in the background, its PID in VAR
	local var=$1 log=$2 url=$3 num=$4; shift 4
	(
		export SSL_CERT_FILE=$WORK/tls/cert.pem ONECXI_API_KEY=$ONECXI_API_KEY
		exec "$BIN/onecxi-cli" -server "$url" -account acme -number "$num" "$@" >"$log" 2>&1
	) &
	BG_PIDS+=($!)
	printf -v "$var" '%s' "$!"
}
# is_cli PID: PID runs and is an onecxi-cli (not another process that took a stale PID).
is_cli() { [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q "^$BIN/onecxi-cli "; }
stop_bg() {
	local p
	for p in "${BG_PIDS[@]}"; do
		if is_cli "$p"; then kill -TERM "$p" 2>/dev/null || true; fi
	done
}
# not_running PID: the process has exited (or is a zombie not yet reaped).
not_running() { ! kill -0 "$1" 2>/dev/null || [[ $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) == Z ]]; }
# at_ms LOG REGEX: when (ms since the epoch) the CLI printed the first line
# matching REGEX: its begin line's wall-clock time plus the line's seconds.
at_ms() {
	local begin s
	begin=$(sed -n '1s/.*begin *\([0-9-]* [0-9:.]* UTC\).*/\1/p' "$1")
	s=$(secs "$1" "$2")
	[[ -n $begin && -n $s ]] || return 1
	awk -v b="$(date -u -d "$begin" +%s%3N)" -v s="$s" 'BEGIN { printf "%.0f", b + s * 1000 }'
}
# after T0 T1: T1 - T0 (ms since the epoch) in seconds, "3.2 s".
after() { awk -v d=$(( $2 - $1 )) 'BEGIN { printf "%.1f s", d / 1000 }'; }

# echo_call LOG DURATION: an echo call through HAProxy over TLS, checked
# against our certificate; its output to LOG. Fails unless the call ended
# normally and echoed audio came back.
echo_call() {
	cli "$1" "$LB_URL" 1001 -duration "$2" inbound 90000
}

# received LOG: audio frames the CLI received (the echo's, or the far end's).
received() { sed -n 's/.*audio in: *\([0-9]*\) frames.*/\1/p' "$1"; }
echoed() { received "$1"; }

check_echo() { # check_echo LOG: the call ended normally with echoed audio
	local log=$1 n
	grep -q 'ended: hangup' "$log" || { show "$log"; die "call in ${log#"$WORK"/} did not end with hangup"; }
	n=$(echoed "$log")
	if [[ -z $n ]] || (( n == 0 )); then
		show "$log"
		die "call in ${log#"$WORK"/}: no echoed audio"
	fi
}

# check_heard LOG MIN: the CLI received at least MIN audio frames.
check_heard() {
	local n
	n=$(received "$1")
	if [[ -z $n ]] || (( n < $2 )); then
		show "$1"
		die "${1#"$WORK"/}: received ${n:-no} audio frames, expected at least $2"
	fi
}

# call_id LOG: the call's ID, as the CLI printed it.
call_id() { grep -o -m1 'c_[0-9a-f]\{24\}' "$1"; }
# secs LOG REGEX: the CLI's time (seconds since it began) of the first line matching REGEX.
secs() { awk -v re="$2" '$0 ~ re { sub(/s$/, "", $1); print $1; exit }' "$1"; }

# gaps LOG: each time this side's connection was lost and resumed.
gaps() {
	awk '/reconnect +the call.s connection was lost/ { sub(/s$/, "", $1); t = $1 }
		/resumed +the call is back/ { sub(/s$/, "", $1); if (t != "") printf "lost at %.3fs, resumed at %.3fs: %d ms\n", t, $1, ($1 - t) * 1000 + 0.5; t = "" }
		END { if (t != "") printf "lost at %.3fs, not resumed\n", t }' "$1"
}

# The call records (onecxi-server calls).
cdr_list() { "$BIN/onecxi-server" calls -database "$DB_URL" -account acme -since 1h -limit 1000; }
# cdr_of ID: "REASON NODES" of a call's record; REASON is - while it is open.
cdr_of() {
	cdr_list | awk -v id="$1" '$NF == id { r = $(NF-2); if (r !~ /^[a-z_]+$/) r = "-"; print r, $(NF-1) }'
}
cdr_is()    { [[ $(cdr_of "$1") == "$2" ]]; }
cdr_reason_is() { [[ $(cdr_of "$1" | cut -d' ' -f1) == "$2" ]]; }
cdr_known() { [[ -n $(cdr_of "$1") ]]; }
cdr_show()  { cdr_list | awk -v id="$1" 'NR == 1 || $NF == id' | sed 's/^/      /'; }

# drain_watch I T0 UNTIL: after SIGTERM of node I at T0 (ms), poll every
# 50 ms until UNTIL (down: HAProxy has it DOWN; exit: it has also exited),
# noting when /readyz first answered 503 (T_503), HAProxy had it DOWN
# (T_DOWN) and it had exited (T_EXIT).
drain_watch() {
	local i=$1 t0=$2 until=$3 now
	while :; do
		now=$(now_ms)
		if [[ -z $T_EXIT ]] && not_alive "node-$i"; then T_EXIT=$now; fi
		if [[ -z $T_503 && -z $T_EXIT ]] && ready_is "$i" 503; then T_503=$now; fi
		if [[ -z $T_DOWN ]] && lb_is "$i" DOWN; then T_DOWN=$now; fi
		if [[ -n $T_DOWN ]] && [[ $until == down || -n $T_EXIT ]]; then return 0; fi
		(( now - t0 < 40000 )) || die "call-$i: not $until 40 s after SIGTERM"
		sleep 0.05
	done
}

# log_since NODE LINES: node NODE's log after its first LINES lines.
log_since() { tail -n "+$(( $2 + 1 ))" "$WORK/node-$1/log"; }
log_lines() { wc -l <"$WORK/node-$1/log"; }

# restart_node I: start node I again; wait until it is ready, HAProxy has it
# UP and every node sees 3.
restart_node() {
	local i=$1 t0
	t0=$(now_ms)
	start_node "$i"
	wait_node_ready "$i"
	wait_for 15 "HAProxy: call-$i UP" lb_is "$i" UP
	wait_for 15 "every node sees 3 nodes" all_see 3
	say "call-$i back: ready, HAProxy UP, 3 nodes seen everywhere, $(since "$t0") after the restart"
}

# others_see N EXCEPT: every node but EXCEPT sees N nodes.
others_see() {
	local n
	for n in "${NODES[@]}"; do
		[[ $n == "$2" ]] && continue
		sees_nodes "$n" "$1" || return 1
	done
}

# listen_on LOG URL NUMBER: a callee that answers one app call to NUMBER,
# playing a 1004 Hz tone, until the far end hangs up; its PID in LISTEN_PID.
listen_on() {
	bg_cli LISTEN_PID "$1" "$2" "$3" -in tone:1004 -duration 0 listen
	wait_for 10 "${1#"$WORK"/}: listening" grep -q 'listening' "$1"
}

verify_cross_node() {
	step "A cross-node app-to-app call: caller straight to call-1, callee straight to call-2 (not through HAProxy)"
	local callee=$WORK/run/x-callee.log caller=$WORK/run/x-caller.log id i
	printf '    $ %s\n' "onecxi-cli -server $(node_url 2) -account acme -number 2002 -in tone:1004 -duration 0 listen &"
	listen_on "$callee" "$(node_url 2)" 2002
	printf '    $ %s\n' "onecxi-cli -server $(node_url 1) -account acme -number 2001 -in tone:440 -duration 4s app 2002"
	cli "$caller" "$(node_url 1)" 2001 -in tone:440 -duration 4s app 2002 ||
		{ show "$caller"; show "$callee"; die "the cross-node call failed"; }
	wait "$LISTEN_PID" || { show "$callee"; die "the callee on call-2 failed"; }
	grep -q 'ended: hangup' "$caller" || { show "$caller"; die "the caller's call did not end with hangup"; }
	grep -Eq 'ended: (remote_)?hangup' "$callee" || { show "$callee"; die "the callee's call did not end with the caller's hang-up"; }
	check_heard "$caller" 100
	check_heard "$callee" 100
	say "caller (2001 on call-1):"
	grep -E 'ringing|started|stats +(call|audio)|quality:' "$caller" | sed 's/^/      /'
	say "callee (2002 on call-2):"
	grep -E 'incoming|stats +(call|audio)|quality:' "$callee" | sed 's/^/      /'
	id=$(call_id "$caller")
	wait_for 10 "the record of $id: hangup on call-1,call-2" cdr_is "$id" "hangup call-1,call-2"
	say "audio both ways ($(received "$caller") and $(received "$callee") frames received); across the nodes (/metrics):"
	for i in 1 2; do
		curl -fsS "http://127.0.0.1:$(metrics_port "$i")/metrics" | awk -v n="call-$i" '
			/^onecxi_bridge_frames_total/ { match($1, /direction="[a-z]*"/); d = substr($1, RSTART + 11, RLENGTH - 12); f = f sprintf(" %s %d,", d, $2) }
			$1 == "onecxi_bridge_relay_delay_seconds_sum" { s = $2 } $1 == "onecxi_bridge_relay_delay_seconds_count" { c = $2 }
			END { sub(/,$/, "", f); printf "      %s: bridge frames%s; relay delay from the other node: mean %.2f ms over %d frames\n", n, f, c ? s / c * 1000 : 0, c }'
	done
	say "the call's record (home first):"
	cdr_show "$id"
}

verify_rolling() {
	step "Rolling restart with an app-to-app call up: two onecxi-cli through HAProxy; call-1, call-2, call-3 restarted in turn"
	local callee=$WORK/run/roll-callee.log caller=$WORK/run/roll-caller.log id home i t0 lines pid_caller
	local pid_callee dur=30 lb_lines
	lb_lines=$(wc -l <"$WORK/haproxy/log")
	printf '    $ %s\n' "onecxi-cli -server $LB_URL -account acme -number 2102 -in tone:1004 -duration 0 listen &"
	listen_on "$callee" "$LB_URL" 2102
	pid_callee=$LISTEN_PID
	printf '    $ %s\n' "onecxi-cli -server $LB_URL -account acme -number 2101 -in tone:440 -duration ${dur}s app 2102 &"
	bg_cli pid_caller "$caller" "$LB_URL" 2101 -in tone:440 -duration "${dur}s" app 2102
	wait_for 10 "the app call answered" grep -Eq 'status +active' "$caller"
	id=$(call_id "$caller")
	wait_for 10 "the record of $id" cdr_known "$id"
	home=$(cdr_of "$id" | awk '{ split($2, n, ","); sub(/^call-/, "", n[1]); print n[1] }')
	say "call $id is up; its home is call-$home (its record, written at the answer: $(cdr_of "$id" | cut -d' ' -f2))"
	local order=("$home")
	for i in "${NODES[@]}"; do [[ $i == "$home" ]] || order+=("$i"); done
	local last=${order[2]} echo_pid="" echo_log=$WORK/run/roll-echo.log
	local -A adopted=()
	for i in "${NODES[@]}"; do adopted[$i]=$(grep -c "call adopted from a draining node.*$id" "$WORK/node-$i/log" || true); done
	for i in "${order[@]}"; do
		if [[ $i == "$home" ]]; then
			step "Rolling restart, node call-$i: the app call's home"
		else
			step "Rolling restart, node call-$i"
		fi
		if [[ $i == "$last" ]]; then
			say "an echo call straight to call-$i, which cannot move (the server is its far end):"
			printf '    $ %s\n' "onecxi-cli -server $(node_url "$i") -account acme -number 1001 -duration 6s inbound 90000 &"
			bg_cli echo_pid "$echo_log" "$(node_url "$i")" 1001 -duration 6s inbound 90000
			wait_for 10 "the echo call on call-$i answered" grep -Eq 'status +active' "$echo_log"
		fi
		lines=$(log_lines "$i")
		t0=$(now_ms)
		run kill -TERM "$(pid_of "node-$i")"
		T_503="" T_DOWN="" T_EXIT=""
		if [[ $i == "$last" ]]; then
			drain_watch "$i" "$t0" down
			say "call-$i /readyz: 503 after $(after "$t0" "$T_503"); HAProxy: DOWN after $(after "$t0" "$T_DOWN")"
			[[ -z $T_EXIT ]] || die "call-$i exited before its echo call ended"
			echo_call "$WORK/run/call-during-drain.log" 1s ||
				{ show "$WORK/run/call-during-drain.log"; die "a new call during call-$i's drain failed"; }
			check_echo "$WORK/run/call-during-drain.log"
			say "a new call through HAProxy while call-$i drains: ok"
			drain_watch "$i" "$t0" exit
		else
			drain_watch "$i" "$t0" exit
			if [[ -n $T_503 ]]; then
				say "call-$i /readyz: 503 after $(after "$t0" "$T_503"); HAProxy: DOWN after $(after "$t0" "$T_DOWN")"
			else
				say "call-$i: exited before the first look at /readyz; HAProxy: DOWN after $(after "$t0" "$T_DOWN")"
			fi
		fi
		say "call-$i exited $(after "$t0" "$T_EXIT") after SIGTERM; its log:"
		log_since "$i" "$lines" | grep -E 'drain|moving bridged|handed over|shutting down' | cut -c1-170 | sed 's/^/      | /'
		if [[ $i == "$home" ]]; then
			log_since "$i" "$lines" | grep -q 'calls handed over to other nodes.* moved=1' ||
				{ log_since "$i" "$lines" | sed 's/^/      | /'; die "call-$i did not hand its call over"; }
			home=""
			local n c
			for n in "${NODES[@]}"; do
				[[ $n == "$i" ]] && continue
				c=$(grep -c "call adopted from a draining node.*$id" "$WORK/node-$n/log" || true)
				if (( c > ${adopted[$n]} )); then home=$n adopted[$n]=$c; fi
			done
			[[ -n $home ]] || die "no node logged 'call adopted from a draining node' for $id"
			say "the new home, call-$home, logged:"
			grep "call adopted from a draining node.*$id" "$WORK/node-$home/log" | tail -n 1 | cut -c1-170 | sed 's/^/      | /'
		fi
		if [[ $i == "$last" ]]; then
			wait "$echo_pid" || { show "$echo_log"; die "the echo call on call-$i failed"; }
			check_echo "$echo_log"
			say "its echo call went on to its end (hangup, echo heard); then it exited"
		fi
		if not_running "$pid_caller" || not_running "$pid_callee"; then
			show "$caller"; show "$callee"; die "the app call ended during call-$i's restart"
		fi
		say "the app call goes on"
		wait_for 5 "the others see 2 nodes" others_see 2 "$i"
		restart_node "$i"
	done

	step "The app call after the rolling restart"
	wait "$pid_caller" || { show "$caller"; die "the caller of the app call failed"; }
	wait "$pid_callee" || { show "$callee"; die "the callee of the app call failed"; }
	grep -q "hangup .*after ${dur}s (-duration)" "$caller" && grep -q 'ended: hangup' "$caller" ||
		{ show "$caller"; die "the app call did not end with the caller's hang-up after ${dur}s"; }
	grep -Eq 'ended: (remote_)?hangup' "$callee" || { show "$callee"; die "the callee's call did not end with the caller's hang-up"; }
	! grep -q network_lost "$caller" "$callee" || { show "$caller"; show "$callee"; die "network_lost during the rolling restart"; }
	check_heard "$caller" $(( dur * 50 * 6 / 10 ))
	check_heard "$callee" $(( dur * 50 * 6 / 10 ))
	say "it ended with the caller's hang-up after its planned ${dur}s; each side's lost connections and resumes:"
	say "  caller (2101):"
	gaps "$caller" | sed 's/^/        /'
	say "  callee (2102):"
	gaps "$callee" | sed 's/^/        /'
	say "HAProxy's log of the call connections (/v1/call) since the app call started:"
	tail -n "+$(( lb_lines + 1 ))" "$WORK/haproxy/log" | awk '/"GET \/v1\/call / {
			split($5, t, "/"); split($11, c, "/"); n++
			if ($6 == 503) { r503++; next }
			if (c[5] > 0) { retried++; waited += t[3] } else direct++
		}
		END { printf "      %d connections: %d straight to a live node, %d answered 503 by a draining node,\n", n, direct, r503
			printf "      %d retried by HAProxy after a refused connect (the node had exited; %.1f s of connect retries)\n", retried, waited / 1000 }'
	grep -E 'stats +(call|audio)' "$caller" | sed 's/^/      /'
	grep -E 'stats +(call|audio)' "$callee" | sed 's/^/      /'
	wait_for 10 "the record of $id closed" cdr_reason_is "$id" hangup
	say "its record:"
	cdr_show "$id"
}

verify_auth_backoff() {
	step "Failed sign-ins: the nodes back off per client address (X-Forwarded-For from HAProxy, a trusted proxy) and per account"
	say "25 requests with a wrong key for account mallory from 127.0.0.2 (curl --interface 127.0.0.2):"
	local codes n nodes429 lb429
	codes=$(for n in $(seq 1 25); do
		curl -s -o "$WORK/run/wrong-key-$n.body" -w '%{http_code} ' --interface 127.0.0.2 --cacert "$WORK/tls/cert.pem" \
			-H 'X-OneCxi-Account: mallory' -H 'Authorization: Bearer ocx_not-the-key' "$LB_URL/v1/call"
	done)
	say "  $codes"
	[[ $codes == *401* && $codes == *429* ]] || die "expected 401s, then 429"
	nodes429=$(grep -l '"too_many_requests"' "$WORK"/run/wrong-key-*.body | wc -l)
	lb429=$(( $(grep -o 429 <<<"$codes" | wc -l) - nodes429 ))
	(( nodes429 > 0 )) || die "no 429 came from a node (JSON too_many_requests)"
	say "429 from the nodes (JSON too_many_requests): $nodes429; from HAProxy's stick table: $lb429"
	grep -h 'authentication back-off for a client address' "$WORK"/node-*/log | grep -q 'address=127.0.0.2' ||
		die "no node logged a back-off for 127.0.0.2"
	grep -h 'authentication back-off for' "$WORK"/node-*/log | head -n 4 | cut -c1-150 | sed 's/^/      | /'
	echo_call "$WORK/run/call-after-401s.log" 1s ||
		{ show "$WORK/run/call-after-401s.log"; die "acme's call from 127.0.0.1 after 127.0.0.2's failures failed"; }
	check_echo "$WORK/run/call-after-401s.log"
	say "127.0.0.2 is refused 429; acme's call from 127.0.0.1 through HAProxy still goes through"
}

verify_node_loss() {
	step "Node loss: SIGKILL the home of a cross-node app call"
	local callee=$WORK/run/kill-callee.log caller=$WORK/run/kill-caller.log id="" home="" try pid_caller pid_callee
	for _ in 1 2 3 4; do
		listen_on "$callee" "$(node_url 2)" 2302
		pid_callee=$LISTEN_PID
		bg_cli pid_caller "$caller" "$LB_URL" 2301 -in tone:440 -duration 30s app 2302
		wait_for 10 "the app call answered" grep -Eq 'status +active' "$caller"
		id=$(call_id "$caller")
		wait_for 10 "the record of $id" cdr_known "$id"
		home=$(cdr_of "$id" | awk '{ split($2, n, ","); sub(/^call-/, "", n[1]); print n[1] }')
		[[ $home != 2 ]] && break
		say "HAProxy put the caller on call-2 too (not a cross-node call): hang up, again"
		if is_cli "$pid_caller"; then kill -TERM "$pid_caller"; fi
		wait "$pid_caller" || true
		wait "$pid_callee" || true
		home=""
	done
	[[ -n $home ]] || die "four calls through HAProxy all landed on call-2"
	say "call $id: caller 2301 through HAProxy, its home call-$home; callee 2302 straight to call-2, bridged to call-$home"
	local i k n_pid echo_pids=() echo_logs=() lost_pid lost_log=$WORK/run/kill-echo-home.log lost_id
	for i in "${NODES[@]}"; do
		[[ $i == "$home" ]] && continue
		k=$WORK/run/kill-echo-$i.log
		bg_cli n_pid "$k" "$(node_url "$i")" 1001 -duration 8s inbound 90000
		echo_pids+=("$n_pid") echo_logs+=("$k")
		wait_for 10 "the echo call on call-$i answered" grep -Eq 'status +active' "$k"
	done
	bg_cli lost_pid "$lost_log" "$(node_url "$home")" 1001 -duration 30s inbound 90000
	wait_for 10 "the echo call on call-$home answered" grep -Eq 'status +active' "$lost_log"
	lost_id=$(call_id "$lost_log")
	say "and an echo call straight to each node (the one on call-$home: $lost_id)"
	local t0 now t_down="" t_forgot="" t_ended
	t0=$(now_ms)
	run kill -KILL "$(pid_of "node-$home")"
	# Poll every 50 ms until HAProxy has taken it out, the others have
	# forgotten it and both parties' calls have ended.
	while :; do
		now=$(now_ms)
		if [[ -z $t_down ]] && lb_is "$home" DOWN; then t_down=$now; fi
		if [[ -z $t_forgot ]] && others_see 2 "$home"; then t_forgot=$now; fi
		if [[ -n $t_down && -n $t_forgot ]] && not_running "$pid_callee" && not_running "$pid_caller"; then break; fi
		(( now - t0 < 40000 )) || die "40 s after the kill: HAProxy ${t_down:+has call-$home DOWN}, the others ${t_forgot:+forgot it}; the app call's parties have not both ended"
		sleep 0.05
	done
	say "HAProxy: call-$home DOWN after $(after "$t0" "$t_down")"
	say "call-2 and the third node forgot call-$home $(after "$t0" "$t_forgot") after the kill"
	wait "$pid_callee" || true
	wait "$pid_caller" || true
	grep -Eq 'end reason (remote_)?network_lost' "$callee" || { show "$callee"; die "the callee's call did not end network_lost"; }
	t_ended=$(at_ms "$callee" 'end reason') || die "no end time in the callee's output"
	say "the callee (2302, straight to call-2, bridged) saw the call end $(after "$t0" "$t_ended") after the kill:"
	grep -E '(reconnect|resumed|error|end reason|ended) ' "$callee" | grep -v '^onecxi-cli:' | sed 's/^/      | /'
	# Two ways the bridged callee's call can end. Either call-2 forgets the
	# home first and ends it (end{network_lost}); or the callee's SDK,
	# hearing nothing for 3 s (callcore.MediaTimeout), drops its socket
	# first and tries to resume, which call-2 refuses (not_found). Either
	# way call-2 closes the call's record node_lost when it forgets the home.
	local lost_by_server=1 t_lost
	if t_lost=$(at_ms "$callee" 'reconnect +the call.s connection was lost'); then
		lost_by_server=0
		say "its SDK dropped the silent connection $(after "$t0" "$t_lost") after the kill (3 s without audio), before call-2 forgot call-$home;"
		say "its resume was refused: not_found"
	fi
	grep -Eq 'end reason (remote_)?network_lost' "$caller" || { show "$caller"; die "the caller's call did not end network_lost"; }
	t_ended=$(at_ms "$caller" 'end reason') || die "no end time in the caller's output"
	say "the caller (2301, through HAProxy, on call-$home) saw it end $(after "$t0" "$t_ended") after the kill (its resume refused):"
	grep -E '(reconnect|resumed|error|end reason|ended) ' "$caller" | grep -v '^onecxi-cli:' | sed 's/^/      | /'
	wait_for 10 "the record of $id closed node_lost" cdr_reason_is "$id" node_lost
	[[ $(cdr_of "$id" | cut -d' ' -f2) == *call-$home* && $(cdr_of "$id" | cut -d' ' -f2) == *call-2* ]] ||
		die "the record of $id does not name call-$home and call-2: $(cdr_of "$id")"
	for k in "${!echo_pids[@]}"; do
		wait "${echo_pids[$k]}" || { show "${echo_logs[$k]}"; die "an echo call on a surviving node failed"; }
		check_echo "${echo_logs[$k]}"
	done
	say "the echo calls on the other nodes went on to their end (hangup, echo heard)"
	# The echo call on the dead node would retry it for resumeGrace (30 s):
	# it is straight to the node, with no load balancer to find another.
	if is_cli "$lost_pid"; then kill -TERM "$lost_pid"; fi
	wait "$lost_pid" || true
	echo_call "$WORK/run/call-after-kill.log" 1s ||
		{ show "$WORK/run/call-after-kill.log"; die "a call after call-$home's loss failed"; }
	check_echo "$WORK/run/call-after-kill.log"
	say "a new call through HAProxy: ok"
	say "the records: the app call closed node_lost by call-2; the echo call homed on call-$home, with no party elsewhere, stays open:"
	cdr_list | awk -v a="$id" -v b="$lost_id" 'NR == 1 || $NF == a || $NF == b' | sed 's/^/      /'
	cdr_is "$lost_id" "- call-$home" || die "expected the record of $lost_id open on call-$home: $(cdr_of "$lost_id")"
	restart_node "$home"
}

verify_nats_loss() {
	# The NATS server most nodes are connected to (/varz connections).
	local victim=1 most=-1 c i t0
	for i in "${NODES[@]}"; do
		c=$(nats_conns "$i")
		if (( c > most )); then victim=$i most=$c; fi
	done
	step "NATS server loss: SIGTERM nats-$victim (nodes connected to it: $most); they reconnect to another"
	local before after
	before=$(cat "$WORK"/node-*/log | grep -c 'NATS reconnected' || true)
	run kill -TERM "$(pid_of "nats-$victim")"
	wait_for 10 "nats-$victim exits" not_alive "nats-$victim"
	t0=$(now_ms)
	while (( $(now_ms) - t0 < 6000 )); do
		all_see 3 || die "a node lost sight of the cluster while nats-$victim was down"
		sleep 0.5
	done
	say "every node saw 3 nodes throughout the next 6 s"
	after=$(cat "$WORK"/node-*/log | grep -c 'NATS reconnected' || true)
	(( after - before == most )) || die "expected $most 'NATS reconnected' lines in the nodes' logs, found $((after - before))"
	grep -h 'NATS reconnected' "$WORK"/node-*/log | tail -n "$most" | cut -c1-120 | sed 's/^/      | /'
	echo_call "$WORK/run/call-nats-down.log" 1s ||
		{ show "$WORK/run/call-nats-down.log"; die "a call with nats-$victim down failed"; }
	check_echo "$WORK/run/call-nats-down.log"
	say "a call through HAProxy: ok"
	start "nats-$victim" "$WORK/nats-$victim/log" nats-server -c "$WORK/nats-$victim/nats.conf"
	for i in "${NODES[@]}"; do
		wait_for 20 "NATS $i: 2 routes" nats_routes_are "$i" 2
	done
	say "nats-$victim back: each NATS server has 2 routes again"
}

cmd_verify() {
	load_env
	check_tools
	trap 'rc=$?; stop_bg; exit $rc' EXIT
	local t_verify i
	t_verify=$(now_ms)

	step "Cluster view: onecxi_cluster_nodes on each node's /metrics"
	for i in "${NODES[@]}"; do
		wait_for 10 "call-$i sees 3 nodes" sees_nodes "$i" 3
		say "call-$i: onecxi_cluster_nodes $(metric "$i" onecxi_cluster_nodes), /readyz $(readyz "$i"), HAProxy $(lb_status "$i")"
	done
	for i in "${NODES[@]}"; do
		nats_routes_are "$i" 2 || die "NATS $i has not 2 routes"
	done
	say "NATS: each server has 2 routes"

	step "An echo call through HAProxy over TLS (certificate checked: SSL_CERT_FILE)"
	printf '    $ %s\n' "SSL_CERT_FILE=$WORK/tls/cert.pem ONECXI_API_KEY=… onecxi-cli -server $LB_URL -account acme -number 1001 -duration 3s inbound 90000"
	echo_call "$WORK/run/call-first.log" 3s || { show "$WORK/run/call-first.log"; die "echo call failed"; }
	check_echo "$WORK/run/call-first.log"
	grep -E 'signed in|started|ended|stats +audio' "$WORK/run/call-first.log" | sed 's/^/      /'
	say "echoed frames: $(echoed "$WORK/run/call-first.log")"

	step "A wrong certificate is refused (no SSL_CERT_FILE: the system's roots)"
	if ONECXI_API_KEY=$ONECXI_API_KEY "$BIN/onecxi-cli" -server "$LB_URL" -account acme -number 1001 -duration 1s inbound 90000 \
		>"$WORK/run/call-untrusted.log" 2>&1; then
		die "a call with an untrusted certificate succeeded"
	fi
	grep -m1 -o 'x509: [^"]*' "$WORK/run/call-untrusted.log" | sed 's/^/      /' || true

	step "The call's record in PostgreSQL (onecxi-server calls)"
	printf '    $ %s\n' "onecxi-server calls -database 'postgres://onecxi:…@127.0.0.1:$PG_PORT/onecxi?sslmode=disable' -account acme -since 10m"
	local cdrs id
	cdrs=$("$BIN/onecxi-server" calls -database "$DB_URL" -account acme -since 10m)
	sed 's/^/      /' <<<"$cdrs"
	id=$(call_id "$WORK/run/call-first.log")
	grep -q -- "$id" <<<"$cdrs" || die "call $id is not in onecxi-server calls"
	say "call $id is there"

	verify_cross_node
	verify_rolling
	verify_auth_backoff
	verify_node_loss
	verify_nats_loss

	step "Call records: the node(s) of each call, its home first"
	cdr_list | sed 's/^/      /'

	step "Verified in $(since "$t_verify")"
	trap - EXIT
}

# ---------------------------------------------------------------- down

cmd_down() {
	local keep=${1:-}
	step "Stopping the cluster in $WORK"
	local name p
	for name in haproxy node-1 node-2 node-3 nats-1 nats-2 nats-3; do
		p=$(pid_of "$name") || continue
		if ours "$p"; then
			printf '    $ kill -TERM %s   # %s\n' "$p" "$name"
			kill -TERM "$p"
		fi
	done
	# Nodes drain (at most their drainTimeout, 30 s, with calls up); wait.
	local deadline=$(( $(now_ms) + 40000 ))
	for name in haproxy node-1 node-2 node-3 nats-1 nats-2 nats-3; do
		p=$(pid_of "$name") || continue
		while ours "$p"; do
			if (( $(now_ms) > deadline )); then
				run kill -KILL "$p"
				break
			fi
			sleep 0.2
		done
	done
	if [[ -f $WORK/pg/data/postmaster.pid ]]; then
		PG_BIN=$(pg_bin_dir) || die "PostgreSQL binaries not found to stop $WORK/pg"
		run_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop
	fi
	if [[ $keep == -keep ]]; then
		say "kept $WORK (logs: node-*/log, nats-*/log, haproxy/log, pg/log, run/*.log)"
	else
		run rm -rf "$WORK"
	fi
}

case ${1:-} in
up) cmd_up ;;
verify) cmd_verify ;;
down) cmd_down "${2:-}" ;;
*)
	echo "usage: $0 up | verify | down [-keep]" >&2
	exit 2
	;;
esac

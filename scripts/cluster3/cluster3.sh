#!/usr/bin/env bash
# A 3-node OneCxi cluster on one machine: the worked example of
# docs/deploy.md.
#
#   scripts/cluster3/cluster3.sh up       start it: NATS x3, PostgreSQL, 3 nodes, HAProxy (TLS)
#   scripts/cluster3/cluster3.sh verify   check it: calls over TLS, call records, a rolling restart,
#                                         a lost node, a lost NATS server
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
		sleep 0.2
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
	sed -E 's/(onecxi:)[0-9a-f]{32}@/\1…@/g' "$WORK/node-1/config.json" | sed 's/^/      /'
	# call-1 first: it creates the schema in the new database. Nodes that
	# start together on an empty database can race creating it (one fails
	# with a duplicate pg_type key and exits: docs/deploy.md, Known issues);
	# once it exists, any number start at once.
	start_node 1
	wait_node_ready 1
	say "call-1 ready: schema created"
	start_node 2
	start_node 3
	wait_node_ready 2
	wait_node_ready 3
	wait_for 15 "every node sees 3 nodes" all_see 3
	say "all three ready (/readyz 200) and each sees 3 cluster nodes"

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

# echo_call LOG DURATION: an echo call through HAProxy over TLS, checked
# against our certificate; its output to LOG. Fails unless the call ended
# normally and echoed audio came back.
echo_call() {
	local log=$1 dur=$2
	SSL_CERT_FILE=$WORK/tls/cert.pem ONECXI_API_KEY=$ONECXI_API_KEY \
		"$BIN/onecxi-cli" -server "$LB_URL" -account acme -number 1001 -duration "$dur" inbound 90000 >"$log" 2>&1
}

# echoed LOG: frames the echo sent back, as the CLI counted them.
echoed() { sed -n 's/.*audio in: *\([0-9]*\) frames.*/\1/p' "$1"; }

check_echo() { # check_echo LOG: the call ended normally with echoed audio
	local log=$1 n
	grep -q 'ended: hangup' "$log" || { sed 's/^/      | /' "$log"; die "call in ${log#"$WORK"/} did not end with hangup"; }
	n=$(echoed "$log")
	if [[ -z $n ]] || (( n == 0 )); then
		sed 's/^/      | /' "$log"
		die "call in ${log#"$WORK"/}: no echoed audio"
	fi
}

# call_on NODE: start background echo calls through HAProxy until one is
# on NODE (HAProxy's leastconn puts each new call on a node without one);
# sets CALL_PIDS and CALL_LOGS.
call_on() {
	local i=$1 k log
	CALL_PIDS=() CALL_LOGS=()
	for k in 1 2 3; do
		log=$WORK/run/call-round$i-$k.log
		echo_call "$log" 10s &
		CALL_PIDS+=($!) CALL_LOGS+=("$log")
		wait_for 10 "call $k of round $i answered" grep -Eq 'status +active' "$log"
		sleep 0.3
		if has_call "$i"; then
			say "call $k is on call-$i (onecxi_calls there: $(calls_on "$i"))"
			return 0
		fi
		say "call $k landed elsewhere; another"
	done
	die "no call through HAProxy landed on call-$i"
}

wait_calls() { # wait for CALL_PIDS; all must have succeeded with echo
	local k
	for k in "${!CALL_PIDS[@]}"; do
		wait "${CALL_PIDS[$k]}" || { sed 's/^/      | /' "${CALL_LOGS[$k]}"; die "call ${CALL_LOGS[$k]#"$WORK"/} failed"; }
		check_echo "${CALL_LOGS[$k]}"
	done
}

cmd_verify() {
	load_env
	check_tools
	local t_verify i t0 n
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
	echo_call "$WORK/run/call-first.log" 3s || { sed 's/^/      | /' "$WORK/run/call-first.log"; die "echo call failed"; }
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
	local cdrs
	cdrs=$("$BIN/onecxi-server" calls -database "$DB_URL" -account acme -since 10m)
	sed 's/^/      /' <<<"$cdrs"
	local id
	id=$(sed -n 's/.*call \(c_[0-9a-f]*\), inbound.*/\1/p' "$WORK/run/call-first.log" | head -n1)
	grep -q -- "$id" <<<"$cdrs" || die "call $id is not in onecxi-server calls"
	say "call $id is there"

	for i in "${NODES[@]}"; do
		step "Rolling restart, node call-$i: SIGTERM with a live call on it"
		call_on "$i"
		t0=$(now_ms)
		run kill -TERM "$(pid_of "node-$i")"
		wait_for 5 "call-$i /readyz 503" ready_is "$i" 503
		say "call-$i /readyz: 503 after $(since "$t0")"
		wait_for 10 "HAProxy: call-$i DOWN" lb_is "$i" DOWN
		say "HAProxy: call-$i $(lb_status "$i") after $(since "$t0")"
		echo_call "$WORK/run/call-during-drain-$i.log" 2s ||
			{ sed 's/^/      | /' "$WORK/run/call-during-drain-$i.log"; die "a new call during call-$i's drain failed"; }
		check_echo "$WORK/run/call-during-drain-$i.log"
		say "a new call through HAProxy while call-$i drains: ok"
		alive "node-$i" || die "call-$i exited before its live call ended"
		say "call-$i still runs (onecxi_calls $(calls_on "$i"), draining $(metric "$i" onecxi_draining))"
		wait_calls
		say "the call(s) placed before the drain went on to their end (hangup, echo heard)"
		wait_for 35 "call-$i exits" not_alive "node-$i"
		say "call-$i exited $(since "$t0") after SIGTERM; its log:"
		grep -E 'drain|shut' "$WORK/node-$i/log" | tail -n 4 | cut -c1-160 | sed 's/^/      | /'
		t0=$(now_ms)
		for n in "${NODES[@]}"; do
			[[ $n == "$i" ]] && continue
			wait_for 5 "call-$n sees 2 nodes" sees_nodes "$n" 2
		done
		say "the other two see 2 nodes ($(since "$t0") after call-$i exited: its goodbye)"
		t0=$(now_ms)
		start_node "$i"
		wait_node_ready "$i"
		wait_for 15 "HAProxy: call-$i UP" lb_is "$i" UP
		wait_for 15 "every node sees 3 nodes" all_see 3
		say "call-$i back: ready, HAProxy UP, 3 nodes seen everywhere, $(since "$t0") after the restart"
	done

	step "Failed sign-ins are limited per client address at HAProxy, not per node"
	say "25 requests with a wrong key from 127.0.0.2 (curl --interface 127.0.0.2):"
	local codes
	codes=$(for n in $(seq 1 25); do
		curl -s -o /dev/null -w '%{http_code} ' --interface 127.0.0.2 --cacert "$WORK/tls/cert.pem" \
			-H 'X-OneCxi-Account: acme' -H 'Authorization: Bearer ocx_not-the-key' "$LB_URL/v1/call"
	done)
	say "  $codes"
	[[ $codes == *401* && $codes == *429* ]] || die "expected 401s, then 429 from HAProxy"
	echo_call "$WORK/run/call-after-401s.log" 1s ||
		{ sed 's/^/      | /' "$WORK/run/call-after-401s.log"; die "a call from 127.0.0.1 after 127.0.0.2's failures failed"; }
	check_echo "$WORK/run/call-after-401s.log"
	say "127.0.0.2 is refused 429; a call from 127.0.0.1 still goes through"

	step "Node loss: SIGKILL call-3 with a live call on every node"
	CALL_PIDS=() CALL_LOGS=()
	local k log
	for k in 1 2 3; do
		log=$WORK/run/call-kill-$k.log
		echo_call "$log" 12s &
		CALL_PIDS+=($!) CALL_LOGS+=("$log")
		wait_for 10 "call $k answered" grep -Eq 'status +active' "$log"
		sleep 0.3
	done
	for i in "${NODES[@]}"; do
		[[ $(calls_on "$i") == 1 ]] || die "expected one call on each node; call-$i has $(calls_on "$i")"
	done
	say "one call on each node (onecxi_calls 1 on call-1, call-2, call-3)"
	t0=$(now_ms)
	run kill -KILL "$(pid_of "node-3")"
	wait_for 10 "HAProxy: call-3 DOWN" lb_is 3 DOWN
	say "HAProxy: call-3 DOWN after $(since "$t0")"
	local lost=0 ok=0
	while (( lost + ok < 3 )); do
		for k in "${!CALL_PIDS[@]}"; do
			[[ -n ${CALL_PIDS[$k]} ]] || continue
			kill -0 "${CALL_PIDS[$k]}" 2>/dev/null && continue
			if wait "${CALL_PIDS[$k]}"; then
				check_echo "${CALL_LOGS[$k]}"
				ok=$((ok + 1))
			else
				grep -q 'end reason network_lost' "${CALL_LOGS[$k]}" ||
					{ sed 's/^/      | /' "${CALL_LOGS[$k]}"; die "call ${CALL_LOGS[$k]#"$WORK"/} failed, not with network_lost"; }
				lost=$((lost + 1))
				say "the call on call-3 ended $(since "$t0") after the kill:"
				grep -E 'reconnect|end reason' "${CALL_LOGS[$k]}" | sed 's/^/      | /'
			fi
			CALL_PIDS[k]=""
		done
		(( $(now_ms) - t0 < 30000 )) || die "calls still up 30 s after the kill"
		sleep 0.2
	done
	(( lost == 1 && ok == 2 )) || die "expected 1 call lost and 2 to end normally; lost $lost, normal $ok"
	say "the calls on call-1 and call-2 went on to their end (hangup, echo heard)"
	echo_call "$WORK/run/call-after-kill.log" 2s ||
		{ sed 's/^/      | /' "$WORK/run/call-after-kill.log"; die "a call after call-3's loss failed"; }
	check_echo "$WORK/run/call-after-kill.log"
	say "a new call through HAProxy: ok"
	wait_for 40 "call-1 and call-2 see 2 nodes" bash -c "[[ \$(curl -fsS http://127.0.0.1:$(metrics_port 1)/metrics | awk '\$1==\"onecxi_cluster_nodes\"{print \$2}') == 2 && \$(curl -fsS http://127.0.0.1:$(metrics_port 2)/metrics | awk '\$1==\"onecxi_cluster_nodes\"{print \$2}') == 2 ]]"
	say "call-1 and call-2 see 2 nodes $(since "$t0") after the kill"
	start_node 3
	wait_node_ready 3
	wait_for 15 "HAProxy: call-3 UP" lb_is 3 UP
	wait_for 15 "every node sees 3 nodes" all_see 3
	say "call-3 restarted: ready, HAProxy UP, 3 nodes seen everywhere"

	# The NATS server most nodes are connected to (/varz connections).
	local victim=1 most=-1 c
	for i in "${NODES[@]}"; do
		c=$(nats_conns "$i")
		if (( c > most )); then victim=$i most=$c; fi
	done
	step "NATS server loss: SIGTERM nats-$victim ($most of the nodes are connected to it); they reconnect to another"
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
		{ sed 's/^/      | /' "$WORK/run/call-nats-down.log"; die "a call with nats-$victim down failed"; }
	check_echo "$WORK/run/call-nats-down.log"
	say "a call through HAProxy: ok"
	start "nats-$victim" "$WORK/nats-$victim/log" nats-server -c "$WORK/nats-$victim/nats.conf"
	for i in "${NODES[@]}"; do
		wait_for 20 "NATS $i: 2 routes" nats_routes_are "$i" 2
	done
	say "nats-$victim back: each NATS server has 2 routes again"

	step "Call records: which node took each call"
	"$BIN/onecxi-server" calls -database "$DB_URL" -account acme -since 10m | sed 's/^/      /'

	step "Verified in $(since "$t_verify")"
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

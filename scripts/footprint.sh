#!/usr/bin/env bash
# Footprint of the real app on a private Xvfb display, RUNS times:
#
#   scripts/footprint.sh [RUNS]          (make footprint; RUNS: 3)
#
# Each run starts bin/onecxi-phone in demo mode (built-in server on a free
# port, fresh config directory) and measures:
#   window   ms from just before the exec to the main window being mapped
#            (polling `xdotool search --onlyvisible` every 10 ms)
#   signin   ms from the exec to the green "Online" status line (polling
#            window captures, ~50 ms resolution)
#   idle     VmRSS from /proc/PID/status (with its anonymous part, and the
#            OpenGL driver libraries' resident pages from smaps), and CPU (% of one core) from
#            /proc/PID/stat utime+stime, over IDLE_S seconds once signed in
#   call     the same over CALL_S seconds of a call to the echo DID 90000
#            (typed into the dialer with xdotool), with -audio $AUDIO, after
#            the call timer has started; Xvfb's own CPU over that window too
# and, in the same run on the same display, Linphone (Debian's
# linphone-desktop, the reference for a desktop softphone's idle cost):
# started with a fresh home directory and its own D-Bus session, the ms to
# its window, then its idle RSS and CPU over IDLE_S once its window settled
# (it shows its first-start assistant; it has no account, so no calls).
# It prints one line per run, then the range over the runs.
#
# Environment: IDLE_S (10), CALL_S (20), AUDIO (tone:440; "auto" uses the
# default sound device, which needs one), XAPP_BIN (bin/onecxi-phone; e.g. a
# packaged binary), LINPHONE (linphone; 0 leaves it out), XAPP_KEEP=1 keeps
# logs.
set -eu
cd "$(dirname "$0")/.."
. scripts/lib/xapp.sh
trap xapp_cleanup EXIT
trap 'exit 130' INT TERM

RUNS=${1:-3}
IDLE_S=${IDLE_S:-10}
CALL_S=${CALL_S:-20}
AUDIO=${AUDIO:-tone:440}
LINPHONE=${LINPHONE:-linphone}
HZ=$(getconf CLK_TCK)
[ -x "$XAPP_BIN" ] || xapp_die "build first: make bin/onecxi-phone (or set XAPP_BIN)"
if [ "$LINPHONE" != 0 ]; then
	command -v "$LINPHONE" >/dev/null || xapp_die "$LINPHONE not found (apt-get install linphone-desktop; LINPHONE=0 leaves it out)"
	command -v dbus-run-session >/dev/null || xapp_die "dbus-run-session not found (apt-get install dbus-daemon): Linphone needs a session bus"
fi

# cpu_ticks PID: utime+stime of all its threads, in clock ticks.
cpu_ticks() {
	# fields after the ")" that ends the command name: state is field 3,
	# utime field 14 and stime field 15 of the whole line.
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# rss_mib PID [FIELD]: VmRSS (or FIELD, e.g. VmHWM) in MiB, one decimal.
rss_mib() {
	awk -v f="${2:-VmRSS}:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

# gl_mib PID: resident MiB of the OpenGL driver's libraries (Mesa, LLVM and
# what they load), file-backed and shared with any other GL program.
gl_mib() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { lib = ($6 ~ /(libLLVM|\/dri\/|libGL|libgallium|libglapi|libz3|libdrm|libelf|libedit|libsensors|libxml2|libicu)/) }
		/^Rss:/ && lib { kb += $2 } END { printf "%.1f", kb / 1024 }' "/proc/$1/smaps"
}

# cpu_pct TICKS0 TICKS1 MS: % of one core.
cpu_pct() {
	awk -v a="$1" -v b="$2" -v ms="$3" -v hz="$HZ" 'BEGIN { printf "%.1f", (b - a) / hz / (ms / 1000) * 100 }'
}

# measure PID SECONDS: sets M_CPU (% of one core of PID), M_XCPU (Xvfb's),
# M_RSS (MiB at the end).
measure() {
	t0=$(xapp_now_ms)
	c0=$(cpu_ticks "$1")
	x0=$(cpu_ticks "$XVFB_PID")
	sleep "$2"
	c1=$(cpu_ticks "$1")
	x1=$(cpu_ticks "$XVFB_PID")
	t1=$(xapp_now_ms)
	M_CPU=$(cpu_pct "$c0" "$c1" $((t1 - t0)))
	M_XCPU=$(cpu_pct "$x0" "$x1" $((t1 - t0)))
	M_RSS=$(rss_mib "$1")
	M_ANON=$(rss_mib "$1" RssAnon)
}

# linphone_pid / linphone_window: find Linphone (the child of its D-Bus
# session) and its window.
linphone_pid() { lpid=$(pgrep -P "$session" -x "$(basename "$LINPHONE")"); }
linphone_window() { XAPP_WIN=$(xapp_find_window_of "$lpid"); }

# linphone_run N: start Linphone, measure it idle, stop it; sets L_WIN_MS,
# L_RSS, L_ANON, L_CPU and L_XCPU.
linphone_run() {
	home="$XAPP_TMP/linphone$1.home"
	mkdir -p "$home/run"
	chmod 700 "$home/run"
	start=$(xapp_now_ms)
	HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_RUNTIME_DIR="$home/run" \
		dbus-run-session -- "$LINPHONE" >"$XAPP_TMP/linphone$1.log" 2>&1 &
	session=$!
	xapp_track "$session"
	lpid=""
	xapp_poll "Linphone to start (its log: $XAPP_TMP/linphone$1.log)" linphone_pid
	xapp_track "$lpid"
	xapp_poll "Linphone's window" linphone_window
	L_WIN_MS=$(($(xapp_now_ms) - start))
	xapp_poll "Linphone's window to settle" xapp_settled
	measure "$lpid" "$IDLE_S"
	L_RSS=$M_RSS L_ANON=$M_ANON L_CPU=$M_CPU L_XCPU=$M_XCPU
	xapp_stop "$lpid"
	xapp_stop "$session"
}

xapp_display
XVFB_PID=${XAPP_PIDS%% *}
XVFB_PID=${XVFB_PID# }

echo "footprint: $RUNS runs; idle ${IDLE_S}s, call ${CALL_S}s to 90000 with -audio $AUDIO; $(nproc) CPUs, clock tick 1/${HZ}s"
if command -v glxinfo >/dev/null 2>&1; then
	echo "footprint: display $DISPLAY (Xvfb), OpenGL renderer: $(glxinfo -B 2>/dev/null | sed -n 's/^OpenGL renderer string: //p')"
fi
RESULTS="$XAPP_TMP/results"
: >"$RESULTS"
run=1
while [ "$run" -le "$RUNS" ]; do
	xapp_launch "run$run" -listen 127.0.0.1:0 -audio "$AUDIO" -number 1001
	pid=$XAPP_PID
	xapp_window "$pid"
	window_ms=$((XAPP_WIN_MS - XAPP_START_MS))
	xapp_poll "the app to sign in" xapp_signed_in
	signin_ms=$(($(xapp_now_ms) - XAPP_START_MS))
	xapp_poll "the window to settle" xapp_settled

	measure "$pid" "$IDLE_S"
	idle_rss=$M_RSS idle_cpu=$M_CPU idle_xcpu=$M_XCPU idle_anon=$M_ANON idle_gl=$(gl_mib "$pid")

	xapp_focus
	xapp_type 90000
	xapp_capture "$XAPP_TMP/before.png"
	xapp_key Return
	xapp_poll "the call screen" xapp_changed_from "$XAPP_TMP/before.png"
	# the timer runs once the echo service answered: two changes in a row
	xapp_capture "$XAPP_TMP/tick.png"
	xapp_poll "the call timer" xapp_changed_from "$XAPP_TMP/tick.png"
	cp "$XAPP_TMP/now.png" "$XAPP_TMP/tick.png"
	xapp_poll "the call timer" xapp_changed_from "$XAPP_TMP/tick.png"

	measure "$pid" "$CALL_S"
	call_rss=$M_RSS call_cpu=$M_CPU call_xcpu=$M_XCPU
	hwm=$(rss_mib "$pid" VmHWM)
	kill -0 "$pid" 2>/dev/null || xapp_die "the app exited during the call"
	xapp_key Escape
	xapp_stop "$pid"

	printf 'run %d: window %4d ms  signed in %4d ms  idle RSS %5s MiB (anon %5s, GL libs %4s) CPU %4s%% (Xvfb %4s%%)  in call RSS %5s MiB CPU %4s%% (Xvfb %4s%%)  peak RSS %5s MiB\n' \
		"$run" "$window_ms" "$signin_ms" "$idle_rss" "$idle_anon" "$idle_gl" "$idle_cpu" "$idle_xcpu" "$call_rss" "$call_cpu" "$call_xcpu" "$hwm"
	L_WIN_MS=- L_RSS=- L_ANON=- L_CPU=- L_XCPU=-
	if [ "$LINPHONE" != 0 ]; then
		linphone_run "$run"
		printf 'run %d: Linphone window %4d ms  idle RSS %5s MiB (anon %5s) CPU %4s%% (Xvfb %4s%%)\n' \
			"$run" "$L_WIN_MS" "$L_RSS" "$L_ANON" "$L_CPU" "$L_XCPU"
	fi
	echo "$window_ms $signin_ms $idle_rss $idle_cpu $call_rss $call_cpu $idle_xcpu $call_xcpu $hwm $idle_anon $idle_gl $L_WIN_MS $L_RSS $L_ANON $L_CPU $L_XCPU" >>"$RESULTS"
	run=$((run + 1))
done

# range COLUMN: "min–max" of a results column.
range() {
	sort -g -k"$1","$1" "$RESULTS" | awk -v c="$1" 'NR == 1 { lo = $c } { hi = $c } END { if (lo == hi) print lo; else print lo "–" hi }'
}
echo "footprint: over $RUNS runs (targets: window < 1000 ms, idle RSS < 80 MB, in-call CPU < 5% of one core):"
echo "  first window     $(range 1) ms"
echo "  signed in        $(range 2) ms"
echo "  idle RSS         $(range 3) MiB (anonymous $(range 10), GL driver libraries $(range 11))    idle CPU    $(range 4)% (Xvfb $(range 7)%)"
echo "  in-call RSS      $(range 5) MiB    in-call CPU $(range 6)% (Xvfb $(range 8)%)   peak RSS $(range 9) MiB"
if [ "$LINPHONE" != 0 ]; then
	echo "footprint: Linphone ($(dpkg-query -W -f='${Version}' linphone-desktop 2>/dev/null || echo "$LINPHONE")) in the same runs, idle:"
	echo "  first window     $(range 12) ms"
	echo "  idle RSS         $(range 13) MiB (anonymous $(range 14))    idle CPU    $(range 15)% (Xvfb $(range 16)%)"
	echo "  idle CPU side by side: OneCxi Phone $(range 4)%, Linphone $(range 15)%"
fi

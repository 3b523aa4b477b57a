# Shared helpers for driving the real desktop app black-box on a private Xvfb
# display: start the display, launch bin/onecxi-phone with its own config
# directory, find its window, type, capture and wait for the screen to change.
# Sourced by scripts/screenshots.sh and scripts/footprint.sh (which set -eu).
#
# Every process started here is recorded and killed by xapp_cleanup, which the
# caller installs as an EXIT trap:  trap xapp_cleanup EXIT

XAPP_TITLE=${XAPP_TITLE:-OneCxi Phone}  # the main window's title
XAPP_TIMEOUT=${XAPP_TIMEOUT:-20}         # seconds any wait may take
XAPP_BIN=${XAPP_BIN:-bin/onecxi-phone}  # the app
XAPP_PIDS=""                             # started processes, killed at exit
XAPP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/onecxi-xapp.XXXXXX")
chmod 700 "$XAPP_TMP" # the app's banner (with the demo key) is kept here

xapp_die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

xapp_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# xapp_cleanup stops what was started (newest first) and removes the temp dir.
# Set XAPP_KEEP=1 to keep the temp dir (logs, captures) for a look.
xapp_cleanup() {
	for pid in $XAPP_PIDS; do
		kill "$pid" 2>/dev/null || true
		# wait up to 5 s for it to exit (the display goes last), then force it.
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	XAPP_PIDS=""
	if [ "${XAPP_KEEP:-0}" = 1 ]; then
		echo "kept $XAPP_TMP" >&2
	else
		rm -rf "$XAPP_TMP"
	fi
}

# xapp_track PID: kill PID at exit (newest first).
xapp_track() { XAPP_PIDS="$1 $XAPP_PIDS"; }

# xapp_untrack PID: PID was stopped by the caller.
xapp_untrack() {
	new=""
	for p in $XAPP_PIDS; do
		[ "$p" = "$1" ] || new="$new $p"
	done
	XAPP_PIDS=$new
}

# xapp_stop PID: SIGTERM, wait for it to exit, forget it.
xapp_stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	xapp_untrack "$1"
}

# xapp_poll DESCRIPTION COMMAND...: run COMMAND every 20 ms until it succeeds,
# failing after XAPP_TIMEOUT seconds.
xapp_poll() {
	what=$1
	shift
	deadline=$(($(xapp_now_ms) + XAPP_TIMEOUT * 1000))
	until "$@"; do
		[ "$(xapp_now_ms)" -lt "$deadline" ] || xapp_die "timed out after ${XAPP_TIMEOUT}s waiting for $what"
		sleep 0.02
	done
}

# xapp_display: start Xvfb on a free display and export DISPLAY.
xapp_display() {
	n=${XAPP_DISPLAY_NUM:-99}
	while [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ]; do
		n=$((n + 1))
	done
	Xvfb ":$n" -screen 0 1280x1024x24 -nolisten tcp >"$XAPP_TMP/xvfb.log" 2>&1 &
	xapp_track $!
	export DISPLAY=":$n"
	xapp_poll "Xvfb on :$n (see $XAPP_TMP/xvfb.log)" xdotool getdisplaygeometry >/dev/null 2>&1
}

# xapp_launch NAME ARGS...: start $XAPP_BIN (bin/onecxi-phone) with ARGS and
# a fresh config directory (preferences, stored key, history) under the temp
# dir.
# Sets XAPP_PID and XAPP_START_MS (just before the exec); stdout goes to
# $XAPP_TMP/NAME.out (the demo banner), stderr to NAME.log.
xapp_launch() {
	name=$1
	shift
	mkdir -p "$XAPP_TMP/$name.home"
	XAPP_START_MS=$(xapp_now_ms)
	HOME="$XAPP_TMP/$name.home" XDG_CONFIG_HOME="$XAPP_TMP/$name.home/.config" \
		"$XAPP_BIN" "$@" >"$XAPP_TMP/$name.out" 2>"$XAPP_TMP/$name.log" &
	XAPP_PID=$!
	xapp_track "$XAPP_PID"
}

# xapp_find_window: print the visible window named XAPP_TITLE (first match).
xapp_find_window() {
	xdotool search --onlyvisible --name "^$XAPP_TITLE\$" 2>/dev/null | head -n 1
}

# xapp_find_window_of PID: print the visible window of process PID (a second
# instance has the same title as the first).
xapp_find_window_of() {
	w=$(xdotool search --onlyvisible --pid "$1" 2>/dev/null | head -n 1)
	[ -n "$w" ] && echo "$w"
}

# xapp_window PID: wait until the app's window is visible; sets XAPP_WIN and
# XAPP_WIN_MS (when it was first seen). Fails early if PID exits.
xapp_window() {
	deadline=$(($(xapp_now_ms) + XAPP_TIMEOUT * 1000))
	XAPP_WIN=""
	while [ -z "$XAPP_WIN" ]; do
		XAPP_WIN=$(xapp_find_window)
		[ -n "$XAPP_WIN" ] && break
		kill -0 "$1" 2>/dev/null || xapp_die "the app exited before showing its window; its log:
$(tail -n 20 "$XAPP_TMP"/*.log)"
		[ "$(xapp_now_ms)" -lt "$deadline" ] || xapp_die "timed out waiting for the '$XAPP_TITLE' window"
		sleep 0.01
	done
	XAPP_WIN_MS=$(xapp_now_ms)
}

# xapp_banner NAME: read the demo server URL and key the app printed; sets
# XAPP_SERVER and XAPP_KEY (never printed).
xapp_banner() {
	xapp_poll "the demo server banner" grep -q 'OneCxi demo server:' "$XAPP_TMP/$1.out"
	XAPP_SERVER=$(sed -n 's/^OneCxi demo server: \([^ ]*\) .*/\1/p' "$XAPP_TMP/$1.out" | head -n 1)
	XAPP_KEY=$(sed -n 's/.*API key: \([^ ]*\).*/\1/p' "$XAPP_TMP/$1.out" | head -n 1)
	[ -n "$XAPP_SERVER" ] && [ -n "$XAPP_KEY" ] || xapp_die "could not read the demo server's address and key"
}

# xapp_focus: give the window the keyboard (there is no window manager).
xapp_focus() {
	xdotool windowfocus --sync "$XAPP_WIN" 2>/dev/null || xdotool windowfocus "$XAPP_WIN"
}

# xapp_type TEXT / xapp_key KEY...: keyboard input to the focused window.
xapp_type() { xdotool type --delay 30 "$1"; }
xapp_key() { xdotool key --delay 50 "$@"; }

# xapp_capture FILE: the window's pixels as PNG.
xapp_capture() { import -silent -window "$XAPP_WIN" "png:$1"; }

# xapp_same A B: the two captures are identical.
xapp_same() {
	[ "$(compare -metric AE "$1" "$2" null: 2>&1 || true)" = 0 ]
}

# xapp_changed_from REF: the window now differs from capture REF (the new
# capture is left in $XAPP_TMP/now.png).
xapp_changed_from() {
	xapp_capture "$XAPP_TMP/now.png"
	! xapp_same "$1" "$XAPP_TMP/now.png"
}

# xapp_settled: two captures 300 ms apart are the same (the last one is
# left in $XAPP_TMP/now.png).
xapp_settled() {
	xapp_capture "$XAPP_TMP/settle-a.png"
	sleep 0.3
	xapp_capture "$XAPP_TMP/now.png"
	xapp_same "$XAPP_TMP/settle-a.png" "$XAPP_TMP/now.png"
}

# xapp_changes_within SECONDS REF: whether the window differs from capture
# REF within SECONDS (then waits for it to settle).
xapp_changes_within() {
	until=$(($(xapp_now_ms) + $1 * 1000))
	until xapp_changed_from "$2"; do
		[ "$(xapp_now_ms)" -lt "$until" ] || return 1
		sleep 0.05
	done
	xapp_poll "the window to settle" xapp_settled
}

# xapp_wait_change REF: wait until the window differs from capture REF, then
# until it has settled.
xapp_wait_change() {
	xapp_poll "the window to change" xapp_changed_from "$1"
	xapp_poll "the window to settle" xapp_settled
}

# xapp_has_colour GEOMETRY FX: some pixel in the window's GEOMETRY
# (WxH+X+Y) matches the ImageMagick -fx expression FX (r, g, b in 0..1).
xapp_has_colour() {
	xapp_capture "$XAPP_TMP/colour.png"
	m=$(convert "$XAPP_TMP/colour.png" -crop "$1" +repage -fx "$2" -format '%[fx:maxima.r]' info: 2>/dev/null) || return 1
	[ "$m" != 0 ]
}

# xapp_signed_in: the status line at the top is green ("● Online as …").
xapp_signed_in() {
	xapp_has_colour 380x40+0+0 'g>0.7 && r<0.5 && b<0.5'
}

# xapp_profile CROP FX SCALE: capture the window, map each pixel of CROP
# (WxH+X+Y) through the ImageMagick -fx expression FX (1: match), average to
# SCALE (e.g. 1x200! for one value per row) and print the 0..255 values,
# one a line.
xapp_profile() {
	xapp_capture "$XAPP_TMP/profile.png"
	convert "$XAPP_TMP/profile.png" -crop "$1" +repage -fx "$2" -colorspace gray -scale "$3" -depth 8 -compress none pgm:- |
		awk 'NR > 3 { for (i = 1; i <= NF; i++) print $i }'
}

# xapp_tabs: print "X Y" (window coordinates) of each tab of the window's
# tab bar (Fyne AppTabs at the top), left to right. Tab buttons take no
# keyboard focus, so they are found in the pixels: the selected tab's
# underline is the first row from the top with 40 blue pixels in a row, and
# the tabs' labels are the groups of bright columns in the band above it.
xapp_tabs() {
	w=$(xdotool getwindowgeometry "$XAPP_WIN" | awk '/Geometry:/ { split($2, a, "x"); print a[1] }')
	line=$(xapp_profile "${w}x200+0+0" 'b>0.7 && r<0.5 ? 1 : 0' "${w}x200!" |
		awk -v w="$w" '{ x = (NR - 1) % w; if (x == 0) run = 0; run = $1 > 127 ? run + 1 : 0; if (run >= 40) { print int((NR - 1) / w); exit } }')
	[ -n "$line" ] || return 1
	xapp_profile "${w}x16+0+$((line - 25))" '(r>0.5 && g>0.5) || b>0.7 ? 1 : 0' "${w}x1!" |
		awk -v y=$((line - 17)) '
			BEGIN { start = -1 }
			$1 > 0 { x = NR - 1; if (start < 0 || x - last > 12) { if (start >= 0) print int((start + last) / 2), y; start = x }; last = x }
			END { if (start >= 0) print int((start + last) / 2), y }'
}

# xapp_click X Y: click the left button at window coordinates X, Y, then
# move the pointer off the window (no hover highlight left behind).
xapp_click() {
	xdotool mousemove --window "$XAPP_WIN" "$1" "$2" click 1
	xapp_pointer_away
}

# xapp_pointer_away: the pointer to the window's top right corner, over
# nothing that reacts to it (Fyne does not see the pointer leave the window,
# so moving it out would leave a hover highlight behind).
xapp_pointer_away() {
	eval "$(xdotool getwindowgeometry --shell "$XAPP_WIN")"
	xdotool mousemove --window "$XAPP_WIN" $((WIDTH - 2)) 2
}

# xapp_scroll CLICKS: turn the mouse wheel down CLICKS notches over the
# middle of the window, then move the pointer away.
xapp_scroll() {
	eval "$(xdotool getwindowgeometry --shell "$XAPP_WIN")"
	xdotool mousemove --window "$XAPP_WIN" $((WIDTH / 2)) $((HEIGHT / 2)) click --repeat "$1" --delay 30 5
	xapp_pointer_away
}

#!/usr/bin/env bash
# Screenshots of every screen of the real app, driven black-box on Xvfb:
#
#   scripts/screenshots.sh [OUTDIR]     (make screenshots; OUTDIR: docs/screenshots)
#
# Starts bin/onecxi-phone in demo mode (its built-in server on a free port,
# a fresh config directory), and with xdotool: types 90000, calls the echo
# DID, hangs up with Esc; then starts a second instance of the app
# (registered number 1002, on the first one's server) that calls the first
# (1001) as an app user, so the incoming screen shows (and the caller's
# ringing screen), accepts it from the keyboard and captures the call. Each capture is taken when the
# window has changed after an action and then stopped changing (polling the
# window's pixels, no fixed sleeps).
#
# Then it opens each tab of the window (Phone, History, Settings: found in
# the pixels by xapp_tabs, since tab buttons take no keyboard focus) and
# captures it as history.png, settings.png, …, named by the tab's position
# in TAB_NAMES; a tab that scrolls is also captured scrolled to its end as
# NAME-end.png.
#
# To add a screen: write a step like the ones below (keys or a tab, wait for
# the window to change and settle, shoot) and call it from main. Buttons are
# reached from the keyboard (Tab moves the focus, space presses the focused
# button), tabs with tab N.
set -eu
cd "$(dirname "$0")/.."
. scripts/lib/xapp.sh
trap xapp_cleanup EXIT
trap 'exit 130' INT TERM

OUT=${1:-docs/screenshots}
mkdir -p "$OUT"
[ -x "$XAPP_BIN" ] || xapp_die "build first: make bin/onecxi-phone"

# shoot NAME: save the current (settled) window as OUT/NAME.png.
shoot() {
	xapp_capture "$XAPP_TMP/$1.png"
	cp "$XAPP_TMP/$1.png" "$OUT/$1.png"
	echo "screenshots: $OUT/$1.png"
}

# act KEYS...: press keys (xdotool names) and wait for the window to change
# and settle. act_type TEXT: the same for typed text.
act() {
	xapp_capture "$XAPP_TMP/before.png"
	xapp_key "$@"
	xapp_wait_change "$XAPP_TMP/before.png"
}
act_type() {
	xapp_capture "$XAPP_TMP/before.png"
	xapp_type "$1"
	xapp_wait_change "$XAPP_TMP/before.png"
}

# ticks N: wait until the window has changed N more times (the call timer).
ticks() {
	i=0
	while [ "$i" -lt "$1" ]; do
		xapp_capture "$XAPP_TMP/tick.png"
		xapp_poll "the call timer to tick" xapp_changed_from "$XAPP_TMP/tick.png"
		i=$((i + 1))
	done
	xapp_poll "the window to settle" xapp_settled
}

# Names of the window's tabs, left to right; "-" skips one (the Phone tab,
# captured above as dialer and in-call).
TAB_NAMES=${TAB_NAMES:-"- history settings"}

# tab N: open the Nth tab (1-based) and wait for it to show.
tab() {
	xy=$(xapp_tabs | sed -n "${1}p")
	[ -n "$xy" ] || xapp_die "no tab $1 in the window"
	xapp_capture "$XAPP_TMP/before.png"
	# shellcheck disable=SC2086 # "X Y"
	xapp_click $xy
	xapp_wait_change "$XAPP_TMP/before.png"
	xapp_capture "$XAPP_TMP/before.png"
}

start_app() {
	xapp_display
	xapp_launch app -listen 127.0.0.1:0 -audio tone:440 -number 1001
	xapp_window "$XAPP_PID"
	xapp_banner app
	xapp_poll "the app to sign in (green status line)" xapp_signed_in
	xapp_poll "the window to settle" xapp_settled
	xapp_focus
}

# dialer, then in-call: the echo test.
echo_call() {
	act_type 90000
	shoot dialer
	xapp_capture "$XAPP_TMP/before.png"
	xapp_key Return
	xapp_poll "the call screen" xapp_changed_from "$XAPP_TMP/before.png"
	ticks 3 # connected, and the timer at 00:02 or so
	shoot incall
	act Escape # hang up: back to the dialer
}

# incoming, then the accepted app-to-app call: a second instance of the app
# (registered number 1002, signed in to the first one's server, as a
# colleague's desktop would be) calls this one (1001).
incoming_call() {
	main_win=$XAPP_WIN
	ONECXI_API_KEY=$XAPP_KEY xapp_launch caller -server "$XAPP_SERVER" -account demo -number 1002 -audio tone:660
	caller_pid=$XAPP_PID
	xapp_poll "the second instance's window" xapp_find_window_of "$caller_pid" >/dev/null
	caller_win=$(xapp_find_window_of "$caller_pid")
	# No window manager: place it beside the first so neither hides the other.
	xdotool windowmove "$caller_win" 660 0
	XAPP_WIN=$caller_win
	xapp_poll "the second instance to sign in" xapp_signed_in
	xapp_poll "its window to settle" xapp_settled
	xapp_focus
	# Call type: open the type choice at the top of the dialer and pick "App
	# user" (the keyboard can't reach it reliably without a window manager).
	xapp_click 200 105
	xapp_poll "the call type menu" xapp_settled
	xapp_click 200 217
	xapp_poll "its window to settle" xapp_settled
	xapp_click 200 147 # the number field takes the keyboard
	xapp_type 1001
	xapp_poll "its window to settle" xapp_settled

	XAPP_WIN=$main_win
	xapp_capture "$XAPP_TMP/before.png"
	XAPP_WIN=$caller_win
	xapp_key Return
	XAPP_WIN=$main_win
	xapp_wait_change "$XAPP_TMP/before.png"
	shoot incoming
	XAPP_WIN=$caller_win
	xapp_poll "the caller's window to settle" xapp_settled
	shoot calling

	# Accept from the keyboard: Tab to Decline, Tab to Accept, space.
	XAPP_WIN=$main_win
	xapp_focus
	xapp_key Tab Tab
	act space
	ticks 2
	shoot incall-app

	# The caller hangs up (Esc in its window).
	XAPP_WIN=$caller_win
	xapp_focus
	XAPP_WIN=$main_win
	xapp_capture "$XAPP_TMP/before.png"
	xapp_key Escape
	xapp_wait_change "$XAPP_TMP/before.png"
	xapp_stop "$caller_pid"
	xapp_poll "the window to settle" xapp_settled
	xapp_focus
}

tabs() {
	n=$(xapp_tabs | wc -l)
	i=1
	for name in $TAB_NAMES; do
		if [ "$i" -gt 1 ] && [ "$i" -le "$n" ] && [ "$name" != - ]; then
			tab "$i"
			shoot "$name"
			# a tab taller than the window: its end as NAME-end (the
			# pointer is back where it was, so only scrolling changes it)
			xapp_scroll 15
			if xapp_changes_within 2 "$XAPP_TMP/before.png"; then
				shoot "$name-end"
			fi
		fi
		i=$((i + 1))
	done
	[ "$n" -le 1 ] || tab 1
}

main() {
	start_app
	echo_call
	incoming_call
	tabs
}

main

#!/bin/sh
# windowscheck.sh: the Windows build runs under Wine: it signs in, places an
# echo call, hangs up and quits.
#
# On a private Xvfb display, with a private Wine prefix (and HOME) in a temp
# dir, it runs dist/onecxi-phone.exe — the GUI build `make build-windows`
# makes, as shipped — with its built-in demo server (-listen 127.0.0.1:0) and
# a test tone for a microphone (-audio tone:440), and checks, as a user would
# see it:
#   - the "OneCxi Phone" window shows and goes Online (the green status line
#     "● Online as 1001 · …", and "listening for incoming calls" in its log);
#     the demo banner on its stdout;
#   - 90000 typed into the dialer and a click on Call: the echo service
#     answers (log), the red End call button shows, the call timer runs;
#   - a click on End call: the call ends (log: reason=hangup, with the echo's
#     frames received) and the dialer is back (green Call button, no red);
#   - Alt+F4 hides the window into the tray (Windows has one), and Quit in the
#     tray icon's menu (right click) ends the process with exit code 0.
# The in-call window is kept as $OUT (default: the temp dir, removed at exit).
#
# Wine 8.0 (Debian 12) lacks bcryptprimitives.dll, whose ProcessPrng Go's
# runtime needs before main: unless the Wine in use has it, the check builds
# a stand-in from scripts/wineshim (a Wine-only test aid, never shipped) with
# mingw-w64 into the prefix's system32.
#
# Needs: wine (wine64), mingw-w64 ($WINDOWS_CC, x86_64-w64-mingw32-gcc),
# Xvfb, xdotool, ImageMagick (import, compare, convert); make windows-check
# installs them and builds the .exe. Environment: XAPP_BIN (the .exe),
# WINE_TIMEOUT (180: seconds for the prefix's first boot and for the window
# and sign-in), XAPP_TIMEOUT (60: any other wait), WINEDEBUG (-all),
# XAPP_KEEP=1 keeps the temp dir (logs, prefix, captures).
set -eu
cd "$(dirname "$0")/.."
XAPP_BIN=${XAPP_BIN:-dist/onecxi-phone.exe}
. scripts/lib/xapp.sh
WINE_TIMEOUT=${WINE_TIMEOUT:-180}
XAPP_TIMEOUT=${XAPP_TIMEOUT:-60}
STEP_TIMEOUT=$XAPP_TIMEOUT
WINDOWS_CC=${WINDOWS_CC:-x86_64-w64-mingw32-gcc}

# The private prefix's Wine processes (wineserver, explorer, the app) go
# first — never those of a WINEPREFIX the caller had set — then what xapp
# started (Xvfb) and the temp dir.
prefix=""
cleanup() {
	if [ -n "$prefix" ] && [ -d "$prefix" ]; then
		WINEPREFIX=$prefix wineserver -k 2>/dev/null || true
		WINEPREFIX=$prefix wineserver -w 2>/dev/null || true
	fi
	xapp_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -f "$XAPP_BIN" ] || xapp_die "build first: make build-windows (or set XAPP_BIN)"
for tool in wine wineboot wineserver "$WINDOWS_CC" Xvfb xdotool import convert; do
	command -v "$tool" >/dev/null || xapp_die "$tool missing (make windows-check installs it)"
done
exe=$(cd "$(dirname "$XAPP_BIN")" && pwd)/$(basename "$XAPP_BIN")
t0=$(xapp_now_ms)

# A private prefix and HOME: nothing of the user's Wine setup is used or
# changed (winemenubuilder, off, would add menu entries and file types to
# HOME). mscoree and mshtml off: wineboot does not offer to install Mono
# and Gecko, which the app does not use.
prefix="$XAPP_TMP/prefix"
export WINEPREFIX="$prefix" WINEARCH=win64 WINEDEBUG="${WINEDEBUG:--all}"
export HOME="$XAPP_TMP/home" XDG_CONFIG_HOME="$XAPP_TMP/home/.config" XDG_DATA_HOME="$XAPP_TMP/home/.local/share" XDG_CACHE_HOME="$XAPP_TMP/home/.cache"
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
mkdir -p "$HOME"

# The ProcessPrng stand-in, built before anything runs (seconds at most).
shim="$XAPP_TMP/bcryptprimitives.dll"
"$WINDOWS_CC" -O2 -Wall -Wextra -Werror -shared -nostdlib -Wl,--entry,DllMain -o "$shim" \
	scripts/wineshim/bcryptprimitives.c scripts/wineshim/bcryptprimitives.def -ladvapi32 -lkernel32 ||
	xapp_die "building scripts/wineshim/bcryptprimitives.dll failed"

xapp_display

# First boot of the prefix (creates C:\windows, the registry; starts
# wineserver and explorer, whose system tray the app's icon goes to).
boot_ms=$(xapp_now_ms)
timeout "$WINE_TIMEOUT" wineboot --init >"$XAPP_TMP/wineboot.out" 2>&1 ||
	xapp_die "wineboot --init failed or took over ${WINE_TIMEOUT}s: $(tail -n 20 "$XAPP_TMP/wineboot.out")"
sys32="$WINEPREFIX/drive_c/windows/system32"
[ -d "$sys32" ] || xapp_die "wineboot made no $sys32: $(tail -n 20 "$XAPP_TMP/wineboot.out")"
boot_ms=$(($(xapp_now_ms) - boot_ms))

# Wine's own bcryptprimitives.dll where the prefix has one with ProcessPrng
# (a later Wine); ours otherwise, loaded ahead of any builtin without it.
if [ -f "$sys32/bcryptprimitives.dll" ] && grep -q ProcessPrng "$sys32/bcryptprimitives.dll"; then
	prng="Wine's own bcryptprimitives.dll"
else
	cp "$shim" "$sys32/bcryptprimitives.dll"
	export WINEDLLOVERRIDES="$WINEDLLOVERRIDES;bcryptprimitives=n"
	prng="the test aid scripts/wineshim/bcryptprimitives.dll (this Wine has no ProcessPrng)"
fi
echo "windowscheck: $(wine --version 2>/dev/null || echo wine), prefix booted in $((boot_ms / 1000)).$((boot_ms % 1000 / 100)) s; ProcessPrng from $prng"

# The app, as xapp_launch starts bin/onecxi-phone: stdout (the demo banner)
# to app.out, stderr (its log) to app.log. /usr/bin/wine execs the loader,
# which becomes the Windows process: XAPP_PID is the app itself.
XAPP_START_MS=$(xapp_now_ms)
wine "$exe" -listen 127.0.0.1:0 -audio tone:440 -number 1001 >"$XAPP_TMP/app.out" 2>"$XAPP_TMP/app.log" &
XAPP_PID=$!
xapp_track "$XAPP_PID"
pid=$XAPP_PID

# logged PATTERN: the app's log has a line matching the extended regexp.
logged() { grep -Eq "$1" "$XAPP_TMP/app.log"; }

XAPP_TIMEOUT=$WINE_TIMEOUT
xapp_window "$pid"
window_ms=$((XAPP_WIN_MS - XAPP_START_MS))
xapp_poll "the app to sign in (green status line; its log: $XAPP_TMP/app.log)" xapp_signed_in
xapp_poll "'listening for incoming calls' in the app's log" logged 'msg="callcore: listening for incoming calls" registered_number=1001'
online_ms=$(($(xapp_now_ms) - XAPP_START_MS))
XAPP_TIMEOUT=$STEP_TIMEOUT
xapp_banner app
xapp_poll "the window to settle" xapp_settled
echo "windowscheck: window after ${window_ms} ms, Online after ${online_ms} ms (demo server $XAPP_SERVER)"
# One phone per user (app/instance) needs AF_UNIX sockets, which Windows has
# since 10 1803 and Wine 8.0 does not (socket() fails, WSAEAFNOSUPPORT): the
# app says so and runs on its own, which is what this check expects there.
if logged 'not checking for a running phone'; then
	printf 'windowscheck: note: the app runs without its single-instance channel here: %s\n' "$(sed -n 's/.*msg="not checking for a running phone" err="\(.*\)"$/\1/p' "$XAPP_TMP/app.log" | sed 's/\\\\/\\/g' | head -n 1)"
fi

# band_y FX: the window row in the middle of the first band (below the
# status line) of rows matching the ImageMagick -fx expression FX — a
# full-width button — in an 8-pixel strip a fifth of the way across (left
# of the button's label; -fx over the whole window takes seconds). Fails
# if there is none.
band_y() {
	eval "$(xdotool getwindowgeometry --shell "$XAPP_WIN")"
	xapp_profile "8x${HEIGHT}+$((WIDTH / 5))+0" "$1 ? 1 : 0" "1x${HEIGHT}!" |
		awk 'NR > 40 && $1 > 153 { if (!s) s = NR; e = NR; next } s { exit } END { if (!s) exit 1; print int((s + e) / 2) - 1 }'
}
GREEN='g>0.7 && r<0.5 && b<0.5' # the Call button
RED='r>0.8 && g<0.4 && b<0.4'   # the End call button
has_red() { band_y "$RED" >/dev/null; }
idle_dialer() { band_y "$GREEN" >/dev/null && ! band_y "$RED" >/dev/null; }

# click_band FX WHAT: click the middle of that button.
click_band() {
	y=$(band_y "$1") || xapp_die "no $2 button in the window"
	eval "$(xdotool getwindowgeometry --shell "$XAPP_WIN")"
	xapp_click $((WIDTH / 2)) "$y"
}

# The echo call: typed and clicked as a user would.
xapp_poll "the dialer (green Call button)" idle_dialer
xapp_focus
xapp_capture "$XAPP_TMP/before.png"
xapp_type 90000
xapp_wait_change "$XAPP_TMP/before.png"
call_ms=$(xapp_now_ms)
click_band "$GREEN" Call
xapp_poll "the echo service to answer (its log: $XAPP_TMP/app.log)" logged 'msg="callcore: call answered"'
answer_ms=$(($(xapp_now_ms) - call_ms))
xapp_poll "the End call button" has_red
grep -q 'msg="callcore: call started" kind=inbound to=90000' "$XAPP_TMP/app.log" ||
	xapp_die "the call was not to the service number 90000: $(grep 'call started' "$XAPP_TMP/app.log")"
# the call timer runs: two changes in a row, a second apart
xapp_capture "$XAPP_TMP/tick.png"
xapp_poll "the call timer" xapp_changed_from "$XAPP_TMP/tick.png"
cp "$XAPP_TMP/now.png" "$XAPP_TMP/tick.png"
xapp_poll "the call timer" xapp_changed_from "$XAPP_TMP/tick.png"
out=${OUT:-$XAPP_TMP/windows-incall.png}
xapp_capture "$out"
echo "windowscheck: call to 90000 answered after ${answer_ms} ms; in call: $out"

click_band "$RED" "End call"
xapp_poll "the call to end (its log: $XAPP_TMP/app.log)" logged 'msg="callcore: call ended".* reason=hangup'
xapp_poll "the dialer again (green Call button, no red)" idle_dialer
xapp_signed_in || xapp_die "not Online after the call"
ended=$(grep -o 'msg="callcore: call ended".*' "$XAPP_TMP/app.log" | head -n 1)
sent=$(echo "$ended" | sed -n 's/.* frames_sent=\([0-9]*\).*/\1/p')
received=$(echo "$ended" | sed -n 's/.* frames_received=\([0-9]*\).*/\1/p')
# 20 ms frames: the echo came back for most of what was sent
if [ -z "$sent" ] || [ -z "$received" ] || [ "$received" -eq 0 ] || [ $((received * 2)) -lt "$sent" ]; then
	xapp_die "the echo did not come back: $ended"
fi
echo "windowscheck: hung up, back to the dialer; $sent frames sent, $received echoed back"

# Quit as a Windows user does: closing the window leaves the phone in the
# tray (calls still ring); the tray icon's menu has Quit, its last item.
xapp_focus
xapp_key alt+F4
hidden() { [ -z "$(xapp_find_window)" ]; }
xapp_poll "Alt+F4 to hide the window" hidden
tray_window() { xdotool search --onlyvisible --name '^Wine System Tray$' 2>/dev/null | head -n 1 | grep .; }
xapp_poll "Wine's system tray" tray_window >/dev/null
tray=$(tray_window)
xdotool mousemove --window "$tray" 10 10 click 3 # our icon, the tray's first
# menu_window: the app's visible window (its main one is hidden) of menu
# size, not one of the tiny helper windows Wine maps.
menu_window() {
	for w in $(xdotool search --onlyvisible --pid "$pid" 2>/dev/null); do
		eval "$(xdotool getwindowgeometry --shell "$w")"
		if [ "$WIDTH" -ge 50 ] && [ "$HEIGHT" -ge 30 ]; then
			echo "$w"
			return 0
		fi
	done
	return 1
}
xapp_poll "the tray icon's menu" menu_window >/dev/null
menu=$(menu_window)
eval "$(xdotool getwindowgeometry --shell "$menu")"
xdotool mousemove --window "$menu" 40 $((HEIGHT - 12)) click 1
exited() { ! kill -0 "$pid" 2>/dev/null; }
xapp_poll "the app to quit after Quit in the tray menu" exited
rc=0
wait "$pid" || rc=$?
xapp_untrack "$pid"
[ "$rc" = 0 ] || xapp_die "the app exited with code $rc; its log: $(tail -n 20 "$XAPP_TMP/app.log")"
if logged 'level=ERROR'; then
	xapp_die "errors in the app's log: $(grep 'level=ERROR' "$XAPP_TMP/app.log")"
fi
echo "windowscheck: quit from the tray menu, exit code 0; $(( ($(xapp_now_ms) - t0) / 1000 )) s in all"

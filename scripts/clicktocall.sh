#!/bin/sh
# clicktocall.sh: a tel: link opened with xdg-open reaches the running phone.
#
# On a private Xvfb display, with private XDG directories (data, config,
# runtime), it installs the phone's desktop entry (packaging/linux, Exec
# pointing at $XAPP_BIN) as the handler of tel:, callto: and sip: links,
# starts the phone, opens "tel:+1 (415) 555-0100" with xdg-open — which
# starts a second phone, which hands the link to the running one and exits —
# and checks that the running phone's dialer holds +14155550100 (read back
# from its widget into its log) and that its window changed, and that
# neither start printed a locale error under LANG=C.UTF-8. The screenshot
# is kept as $OUT (default: the temp dir, removed at exit).
#
# Needs: Xvfb, xdotool, ImageMagick (import, compare), xdg-utils; make
# clicktocall-check installs them and builds bin/onecxi-phone.
set -eu
cd "$(dirname "$0")/.."
. scripts/lib/xapp.sh
trap xapp_cleanup EXIT
[ -x "$XAPP_BIN" ] || xapp_die "build first: make bin/onecxi-phone"
command -v xdg-open >/dev/null || xapp_die "xdg-open missing (apt-get install xdg-utils)"

home="$XAPP_TMP/app.home"
mkdir -p "$home/.config" "$home/.local/share/applications" "$XAPP_TMP/run"
chmod 700 "$XAPP_TMP/run"
export XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" XDG_RUNTIME_DIR="$XAPP_TMP/run"
export XDG_DATA_DIRS="$XDG_DATA_HOME" # only ours: no system handler competes
# The locale of many containers and minimal systems, under which Fyne used
# to print "Error parsing user locale C" (internal/localefix).
export LANG=C.UTF-8 LC_ALL= LC_MESSAGES= LANGUAGE=
bin=$(cd "$(dirname "$XAPP_BIN")" && pwd)/$(basename "$XAPP_BIN")
sed "s|@EXEC@|$bin|" packaging/linux/onecxi-phone.desktop.in >"$XDG_DATA_HOME/applications/onecxi-phone.desktop"
for scheme in tel callto sip sips; do
	HOME="$home" xdg-mime default onecxi-phone.desktop "x-scheme-handler/$scheme"
done
got=$(HOME="$home" xdg-mime query default x-scheme-handler/tel)
[ "$got" = onecxi-phone.desktop ] || xapp_die "xdg-mime did not take the handler (got '$got')"

xapp_display
xapp_launch app -listen 127.0.0.1:0 -audio none
xapp_window "$XAPP_PID"
xapp_poll "the app to sign in (green status line)" xapp_signed_in
xapp_poll "the window to settle" xapp_settled
xapp_capture "$XAPP_TMP/before.png"

link="tel:+1 (415) 555-0100"
HOME="$home" xdg-open "$link" >"$XAPP_TMP/xdg-open.out" 2>&1 || xapp_die "xdg-open failed: $(cat "$XAPP_TMP/xdg-open.out")"
opened() { grep -q 'click-to-call link opened" dialer=+14155550100' "$XAPP_TMP/app.log"; }
xapp_poll "the running phone to put the number in its dialer (its log: $XAPP_TMP/app.log)" opened
xapp_poll "the window to show the number" xapp_changed_from "$XAPP_TMP/before.png"
xapp_poll "the window to settle" xapp_settled
out=${OUT:-$XAPP_TMP/clicktocall.png}
xapp_capture "$out"
# One phone: the second start handed over and exited (xdg-open waited for
# it), and the first still runs.
grep -q 'handed to the phone already running' "$XAPP_TMP/xdg-open.out" ||
	xapp_die "the second start did not hand over: $(cat "$XAPP_TMP/xdg-open.out")"
kill -0 "$XAPP_PID" 2>/dev/null || xapp_die "the running phone exited"
if grep -h 'Error parsing user locale' "$XAPP_TMP/app.log" "$XAPP_TMP/xdg-open.out"; then
	xapp_die "a locale error under LANG=C.UTF-8"
fi
echo "clicktocall: xdg-open '$link' reached the running phone: $(grep -o 'click-to-call link opened.*' "$XAPP_TMP/app.log" | head -n 1)"

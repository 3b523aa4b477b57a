#!/bin/sh
# add-url-types.sh APP: registers a built "OneCxi Phone.app" for tel:,
# callto:, sip: and sips: links by merging url-types.plist (next to this
# script) into its Contents/Info.plist; `fyne package` has no field for
# CFBundleURLTypes. macOS then sends the app a Get URL Apple Event for such
# a link (platform/openurl_darwin.m takes it). Run again, it replaces the
# entry rather than adding a second one. make package-darwin runs it.
#
# Needs macOS: /usr/libexec/PlistBuddy and plutil are part of every macOS.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 'OneCxi Phone.app'" >&2; exit 2; }
app=$1
if [ "$(uname -s)" != Darwin ] || [ ! -x /usr/libexec/PlistBuddy ]; then
  echo "add-url-types.sh: needs macOS (/usr/libexec/PlistBuddy, plutil); this is $(uname -s)" >&2
  exit 1
fi
plist=$app/Contents/Info.plist
[ -f "$plist" ] || { echo "add-url-types.sh: no $plist (build the app first)" >&2; exit 1; }

# PlistBuddy splits its command at spaces: merge from a path without any.
fragment=$(mktemp -t onecxi-url-types)
trap 'rm -f "$fragment"' EXIT
cp "$here/url-types.plist" "$fragment"
/usr/libexec/PlistBuddy -c 'Delete :CFBundleURLTypes' "$plist" >/dev/null 2>&1 || true
/usr/libexec/PlistBuddy -c "Merge $fragment" "$plist"
plutil -lint "$plist"
echo "add-url-types.sh: $plist now declares:"
/usr/libexec/PlistBuddy -c 'Print :CFBundleURLTypes' "$plist"

#!/bin/sh
# finish-ios.sh APP TEAM_ID IDENTITY [development|production]: makes the
# "OneCxi Phone.app" that `fyne package -os ios` built into one that takes
# VoIP calls: merges Info-additions.plist (UIBackgroundModes voip, audio,
# remote-notification) into its Info.plist, and signs it again with
# entitlements.plist.in filled in (aps-environment, the PushKit
# entitlement), with the provisioning profile already embedded by fyne
# (embedded.mobileprovision, which must grant aps-environment). fyne
# package has no field for either (docs/ios.md). Run again, it gives the
# same result.
#
# IDENTITY is the signing certificate's name as `security find-identity -v
# -p codesigning` lists it ("Apple Development: …" for development,
# "Apple Distribution: …" for production).
#
# Needs macOS: /usr/libexec/PlistBuddy, plutil, codesign (Xcode).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  echo "usage: $0 'OneCxi Phone.app' TEAM_ID IDENTITY [development|production]" >&2
  exit 2
fi
app=$1 team=$2 identity=$3 env=${4:-development}
case $env in
development) allow=true ;;
production) allow=false ;;
*) echo "finish-ios.sh: the environment is development or production, not $env" >&2; exit 2 ;;
esac
if [ "$(uname -s)" != Darwin ] || [ ! -x /usr/libexec/PlistBuddy ]; then
  echo "finish-ios.sh: needs macOS with Xcode (/usr/libexec/PlistBuddy, codesign); this is $(uname -s)" >&2
  exit 1
fi
plist=$app/Info.plist
[ -f "$plist" ] || { echo "finish-ios.sh: no $plist (run fyne package -os ios first)" >&2; exit 1; }
[ -f "$app/embedded.mobileprovision" ] || { echo "finish-ios.sh: $app has no embedded.mobileprovision (fyne package -os ios -profile …)" >&2; exit 1; }
bundle=$(/usr/libexec/PlistBuddy -c 'Print :CFBundleIdentifier' "$plist")

work=$(mktemp -d -t onecxi-ios)
trap 'rm -rf "$work"' EXIT
# PlistBuddy splits its command at spaces: merge from a path without any.
cp "$here/Info-additions.plist" "$work/additions.plist"
/usr/libexec/PlistBuddy -c 'Delete :UIBackgroundModes' "$plist" >/dev/null 2>&1 || true
/usr/libexec/PlistBuddy -c "Merge $work/additions.plist" "$plist"
plutil -lint "$plist"

sed -e "s/@TEAM_ID@/$team/g" -e "s/@BUNDLE_ID@/$bundle/g" -e "s/@APS_ENVIRONMENT@/$env/g" \
  -e "s/@GET_TASK_ALLOW@/$allow/g" "$here/entitlements.plist.in" >"$work/entitlements.plist"
plutil -lint "$work/entitlements.plist"

# The profile must grant what the app claims, or iOS refuses to install it.
security cms -D -i "$app/embedded.mobileprovision" >"$work/profile.plist"
granted=$(/usr/libexec/PlistBuddy -c 'Print :Entitlements:aps-environment' "$work/profile.plist" 2>/dev/null || true)
if [ "$granted" != "$env" ]; then
  echo "finish-ios.sh: the embedded profile grants aps-environment '${granted:-none}', not $env: enable Push Notifications for $bundle and make the profile again" >&2
  exit 1
fi

codesign --force --sign "$identity" --entitlements "$work/entitlements.plist" --timestamp=none "$app"
codesign --verify --strict "$app"
echo "finish-ios.sh: $app: UIBackgroundModes and entitlements:"
/usr/libexec/PlistBuddy -c 'Print :UIBackgroundModes' "$plist"
codesign -d --entitlements - "$app" 2>/dev/null

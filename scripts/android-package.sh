#!/usr/bin/env bash
# make android: the release APK, dist/onecxi-phone-<version>.apk.
#
#   1. checks for the Android NDK and the release key first, and stops with
#      what is missing (nothing is built, no APK is faked);
#   2. `fyne package --target android --release` in a copy of the main
#      package with android/fyne/AndroidManifest.xml beside it, so that the
#      Go library is lib/<abi>/libonecxi.so (see that file);
#   3. scripts/android-build.sh: our manifest, resources and classes.dex;
#   4. scripts/android-merge.sh: our classes as classes2.dex, our manifest
#      and resources in place of fyne's, zipalign, signed with the key.
#
# Environment (docs/android.md): ANDROID_NDK_HOME (or ANDROID_HOME with
# ndk-bundle), ANDROID_KEYSTORE, ANDROID_KEY_ALIAS, ANDROID_KEYSTORE_PASS
# [, ANDROID_KEY_PASS, ANDROID_EXTRA_DEX]; FYNE (the pinned fyne command)
# and DIST come from the Makefile. With --preflight it only checks step 1
# (the Makefile runs that before installing fyne).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FYNE=${FYNE:?run through make android}
preflight=false
[ "${1:-}" = --preflight ] && preflight=true
DIST=${DIST:-dist}
case "$DIST" in /*) ;; *) DIST="$ROOT/$DIST" ;; esac
die() {
	echo "make android: $*" >&2
	exit 1
}

# 1. What must be there before anything is built.
ndk=""
if [ -n "${ANDROID_NDK_HOME:-}" ] && [ -d "$ANDROID_NDK_HOME" ]; then
	ndk=$ANDROID_NDK_HOME
elif [ -n "${ANDROID_HOME:-}" ] && [ -d "$ANDROID_HOME/ndk-bundle" ]; then
	ndk=$ANDROID_HOME/ndk-bundle
fi
if [ -z "$ndk" ]; then
	die "needs the Android NDK, which this machine does not have: set ANDROID_NDK_HOME to an unpacked NDK
  (r27c, 27.2.12479018, recommended; fyne tools $(basename "$(dirname "$FYNE")" | sed 's/^fyne-//') need r19c or newer),
  or ANDROID_HOME to an SDK with ndk-bundle/. Nothing was built. Here, make android-check
  builds and checks the Java side and the merge (docs/android.md)."
fi
clang=$(find "$ndk"/toolchains/llvm/prebuilt/*/bin -maxdepth 1 -name 'aarch64-linux-android[0-9]*-clang' 2>/dev/null | head -n 1 || true)
[ -n "$clang" ] || die "$ndk is not an NDK fyne can use: no toolchains/llvm/prebuilt/*/bin/aarch64-linux-android<API>-clang (fyne needs r19c or newer)"
: "${ANDROID_KEYSTORE:?make android: set ANDROID_KEYSTORE to the release keystore (never in the repository; docs/android.md)}"
: "${ANDROID_KEY_ALIAS:?make android: set ANDROID_KEY_ALIAS}"
: "${ANDROID_KEYSTORE_PASS:?make android: set ANDROID_KEYSTORE_PASS}"
[ -r "$ANDROID_KEYSTORE" ] || die "cannot read ANDROID_KEYSTORE=$ANDROID_KEYSTORE"
if $preflight; then
	echo "make android: NDK $ndk, key $ANDROID_KEY_ALIAS in $ANDROID_KEYSTORE"
	exit 0
fi

toml() { sed -n "s/^$1 *= *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" "$ROOT/FyneApp.toml" | head -n 1; }
version=$(toml Version)
build=$(toml Build)

# 2. fyne package. A copy of the main package, as make package does: fyne
# bumps Build in the FyneApp.toml it reads, and the manifest must sit next
# to main.go. Mobile builds take no --src: fyne runs in that folder.
work="$DIST/android"
src="$work/_src"
rm -rf "$work"
mkdir -p "$src/assets"
cp "$ROOT/FyneApp.toml" "$ROOT/main.go" "$src/"
cp "$ROOT/assets/icon.png" "$src/assets/"
cp "$ROOT/android/fyne/AndroidManifest.xml" "$src/AndroidManifest.xml"
echo "make android: fyne package --target android --release (NDK $ndk)"
# 16 KB pages (Android 15 devices; Google Play): fyne sets this only for
# `fyne release`, which makes an .aab.
(cd "$src" && ANDROID_NDK_HOME="$ndk" CGO_LDFLAGS="${CGO_LDFLAGS:-} -Wl,-z,max-page-size=16384" \
	"$FYNE" package --target android --release --tags no_emoji)
fyne_apk=$(find "$src" -maxdepth 1 -name '*.apk' | head -n 1)
[ -n "$fyne_apk" ] || die "fyne package made no .apk in $src"

# 3 and 4. Our side, with FyneApp.toml's version (fyne's copy was bumped).
"$ROOT/scripts/android-build.sh" "$work/java" "$build" "$version"
out="$DIST/onecxi-phone-$version.apk"
"$ROOT/scripts/android-merge.sh" "$fyne_apk" "$work/java" "$out"
rm -rf "$work"
echo "make android: $out"

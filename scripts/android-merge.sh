#!/usr/bin/env bash
# Puts the Java side (scripts/android-build.sh's output) into the APK that
# `fyne package -os android` made, and signs the result:
#
#   scripts/android-merge.sh FYNE_APK BUILD_DIR OUT_APK
#
# Signing key, from the environment (never from the repository):
#   ANDROID_KEYSTORE       keystore file (JKS or PKCS12)
#   ANDROID_KEY_ALIAS      key alias in it
#   ANDROID_KEYSTORE_PASS  keystore password (read by apksigner from the
#                          environment, not the command line)
#   ANDROID_KEY_PASS       key password, when not the keystore's
# Optional: ANDROID_EXTRA_DEX, space-separated .dex files to add after ours
# (classes3.dex, ...), e.g. Firebase's libraries dexed on the NDK host.
#
# How: the APK is rebuilt, not patched. From fyne's APK come its classes.dex
# (GoNativeActivity), lib/<abi>/lib<name>.so (the Go app) and assets/; from
# BUILD_DIR/res.apk (aapt2 link of android/AndroidManifest.xml and
# android/res) come AndroidManifest.xml, resources.arsc and res/, which
# replace fyne's; BUILD_DIR/classes.dex goes in as classes2.dex (Android 5+
# loads classesN.dex itself: no multidex library). fyne's signature
# (META-INF) is dropped; zipalign, then apksigner signs (v1 for Android 6,
# v2/v3 for 7+).
#
# Why not decode fyne's binary manifest and add our entries: fyne writes it
# with its own encoder (binres), which knows neither services nor
# foregroundServiceType flags; our manifest repeats fyne's few entries
# (GoNativeActivity with its lib_name meta-data, FyneNotificationReceiver)
# instead, and this script checks that the library fyne built is the one our
# manifest names.
set -euo pipefail

if [ $# -ne 3 ]; then
	echo "usage: $0 FYNE_APK BUILD_DIR OUT_APK" >&2
	exit 2
fi
FYNE_APK=$1
BUILD=$2
OUT=$3
die() {
	echo "android-merge: $*" >&2
	exit 1
}

for f in "$FYNE_APK" "$BUILD/res.apk" "$BUILD/classes.dex"; do
	[ -s "$f" ] || die "missing $f"
done
: "${ANDROID_KEYSTORE:?android-merge: set ANDROID_KEYSTORE (keystore file) to sign}"
: "${ANDROID_KEY_ALIAS:?android-merge: set ANDROID_KEY_ALIAS (key alias in ANDROID_KEYSTORE)}"
: "${ANDROID_KEYSTORE_PASS:?android-merge: set ANDROID_KEYSTORE_PASS (keystore password)}"
[ -r "$ANDROID_KEYSTORE" ] || die "cannot read ANDROID_KEYSTORE=$ANDROID_KEYSTORE"
export ANDROID_KEYSTORE_PASS

# aapt2 from Debian (Android 10) warns about chunk types of Android 14's
# resource tables it skips; the rest of what it says stays.
aapt2q() { aapt2 "$@" 2> >(grep -v "Unknown chunk type" >&2); }

# The Go library's name in a manifest (android.app.lib_name meta-data).
lib_name() {
	aapt2q dump xmltree --file AndroidManifest.xml "$1" |
		awk '/E: / { md = /E: meta-data/; name = 0 }
		     md && /:name/ && /"android.app.lib_name"/ { name = 1 }
		     md && name && /:value/ && !done { sub(/.*="/, ""); sub(/".*/, ""); print; done = 1 }'
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ours=$(lib_name "$BUILD/res.apk")
theirs=$(lib_name "$FYNE_APK")
[ -n "$ours" ] || die "android/AndroidManifest.xml names no android.app.lib_name"
[ "$ours" = "$theirs" ] ||
	die "fyne built the Go library as lib$theirs.so, our manifest loads lib$ours.so (android/AndroidManifest.xml and android/fyne/AndroidManifest.xml must agree)"

mapfile -t entries < <(unzip -Z1 "$FYNE_APK")
libs=0
for e in "${entries[@]}"; do
	case "$e" in lib/*/"lib$ours.so") libs=$((libs + 1)) ;; esac
done
[ "$libs" -gt 0 ] || die "$FYNE_APK has no lib/<abi>/lib$ours.so"

# Keep fyne's code, native libraries and assets; drop its manifest,
# resources and signature.
mkdir "$work/fyne"
keep=()
for e in "${entries[@]}"; do
	case "$e" in
	*/) ;;
	AndroidManifest.xml | resources.arsc | res/* | META-INF/*) ;;
	*) keep+=("$e") ;;
	esac
done
unzip -q "$FYNE_APK" "${keep[@]}" -d "$work/fyne"
[ -f "$work/fyne/classes.dex" ] || die "$FYNE_APK has no classes.dex (fyne's GoNativeActivity)"

# Our dex after fyne's: the next free classesN.dex.
n=2
while [ -e "$work/fyne/classes$n.dex" ]; do n=$((n + 1)); done
cp "$BUILD/classes.dex" "$work/fyne/classes$n.dex"
ours_dex="classes$n.dex"
for extra in ${ANDROID_EXTRA_DEX:-}; do
	n=$((n + 1))
	[ -s "$extra" ] || die "ANDROID_EXTRA_DEX: missing $extra"
	cp "$extra" "$work/fyne/classes$n.dex"
done

# res.apk already holds AndroidManifest.xml, resources.arsc (stored, as
# Android 11+ requires for targetSdk 30+) and res/.
cp "$BUILD/res.apk" "$work/unaligned.apk"
(cd "$work/fyne" && zip -q -r -X "$work/unaligned.apk" .)
zipalign -p -f 4 "$work/unaligned.apk" "$work/aligned.apk"

signer=(--ks "$ANDROID_KEYSTORE" --ks-key-alias "$ANDROID_KEY_ALIAS" --ks-pass env:ANDROID_KEYSTORE_PASS)
if [ -n "${ANDROID_KEY_PASS:-}" ]; then
	export ANDROID_KEY_PASS
	signer+=(--key-pass env:ANDROID_KEY_PASS)
fi
mkdir -p "$(dirname "$OUT")"
apksigner sign "${signer[@]}" --out "$OUT" "$work/aligned.apk"
apksigner verify "$OUT"
echo "android-merge: $OUT (lib$ours.so for $libs ABI(s), our classes in $ours_dex, $(du -h "$OUT" | cut -f1))"

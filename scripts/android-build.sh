#!/usr/bin/env bash
# Builds the Java side of the Android app (android/):
#
#   scripts/android-build.sh OUT_DIR [VERSION_CODE VERSION_NAME]
#
#   OUT_DIR/res.apk      AndroidManifest.xml (android/AndroidManifest.xml),
#                        resources.arsc and res/, linked by aapt2 against
#                        Android 14's framework-res
#   OUT_DIR/classes.dex  com.onecxi.phone.* (with the R class of that link),
#                        compiled as Java 8 against API 23 and dexed by dx
#
# Version code and name default to FyneApp.toml's Build and Version; make
# android passes the ones fyne package wrote into its APK. The app ID is
# FyneApp.toml's ID.
#
# Stubs of newer Android APIs and of Firebase (android/stubs) are compiled
# and used on javac's class paths only (android/tools/MergeStubs.java); they
# are never dexed: dx reads OUT_DIR/classes, where only our classes are.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/android-tools.sh
. "$ROOT/scripts/android-tools.sh"

if [ $# -ne 1 ] && [ $# -ne 3 ]; then
	echo "usage: $0 OUT_DIR [VERSION_CODE VERSION_NAME]" >&2
	exit 2
fi
OUT=$1
toml() { sed -n "s/^$1 *= *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" "$ROOT/FyneApp.toml" | head -n 1; }
VERSION_CODE=${2:-$(toml Build)}
VERSION_NAME=${3:-$(toml Version)}
APP_ID=$(toml ID)
case "$VERSION_CODE" in '' | *[!0-9]*)
	echo "android-build: version code '$VERSION_CODE' is not a number" >&2
	exit 2
	;;
esac
if [ -z "$VERSION_NAME" ] || [ -z "$APP_ID" ]; then
	echo "android-build: no Version or ID in FyneApp.toml" >&2
	exit 2
fi

android_tools_check_system
android_tools_fetch

A="$ROOT/android"
# Debian's aapt2 (Android 10) warns about chunk types of Android 14's
# resource table that it skips; anything else it says stays.
aapt2q() { aapt2 "$@" 2> >(grep -v "Unknown chunk type" >&2); }
JAVAC_FLAGS=(-source 8 -target 8 -encoding UTF-8 -nowarn -g -Xlint:-options)
rm -rf "$OUT"
mkdir -p "$OUT"/{compiled,gen,stubs-android,stubs-lib,classes,res-gen/mipmap-xxxhdpi}

# 1. Resources: android/res plus the launcher icon from the app's icon (the
# one fyne would have put in; our resource table replaces fyne's).
cp "$ROOT/assets/icon.png" "$OUT/res-gen/mipmap-xxxhdpi/ic_launcher.png"
aapt2 compile --dir "$A/res" -o "$OUT/compiled/res.zip"
aapt2 compile --dir "$OUT/res-gen" -o "$OUT/compiled/icon.zip"
aapt2q link -o "$OUT/res.apk" \
	-I "$FRAMEWORK_RES" \
	--manifest "$A/AndroidManifest.xml" \
	--rename-manifest-package "$APP_ID" \
	--custom-package com.onecxi.phone \
	--java "$OUT/gen" \
	--version-code "$VERSION_CODE" --version-name "$VERSION_NAME" \
	"$OUT/compiled/res.zip" "$OUT/compiled/icon.zip"

# 2. Stubs. android.* first, merged into API 23's classes (a boot class path
# that comes before android.jar); then Firebase's against that.
mapfile -t android_stubs < <(find "$A/stubs/android" -name '*.java' | sort)
mapfile -t lib_stubs < <(find "$A/stubs" -name '*.java' -not -path "$A/stubs/android/*" | sort)
javac "${JAVAC_FLAGS[@]}" -bootclasspath "$ANDROID_JAR" -d "$OUT/stubs-android" "${android_stubs[@]}"
java -cp /usr/share/java/asm.jar:/usr/share/java/asm-tree.jar "$A/tools/MergeStubs.java" \
	"$ANDROID_JAR" "$OUT/stubs-android" "$OUT/boot-overrides.jar"
BOOT="$OUT/boot-overrides.jar:$ANDROID_JAR"
javac "${JAVAC_FLAGS[@]}" -bootclasspath "$BOOT" -d "$OUT/stubs-lib" "${lib_stubs[@]}"

# 3. Our classes: every warning is an error (-Werror with -Xlint:all), bar
# javac's note about compiling for Java 8.
mapfile -t sources < <(find "$A/java" "$OUT/gen" -name '*.java' | sort)
javac -source 8 -target 8 -encoding UTF-8 -g -Xlint:all,-options -Werror \
	-bootclasspath "$BOOT" -classpath "$OUT/stubs-lib" \
	-d "$OUT/classes" "${sources[@]}"

# 4. Dex. dx reads Java 8 class files but not invokedynamic (lambdas):
# the Java side uses anonymous classes.
java -jar "$DX_JAR" --dex --min-sdk-version=23 --output="$OUT/classes.dex" "$OUT/classes"
echo "android-build: $OUT/res.apk, $OUT/classes.dex ($(find "$OUT/classes" -name '*.class' | wc -l) classes; $APP_ID $VERSION_NAME ($VERSION_CODE))"

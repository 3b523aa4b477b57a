#!/usr/bin/env bash
# make android-check: builds the Java side of the Android app and checks it,
# without the NDK (docs/android.md, "What is checked here").
#
#  1. scripts/android-build.sh: aapt2 links android/AndroidManifest.xml and
#     android/res against Android 14's framework-res; javac compiles
#     android/java (Java 8, API 23 plus compile-only stubs, -Werror); dx.
#  2. A standalone APK of that (res.apk + classes.dex), zipaligned, signed
#     with a throwaway key made here (keytool), apksigner verify.
#  3. The manifest, by aapt2 dump badging / xmltree: SDK levels,
#     permissions, components, foregroundServiceType, lib_name.
#  4. The dex, by dexdump: only com.onecxi.phone classes (none of
#     android/stubs, no android.* or com.google.* class), every manifest
#     component present, the JNI contract's methods with their signatures.
#  5. scripts/android-merge.sh on a stand-in for fyne's APK (its manifest
#     shape, a classes.dex with GoNativeActivity, lib/<abi>/libonecxi.so,
#     assets, fyne-style signature), and the result: both dex files, the
#     libraries and assets unchanged, our manifest, one signer (ours),
#     alignment; and that a library name mismatch or a missing key fails.
#
# Output and the throwaway keys go to ANDROID_CACHE/check (git-ignored).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/android-tools.sh
. "$ROOT/scripts/android-tools.sh"

start=$(date +%s)
OUT="$ANDROID_CACHE/check"
BUILD="$OUT/build"
passed=0
failed=0
ok() {
	passed=$((passed + 1))
	echo "  ok   $*"
}
bad() {
	failed=$((failed + 1))
	echo "  FAIL $*"
}
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}
aapt2q() { aapt2 "$@" 2> >(grep -v "Unknown chunk type" >&2); }

android_tools_check_system
android_tools_fetch
echo "android-check: Debian packages from outside bookworm: $(paste -sd, "$ANDROID_CACHE/root/.fetched")"

rm -rf "$OUT"
mkdir -p "$OUT/keys"
"$ROOT/scripts/android-build.sh" "$BUILD"

# Throwaway keys (and passwords) for this run only.
export ANDROID_KEYSTORE="$OUT/keys/release.p12" ANDROID_KEY_ALIAS=onecxi-check
ANDROID_KEYSTORE_PASS=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
export ANDROID_KEYSTORE_PASS
genkey() { # FILE ALIAS DNAME
	keytool -genkeypair -keystore "$1" -storetype PKCS12 -storepass "$ANDROID_KEYSTORE_PASS" \
		-alias "$2" -keyalg RSA -keysize 2048 -validity 2 -dname "$3" >/dev/null 2>&1
}
genkey "$ANDROID_KEYSTORE" "$ANDROID_KEY_ALIAS" "CN=OneCxi android-check"
genkey "$OUT/keys/fyne.p12" fyne "CN=fyne stand-in debug key"
cert_sha256() { # KEYSTORE ALIAS -> lowercase hex
	keytool -list -v -keystore "$1" -storepass "$ANDROID_KEYSTORE_PASS" -alias "$2" 2>/dev/null |
		sed -n 's/^[[:space:]]*SHA256: *//p' | tr -d ':' | tr 'A-F' 'a-f'
}
sign() { # IN OUT KEYSTORE ALIAS
	apksigner sign --ks "$3" --ks-key-alias "$4" --ks-pass env:ANDROID_KEYSTORE_PASS --out "$2" "$1"
}

# Manifest as one line per element: "tag attr=value ... [in=component:name]".
manifest_lines() { # APK
	aapt2q dump xmltree --file AndroidManifest.xml "$1" | awk '
		function flush() { if (tag != "") print line (comp != "" && depth > cdepth ? " in=" comp : "") }
		/^ *E: / {
			flush()
			tag = $2; depth = index($0, "E:"); line = tag
			if (comp != "" && depth <= cdepth) comp = ""
			if (tag ~ /^(activity|service|receiver|provider)$/) { comp = tag; cdepth = depth; pending = 1 } else pending = 0
			next
		}
		/^ *A: / {
			a = $0; sub(/^ *A: /, "", a)
			name = a; sub(/\(.*/, "", name); sub(/=.*/, "", name); sub(/.*:/, "", name)
			val = a; sub(/^[^=]*=/, "", val); sub(/ \(Raw: .*/, "", val); gsub(/"/, "", val)
			line = line " " name "=" val
			if (pending && name == "name") { comp = comp ":" val; pending = 0 }
		}
		END { flush() }'
}
has_line() { # FILE REGEX
	grep -Eq -- "$2" "$1"
}

# ---- 2. standalone APK
echo "android-check: standalone APK of the Java side"
cp "$BUILD/res.apk" "$OUT/app-unaligned.apk"
(cd "$BUILD" && zip -q -X "$OUT/app-unaligned.apk" classes.dex)
zipalign -p -f 4 "$OUT/app-unaligned.apk" "$OUT/app-aligned.apk"
sign "$OUT/app-aligned.apk" "$OUT/app.apk" "$ANDROID_KEYSTORE" "$ANDROID_KEY_ALIAS"
ours_cert=$(cert_sha256 "$ANDROID_KEYSTORE" "$ANDROID_KEY_ALIAS")
if apksigner verify --print-certs "$OUT/app.apk" >"$OUT/app.certs" 2>&1; then
	ok "apksigner verify app.apk"
else
	bad "apksigner verify app.apk"
fi
check "app.apk is signed by the check's key" has_line "$OUT/app.certs" "certificate SHA-256 digest: $ours_cert"

# ---- 3. manifest
aapt2q dump badging "$OUT/app.apk" >"$OUT/app.badging"
manifest_lines "$OUT/app.apk" >"$OUT/app.manifest"
B="$OUT/app.badging"
M="$OUT/app.manifest"
check "package com.onecxi.phone" has_line "$B" "^package: name='com.onecxi.phone' versionCode='[0-9]+' versionName='[^']+'"
check "minSdkVersion 23" has_line "$B" "^sdkVersion:'23'$"
check "targetSdkVersion 34" has_line "$B" "^targetSdkVersion:'34'$"
for p in RECORD_AUDIO MODIFY_AUDIO_SETTINGS FOREGROUND_SERVICE FOREGROUND_SERVICE_MICROPHONE WAKE_LOCK VIBRATE \
	USE_FULL_SCREEN_INTENT RECEIVE_BOOT_COMPLETED INTERNET POST_NOTIFICATIONS \
	FOREGROUND_SERVICE_PHONE_CALL MANAGE_OWN_CALLS; do
	check "permission $p" has_line "$B" "^uses-permission: name='android.permission.$p'$"
done
check "launcher activity is fyne's GoNativeActivity" has_line "$B" "^launchable-activity: name='org.golang.app.GoNativeActivity'"
check "GoNativeActivity loads libonecxi.so (lib_name)" \
	has_line "$M" "^meta-data name=android.app.lib_name value=onecxi in=activity:org.golang.app.GoNativeActivity$"
check "FyneNotificationReceiver kept" has_line "$M" "^receiver name=org.golang.app.FyneNotificationReceiver exported=false"
# 0x84 = phoneCall (0x04) | microphone (0x80): android:foregroundServiceType flags.
check "OneCxiCallService: not exported, stopWithTask=false, foregroundServiceType=phoneCall|microphone (0x84)" \
	has_line "$M" "^service name=com.onecxi.phone.OneCxiCallService exported=false stopWithTask=false foregroundServiceType=0x00000084$"
check "OneCxiMessagingService: not exported" has_line "$M" "^service name=com.onecxi.phone.OneCxiMessagingService exported=false$"
check "OneCxiMessagingService receives com.google.firebase.MESSAGING_EVENT" \
	has_line "$M" "^action name=com.google.firebase.MESSAGING_EVENT in=service:com.onecxi.phone.OneCxiMessagingService$"
check "OneCxiIncomingCallActivity: showWhenLocked, turnScreenOn" \
	has_line "$M" "^activity .* name=com.onecxi.phone.OneCxiIncomingCallActivity exported=false .*showWhenLocked=true turnScreenOn=true"
check "OneCxiPermissionActivity declared" has_line "$M" "^activity .* name=com.onecxi.phone.OneCxiPermissionActivity exported=false"
check "OneCxiCallActionReceiver declared" has_line "$M" "^receiver name=com.onecxi.phone.OneCxiCallActionReceiver exported=false"

# ---- 4. dex
echo "android-check: classes.dex"
dex_classes() { dexdump "$1" 2>/dev/null | sed -n "s/^  Class descriptor  : 'L\(.*\);'$/\1/p" | sort; }
# "class method type access" for every method of a dex.
dex_methods() {
	dexdump "$1" 2>/dev/null | awk '
		/^  Class descriptor/ { c = $4; gsub(/[\x27;]/, "", c); sub(/^L/, "", c) }
		/^ +name +: / { n = $3; gsub(/\x27/, "", n) }
		/^ +type +: / { t = $3; gsub(/\x27/, "", t) }
		/^ +access +: / { a = $0; sub(/.*\(/, "", a); sub(/\).*/, "", a); print c, n, t, a }'
}
dex_classes "$BUILD/classes.dex" >"$OUT/dex.classes"
dex_methods "$BUILD/classes.dex" >"$OUT/dex.methods"
check "classes.dex holds classes" test -s "$OUT/dex.classes"
if grep -qv '^com/onecxi/phone/' "$OUT/dex.classes"; then
	bad "classes.dex holds only com.onecxi.phone classes; also: $(grep -v '^com/onecxi/phone/' "$OUT/dex.classes" | head -n 5 | paste -sd' ')"
else
	ok "classes.dex holds only com.onecxi.phone classes (no android.*, no com.google.*)"
fi
stubs_in_dex=""
while IFS= read -r s; do
	c=${s#"$ROOT/android/stubs/"}
	c=${c%.java}
	if grep -Eq "^$c(\\\$.*)?$" "$OUT/dex.classes"; then stubs_in_dex="$stubs_in_dex $c"; fi
done < <(find "$ROOT/android/stubs" -name '*.java' | sort)
if [ -z "$stubs_in_dex" ]; then
	ok "none of the $(find "$ROOT/android/stubs" -name '*.java' | wc -l) stub classes is in the dex"
else
	bad "stub classes in the dex:$stubs_in_dex"
fi
while read -r c; do
	check "manifest component $c is in the dex" grep -qx "${c//.//}" "$OUT/dex.classes"
done < <(sed -n 's/^\(activity\|service\|receiver\)\( .*\)\{0,1\} name=\(com\.onecxi\.phone\.[A-Za-z0-9_]*\).*/\3/p' "$M")

# The contract (docs/android-bridge.md): methods Go calls
# with their JNI signatures, and the native methods Go implements.
Bridge=com/onecxi/phone/OneCxiBridge
while read -r name sig access; do
	check "OneCxiBridge.$name $sig ($access)" grep -qx "$Bridge $name $sig $access" "$OUT/dex.methods"
done <<'EOF'
checkPermissions (Landroid/content/Context;)Z PUBLIC STATIC
requestPermissions (Landroid/content/Context;I)V PUBLIC STATIC
requestFcmToken (Landroid/content/Context;I)V PUBLIC STATIC
startCallService (Landroid/content/Context;Ljava/lang/String;Ljava/lang/String;)Ljava/lang/String; PUBLIC STATIC
stopCallService (Landroid/content/Context;)Ljava/lang/String; PUBLIC STATIC
showIncomingCall (Landroid/content/Context;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)Ljava/lang/String; PUBLIC STATIC
dismissIncomingCall (Landroid/content/Context;Ljava/lang/String;)V PUBLIC STATIC
setAudioRoute (Landroid/content/Context;Ljava/lang/String;)Ljava/lang/String; PUBLIC STATIC
takePendingIncomingCall (Landroid/content/Context;)Ljava/lang/String; PUBLIC STATIC
takePendingCallAction (Landroid/content/Context;)Ljava/lang/String; PUBLIC STATIC
storeRegisteredNumber (Landroid/content/Context;Ljava/lang/String;)Ljava/lang/String; PUBLIC STATIC
registeredNumber (Landroid/content/Context;)Ljava/lang/String; PUBLIC STATIC
nativePermissionsResult (IZ)V STATIC NATIVE
nativeFcmToken (ILjava/lang/String;Ljava/lang/String;)V STATIC NATIVE
nativeTokenRefreshed (Ljava/lang/String;)V STATIC NATIVE
nativeIncomingPush (Ljava/lang/String;)Z STATIC NATIVE
nativeCallAction (Ljava/lang/String;Ljava/lang/String;)Z STATIC NATIVE
EOF
check "OneCxiBridge is public final" grep -Eq "^  Access flags      : 0x0011 \(PUBLIC FINAL\)" \
	<(dexdump "$BUILD/classes.dex" 2>/dev/null | grep -A2 "Class descriptor  : 'L$Bridge;'")

# ---- 5. merge into a stand-in for fyne's APK
echo "android-check: scripts/android-merge.sh on a stand-in for fyne's APK"
S="$OUT/standin"
mkdir -p "$S/src/org/golang/app" "$S/classes" "$S/res/mipmap-xxxhdpi" "$S/apk/lib/arm64-v8a" \
	"$S/apk/lib/armeabi-v7a" "$S/apk/assets"
# fyne's classes.dex holds GoNativeActivity and FyneNotificationReceiver.
cat >"$S/src/org/golang/app/GoNativeActivity.java" <<'EOF'
package org.golang.app;
public class GoNativeActivity extends android.app.NativeActivity {
}
EOF
cat >"$S/src/org/golang/app/FyneNotificationReceiver.java" <<'EOF'
package org.golang.app;
public class FyneNotificationReceiver extends android.content.BroadcastReceiver {
    @Override
    public void onReceive(android.content.Context c, android.content.Intent i) {
    }
}
EOF
javac -source 8 -target 8 -nowarn -Xlint:-options -bootclasspath "$ANDROID_JAR" -d "$S/classes" \
	"$S/src/org/golang/app/GoNativeActivity.java" "$S/src/org/golang/app/FyneNotificationReceiver.java"
java -jar "$DX_JAR" --dex --min-sdk-version=21 --output="$S/apk/classes.dex" "$S/classes"
# fyne's manifest: the one make android gives fyne (its template, lib_name
# onecxi); fyne's encoder adds uses-sdk 21 and a mipmap icon.
standin_apk() { # MANIFEST LIBNAME OUT [unsigned]
	rm -rf "$S/compiled" "$S/apk/lib" && mkdir -p "$S/compiled" "$S/apk/lib/arm64-v8a" "$S/apk/lib/armeabi-v7a"
	cp "$ROOT/assets/icon.png" "$S/res/mipmap-xxxhdpi/icon.png"
	aapt2 compile --dir "$S/res" -o "$S/compiled/res.zip"
	aapt2q link -o "$S/linked.apk" -I "$FRAMEWORK_RES" --manifest "$1" --min-sdk-version 21 --target-sdk-version 29 \
		"$S/compiled/res.zip"
	printf '\177ELF stand-in for the Go library (arm64)\n' >"$S/apk/lib/arm64-v8a/lib$2.so"
	printf '\177ELF stand-in for the Go library (arm)\n' >"$S/apk/lib/armeabi-v7a/lib$2.so"
	printf 'an asset fyne packs\n' >"$S/apk/assets/standin.txt"
	cp "$S/linked.apk" "$S/unsigned.apk"
	(cd "$S/apk" && zip -q -r -X "$S/unsigned.apk" .)
	if [ "${4:-}" = unsigned ]; then
		cp "$S/unsigned.apk" "$3"
	else
		sign "$S/unsigned.apk" "$3" "$OUT/keys/fyne.p12" fyne
	fi
}
standin_apk "$ROOT/android/fyne/AndroidManifest.xml" onecxi "$OUT/fyne.apk"
check "stand-in fyne APK names libonecxi.so" has_line <(manifest_lines "$OUT/fyne.apk") "^meta-data name=android.app.lib_name value=onecxi"

if "$ROOT/scripts/android-merge.sh" "$OUT/fyne.apk" "$BUILD" "$OUT/merged.apk" >"$OUT/merge.log" 2>&1; then
	ok "android-merge.sh merges ($(tail -n 1 "$OUT/merge.log"))"
else
	cat "$OUT/merge.log"
	bad "android-merge.sh merges"
fi
if [ -s "$OUT/merged.apk" ]; then
	mkdir -p "$OUT/merged"
	unzip -q -o "$OUT/merged.apk" -d "$OUT/merged"
	if apksigner verify --print-certs "$OUT/merged.apk" >"$OUT/merged.certs" 2>&1; then
		ok "merged: apksigner verify"
	else
		bad "merged: apksigner verify"
	fi
	check "merged: signed by the release key (ours), not fyne's" has_line "$OUT/merged.certs" "certificate SHA-256 digest: $ours_cert"
	check "merged: exactly one signer" test "$(grep -c '^Signer #[0-9]* certificate DN' "$OUT/merged.certs")" -eq 1
	check "merged: zipalign -c -p 4" zipalign -c -p 4 "$OUT/merged.apk"
	check "merged: resources.arsc stored uncompressed (Android 11+ with targetSdk 30+)" \
		has_line <(unzip -Zv "$OUT/merged.apk" resources.arsc) "compression method: +none \(stored\)"
	dex_classes "$OUT/merged/classes.dex" >"$OUT/merged.classes1"
	dex_classes "$OUT/merged/classes2.dex" >"$OUT/merged.classes2"
	check "merged: classes.dex is fyne's (GoNativeActivity, FyneNotificationReceiver)" \
		test "$(paste -sd' ' "$OUT/merged.classes1")" = "org/golang/app/FyneNotificationReceiver org/golang/app/GoNativeActivity"
	check "merged: classes2.dex is ours, unchanged" cmp "$OUT/merged/classes2.dex" "$BUILD/classes.dex"
	check "merged: no classes3.dex" test ! -e "$OUT/merged/classes3.dex"
	for abi in arm64-v8a armeabi-v7a; do
		check "merged: lib/$abi/libonecxi.so unchanged" cmp "$OUT/merged/lib/$abi/libonecxi.so" "$S/apk/lib/$abi/libonecxi.so"
	done
	check "merged: assets kept" cmp "$OUT/merged/assets/standin.txt" "$S/apk/assets/standin.txt"
	check "merged: fyne's signature files gone" test -z "$(unzip -Z1 "$OUT/merged.apk" | grep -i '^META-INF/FYNE')"
	check "merged: fyne's icon resource gone (ours in place)" test ! -e "$OUT/merged/res/mipmap-xxxhdpi-v4/icon.png"
	aapt2q dump badging "$OUT/merged.apk" >"$OUT/merged.badging"
	manifest_lines "$OUT/merged.apk" >"$OUT/merged.manifest"
	check "merged: badging equals the standalone APK's, plus the native code" \
		cmp <(grep -v "^native-code: " "$OUT/merged.badging") "$OUT/app.badging"
	check "merged: native-code 'arm64-v8a' 'armeabi-v7a'" grep -qx "native-code: 'arm64-v8a' 'armeabi-v7a'" "$OUT/merged.badging"
	check "merged: manifest equals ours (services, types, permissions)" cmp "$OUT/merged.manifest" "$OUT/app.manifest"
	check "merged: targetSdkVersion 34, FOREGROUND_SERVICE_PHONE_CALL" \
		grep -q "^uses-permission: name='android.permission.FOREGROUND_SERVICE_PHONE_CALL'" "$OUT/merged.badging"
fi

# Failures it must catch.
sed 's/android:value="onecxi"/android:value="OneCxi_Phone"/' "$ROOT/android/fyne/AndroidManifest.xml" >"$S/OtherName.xml"
standin_apk "$S/OtherName.xml" OneCxi_Phone "$OUT/fyne-othername.apk" unsigned
if "$ROOT/scripts/android-merge.sh" "$OUT/fyne-othername.apk" "$BUILD" "$OUT/bad.apk" >"$OUT/bad.log" 2>&1; then
	bad "merge refuses a fyne APK whose Go library is not libonecxi.so"
else
	check "merge refuses a fyne APK whose Go library is not libonecxi.so" grep -q "libOneCxi_Phone.so" "$OUT/bad.log"
fi
if env -u ANDROID_KEYSTORE "$ROOT/scripts/android-merge.sh" "$OUT/fyne.apk" "$BUILD" "$OUT/bad.apk" >"$OUT/bad.log" 2>&1; then
	bad "merge refuses to run without ANDROID_KEYSTORE"
else
	check "merge refuses to run without ANDROID_KEYSTORE" grep -q "set ANDROID_KEYSTORE" "$OUT/bad.log"
fi

echo "android-check: $OUT/app.apk, $OUT/merged.apk ($(($(date +%s) - start)) s)"
echo "android-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# android-go-check.sh: checks the Go side of the Android build on a machine
# without the Android NDK (make android-gocheck).
#
#  1. The JNI bridge's C (platform/bridge_android.c) is parsed by clang
#     (C11, -Wall -Wextra -Wpedantic -Werror) against the JDK's jni.h, with
#     the _cgo_export.h that cgo generates from platform/android_jni.go, so
#     the Go functions Java's native methods bind to are checked against the
#     JNI types (static assertions in the C file).
#  2. The cgo package is compiled for arm64 (GOOS=android, clang
#     --target=aarch64-linux-gnu): Go type-checks android_jni.go and vet
#     runs on it, and the C is compiled to aarch64 objects. Without the NDK
#     the C library headers are glibc's (libc6-dev-arm64-cross) and
#     runtime/cgo's <android/log.h> is a two-line stand-in
#     (scripts/androidgo/include); nothing is linked.
#  3. The C is run against a real JVM (HotSpot with -Xcheck:jni) on this
#     host: scripts/androidgo/jnihost calls every contract method of a test
#     double of OneCxiBridge, through a Context whose class loader is the
#     only way to the class, on an attached thread and on one the bridge
#     attaches itself; a CheckJNI warning fails the check.
#  4. The module's packages that build for android/arm64 without cgo are
#     found with go list (compiling them: -export) and vetted; those that
#     need cgo are named with the reason.
#  5. The tests of those packages that the Android app links run as
#     android/arm64 binaries under qemu user mode (scripts/androidgo/
#     qemu-exec.sh says how), the platform package's Android-only tests
#     (fake Java bridge) first.
#
# What this does not prove: that the C links against bionic and runs on
# ART, that the NDK's jni.h agrees with the JDK's where the check relies on
# it, and anything about the Java side. Only an APK on a device or emulator
# does that (docs/android.md).
#
# Needs: go, clang, a JDK (JAVA_HOME, else /usr/lib/jvm/default-java),
# qemu-aarch64-static, readelf, and glibc for arm64 with its headers
# (/usr/aarch64-linux-gnu); make android-gocheck installs them.
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/default-java}
SYSROOT=/usr/aarch64-linux-gnu
SKIP_TESTS='^(TestHandOverBetweenTwoProcesses|TestInitRunsBeforeFyne)$'

say() { echo "android-gocheck: $*"; }
die() {
  echo "android-gocheck: $*" >&2
  exit 1
}
for tool in "$GO" clang qemu-aarch64-static readelf; do
  command -v "$tool" >/dev/null || die "$tool missing"
done
if [ ! -x "$JAVA_HOME/bin/javac" ] || [ ! -f "$JAVA_HOME/include/jni.h" ]; then
  die "no JDK at $JAVA_HOME (set JAVA_HOME)"
fi
[ -f "$JAVA_HOME/lib/server/libjvm.so" ] || die "no libjvm.so under $JAVA_HOME/lib/server"
[ -x "$SYSROOT/lib/ld-linux-aarch64.so.1" ] || die "no glibc for arm64 in $SYSROOT (libc6-arm64-cross)"
[ -f "$SYSROOT/include/stdlib.h" ] || die "no arm64 C headers in $SYSROOT/include (libc6-dev-arm64-cross)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
JNI_INC="-I$JAVA_HOME/include -I$JAVA_HOME/include/linux"
start=$(date +%s)
mark=$start
took() {
  now=$(date +%s)
  say "$1 ($((now - mark)) s)"
  mark=$now
}

# 1. Syntax, with cgo's own _cgo_export.h.
# shellcheck disable=SC2086 # JNI_INC is a list of flags
(cd platform && GOOS=android GOARCH=arm64 CGO_ENABLED=1 "$GO" tool cgo -objdir "$tmp/cgo" -- $JNI_INC android_jni.go)
# shellcheck disable=SC2086
clang -fsyntax-only -std=c11 -Wall -Wextra -Wpedantic -Werror $JNI_INC -I"$tmp/cgo" -Iplatform platform/bridge_android.c
took "1/5 platform/bridge_android.c parses as C11 against the JDK's jni.h and cgo's _cgo_export.h (JNI types of the exported natives checked)"

# 2. The cgo package, compiled for arm64 and vetted.
arm64_cgo() {
  CGO_ENABLED=1 GOOS=android GOARCH=arm64 CC="clang --target=aarch64-linux-gnu" \
    CGO_CFLAGS="-O2 -g $JNI_INC -isystem $SYSROOT/include -isystem $PWD/scripts/androidgo/include" \
    "$GO" "$@"
}
arm64_cgo build -tags netgo,osusergo -o "$tmp/platform.a" ./platform
arm64_cgo vet -tags netgo,osusergo ./platform
took "2/5 ./platform with cgo compiles for android/arm64 (C to aarch64 objects; not linked: no bionic here) and passes go vet"

# 3. The C against a real JVM.
mkdir -p "$tmp/classes"
# shellcheck disable=SC2046 # the list of sources
"$JAVA_HOME/bin/javac" -nowarn -d "$tmp/classes" $(find scripts/androidgo/jnihost/java -name '*.java')
# shellcheck disable=SC2086
clang -std=c11 -O1 -g -Wall -Wextra -Werror $JNI_INC -I"$tmp/cgo" -Iplatform -o "$tmp/jnihost" \
  scripts/androidgo/jnihost/main.c platform/bridge_android.c \
  -L"$JAVA_HOME/lib/server" -ljvm -Wl,-rpath,"$JAVA_HOME/lib/server" -lpthread
if ! "$tmp/jnihost" "$tmp/classes" >"$tmp/jnihost.out" 2>&1; then
  cat "$tmp/jnihost.out" >&2
  die "the C bridge failed against the JVM"
fi
if grep -E 'WARNING|FATAL ERROR' "$tmp/jnihost.out" >/dev/null; then
  cat "$tmp/jnihost.out" >&2
  die "CheckJNI complained about the C bridge"
fi
took "3/5 the C bridge ran against $("$JAVA_HOME/bin/java" -version 2>&1 | head -n 1) with -Xcheck:jni: $(tail -n 1 "$tmp/jnihost.out" | sed 's/^jnihost: //'), no CheckJNI warning"

# 4. The packages that build for android/arm64 without cgo (tests
# included), found by compiling them with go list -export; vet them.
android_list() { CGO_ENABLED=0 GOOS=android GOARCH=arm64 "$GO" list "$@"; }
module=$("$GO" list -f '{{.Module.Path}}' .)
# The packages that do not compile without cgo (their cgo files hold what
# the rest needs), and each module package whose build or test build
# depends on one of them.
android_list -e -export -deps -test -f '{{if .Error}}{{.ImportPath}}{{end}}' ./... | sort -u >"$tmp/cgo-only"
android_list -e -export -test -f '{{if .DepsErrors}}{{.ImportPath}}|{{join .Deps " "}}{{end}}' ./... |
  sed -e 's/ \[[^]]*\]|/|/' -e 's/\.test|/|/' -e 's/_test|/|/' >"$tmp/broken"
"$GO" list ./... | sort >"$tmp/all"
cut -d '|' -f 1 "$tmp/broken" | sort -u >"$tmp/excluded"
comm -23 "$tmp/all" "$tmp/excluded" >"$tmp/included"
say "not vetted or tested here: these need cgo for android/arm64 (Fyne's Android driver):"
while read -r pkg; do
  why=$(grep "^$pkg|" "$tmp/broken" | cut -d '|' -f 2 | tr ' ' '\n' | grep -x -F -f "$tmp/cgo-only" | sort -u | tr '\n' ' ')
  say "  ${pkg#"$module"/}: depends on ${why:-?}(built only with cgo)"
done <"$tmp/excluded"
# shellcheck disable=SC2046 # the package list
CGO_ENABLED=0 GOOS=android GOARCH=arm64 "$GO" vet $(cat "$tmp/included")
took "4/5 go vet passes on the $(wc -l <"$tmp/included") packages that build for android/arm64 without cgo"

# 5. Their tests under qemu, for the packages the Android app links.
CGO_ENABLED=1 GOOS=android GOARCH=arm64 "$GO" list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' . |
  grep -E "^$module(/|\$)" | sort -u >"$tmp/linked"
comm -12 "$tmp/included" "$tmp/linked" >"$tmp/tested"
say "tested under qemu: the $(wc -l <"$tmp/tested") of them the Android app links; vetted only, as the app does not link them (servers, tools):"
comm -23 "$tmp/included" "$tmp/tested" | sed "s|^$module/||" | tr '\n' ' ' | fold -s -w 96 | sed 's/^/android-gocheck:   /'
echo

CGO_ENABLED=0 GOOS=android GOARCH=arm64 "$GO" test -c -o "$tmp/platform.test" ./platform
interp=$(readelf -l "$tmp/platform.test" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
if readelf -d "$tmp/platform.test" | grep -q NEEDED; then
  die "the android test binary needs shared libraries now (readelf -d shows NEEDED): glibc's ld.so cannot stand in for $interp any more"
fi
say "android test binaries: PIE, interpreter $interp, no shared libraries: run by glibc's aarch64 ld.so under qemu-aarch64-static"
mkdir -p "$tmp/tmpdir" # Go's os.TempDir on Android is /data/local/tmp unless TMPDIR is set
export TMPDIR="$tmp/tmpdir"
exec_wrapper="$PWD/scripts/androidgo/qemu-exec.sh"
ran=$(CGO_ENABLED=0 GOOS=android GOARCH=arm64 "$GO" test -count=1 -v -exec "$exec_wrapper" ./platform 2>&1 |
  tee "$tmp/platform.out" | grep -c '^--- PASS: TestAndroid') || true
if grep -E '^(--- FAIL|FAIL)' "$tmp/platform.out" >/dev/null || [ "$ran" -eq 0 ]; then
  cat "$tmp/platform.out" >&2
  die "the platform package's tests failed under qemu"
fi
say "./platform: $(grep -c '^--- PASS' "$tmp/platform.out") tests passed as android/arm64 under qemu, $ran of them the Android platform's (fake Java bridge)"
say "skipping under qemu, by name: TestHandOverBetweenTwoProcesses (app/instance) and TestInitRunsBeforeFyne (internal/localefix): they start a second process (the test binary again; a Fyne program built for GOOS=android, which needs cgo), and the kernel here cannot exec an aarch64 binary (no binfmt_misc)"
# shellcheck disable=SC2046 # the package list
CGO_ENABLED=0 GOOS=android GOARCH=arm64 "$GO" test -count=1 -timeout 10m -skip "$SKIP_TESTS" -exec "$exec_wrapper" \
  $(grep -v -x "$module/platform" "$tmp/tested")
took "5/5 the tests of $(wc -l <"$tmp/tested") packages passed as android/arm64 binaries under qemu"
say "ok ($(($(date +%s) - start)) s in all)"

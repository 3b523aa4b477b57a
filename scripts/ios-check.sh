#!/bin/sh
# ios-check.sh: checks the iOS glue (platform/ios.go, ios_objc.go,
# ios_glue.m, and the Go logic in iosphone.go, applebridge.go and
# voippush.go) on a machine without Xcode or the iOS SDK. Three steps:
#
#  1. go vet of ./platform as GOOS=ios GOARCH=arm64 with cgo, and the same
#     package built. There is no iOS SDK here, so cgo's C compiler is clang
#     for aarch64 Linux with the arm64 Debian sysroot (libc6-dev-arm64-cross)
#     for libc, scripts/iossyntax/cgo for the few Darwin declarations Go's
#     runtime/cgo wants (TargetConditionals.h, CoreFoundation, two pthread
#     extensions), and scripts/iossyntax/include for the frameworks
#     ios_glue.m imports: so Go type-checks ios_objc.go against the real
#     ios_glue.h and cgo's output, vet runs, and ios_glue.m is compiled to an
#     arm64 object with Apple's Objective-C runtime ABI (-fobjc-runtime=ios).
#     (There is no iOS build without cgo: Go links iOS only with cgo.)
#  2. clang -fsyntax-only --target=arm64-apple-ios15 of ios_glue.m with
#     -Wall -Wextra -Werror, against scripts/iossyntax/apple.h (the Apple
#     declarations it uses, written from Apple's documentation: compile-only)
#     and cgo's _cgo_export.h, so every call into Go is checked against the
#     exported function's prototype.
#  3. The Go tests of the logic (push rules, CallKit actions to SDK calls,
#     the audio session, tokens, permissions) with the race detector, on
#     this host; make test runs them too, with everything else.
#
# What this proves: the Go side compiles for iOS and passes vet; the
# Objective-C is valid for iOS 15 against the declarations we wrote; the two
# agree on the C boundary; the logic behind the boundary does what its
# tests say. What it cannot prove: that apple.h matches Apple's SDK, that
# anything links, or that it runs: a Mac with Xcode builds it and a device
# runs it (docs/ios.md, "What has never run").
#
# Needs: go, clang, the arm64 sysroot (libc6-dev-arm64-cross); make
# ios-check installs them.
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
for tool in clang "$GO"; do
  command -v "$tool" >/dev/null || { echo "ios-check: $tool missing" >&2; exit 1; }
done
SYSROOT=${ARM64_SYSROOT:-/usr/aarch64-linux-gnu}
[ -f "$SYSROOT/include/stdlib.h" ] || { echo "ios-check: no arm64 sysroot at $SYSROOT (libc6-dev-arm64-cross)" >&2; exit 1; }
here=$PWD/scripts/iossyntax
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# platform does not import Fyne: no work file needed.
export GOWORK=off

say() { echo "ios-check: $*"; }

# 1. vet and build as ios/arm64.
ios_cgo() {
  CGO_ENABLED=1 GOOS=ios GOARCH=arm64 CC="clang --target=aarch64-linux-gnu" \
    CGO_CFLAGS="-O2 -g -fblocks -fobjc-runtime=ios-15.0 -isystem $here/cgo -isystem $here/include -isystem $SYSROOT/include" \
    "$GO" "$@"
}
ios_cgo vet ./platform
ios_cgo build -o "$tmp/platform.a" ./platform
say "1/3 go vet passes for ios/arm64 with cgo; ios_glue.m compiles to an arm64 object (Apple's Objective-C ABI; not linked: no SDK here)"

# 2. The Objective-C against our Apple declarations and cgo's export header.
(cd platform && CGO_ENABLED=1 GOOS=ios GOARCH=arm64 CC="clang --target=aarch64-linux-gnu" \
  "$GO" tool cgo -objdir "$tmp/cgo" -- -isystem "$SYSROOT/include" ios_objc.go)
clang -fsyntax-only -x objective-c --target=arm64-apple-ios15 -ffreestanding -nostdlibinc -fblocks \
  -Wall -Wextra -Wundeclared-selector -Werror \
  -I "$here/include" -isystem "$here/libc" -I "$tmp/cgo" -I platform platform/ios_glue.m
say "2/3 platform/ios_glue.m parses as Objective-C for arm64-apple-ios15 (-Werror) against scripts/iossyntax/apple.h and cgo's _cgo_export.h"

# 3. The logic's tests.
"$GO" test -race -count=1 -run 'IOS|VoIPPush|CallTable' ./platform
say "3/3 the Go tests of the iOS logic pass (race detector)"

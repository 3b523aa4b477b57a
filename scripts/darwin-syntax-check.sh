#!/bin/sh
# darwin-syntax-check.sh: compile-checks the macOS Objective-C
# (platform/openurl_darwin.m) on a machine without a Mac SDK.
#
# clang parses it as Objective-C (-fsyntax-only, -Wall -Wextra
# -Wundeclared-selector -Werror, Apple's runtime rules) against GNUstep's
# Foundation and AppKit headers, with the real _cgo_export.h that cgo
# generates from platform/openurl_darwin.go, so the call into Go is checked
# against the exported function's prototype. GNUstep lacks the Apple Event
# API the file uses (NSAppleEventManager and NSAppleEventDescriptor are empty
# classes there, AEEventClass and friends are missing):
# scripts/darwinsyntax/appleevents.h declares it from Apple's documentation.
# So this proves the syntax, the Foundation/AppKit names and the Go
# boundary; it does not prove that those declarations match Apple's SDK,
# nor does it link or run anything. A Mac build does that.
#
# Needs: clang, GNUstep's base and gui headers (gnustep-config), GCC's
# libobjc headers, go; make darwin-syntax-check installs them.
set -eu
cd "$(dirname "$0")/.."
m=platform/openurl_darwin.m
for tool in clang gnustep-config gcc go; do
  command -v "$tool" >/dev/null || { echo "darwin-syntax-check: $tool missing" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The _cgo_export.h a Mac build includes: cgo writes it on any host.
(cd platform && GOOS=darwin GOARCH=arm64 go tool cgo -objdir "$tmp" openurl_darwin.go)

# GNUstep's flags, minus dependency files, with its headers as system
# headers (their own warnings are not ours). Its Foundation needs GCC's
# objc/ headers, searched after clang's own.
flags=$(gnustep-config --objc-flags | tr ' ' '\n' |
  grep -v -e '^-MMD$' -e '^-MP$' -e '^-I\.$' -e '^$' | sed 's/^-I/-isystem /' | tr '\n' ' ')
# shellcheck disable=SC2086 # $flags is a list of flags
clang -fsyntax-only -x objective-c -fobjc-runtime=macosx-11.0 $flags \
  -idirafter "$(gcc -print-file-name=include)" \
  -Wall -Wextra -Wundeclared-selector -Werror \
  -include scripts/darwinsyntax/appleevents.h -I "$tmp" "$m"
echo "darwin-syntax-check: $m parses as Objective-C against GNUstep + scripts/darwinsyntax/appleevents.h and cgo's _cgo_export.h"

# OneCxi Phone: build, run and test. `make help` lists the targets.

# Go lives in /usr/local/go/bin on our machines; put it (and installed Go
# tools) on PATH for every recipe.
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
# Fyne (OpenGL), malgo (audio) and the race detector all need cgo.
export CGO_ENABLED ?= 1
# Every build and test here compiles Fyne with patches/fyne (its main loop
# sleeps while idle instead of waking 60 times a second: README, Footprint):
# scripts/fynepatch makes the patched copy and this go.work, which selects
# it (both git-ignored). A plain `go build` outside make uses released Fyne.
FYNE_WORK := $(CURDIR)/.tools/go.work
export GOWORK := $(FYNE_WORK)

GO         ?= go
# no_emoji: Fyne leaves out its bundled colour-emoji font, which its text
# shaper parses again for every text style (17 MiB of idle RSS; README,
# Footprint). Emoji in a name are drawn from the system's fonts instead.
BUILDFLAGS ?= -trimpath -tags no_emoji
TESTFLAGS  ?= -race -count=1
FUZZTIME   ?= 20s
BENCH      ?= .
N          ?= 500
LOAD_ARGS  ?= -calls $(N)
ARGS       ?=
RUNS       ?= 3

BINARIES := bin/onecxi-phone bin/onecxi-server bin/onecxi-cli bin/onecxi-load

# Build-time defaults for the app (server URL, account, API key): read from
# this git-ignored file when it exists (shape: secrets.template.json) and
# passed to `go build -ldflags -X …` by scripts/buildphone, which prints the
# command with the key redacted and fails on a malformed file.
SECRETS    ?= secrets.local.json
BUILDPHONE  = $(GO) run ./scripts/buildphone -go $(GO) -secrets $(SECRETS)

# Packaging and cross-builds go to dist/ (git-ignored).
DIST       ?= dist
VERSION    := $(shell sed -n 's/^Version *= *"\(.*\)"/\1/p' FyneApp.toml)
# fyne.io/tools (the `fyne` command), pinned, installed into .tools/ (git-ignored).
FYNE_TOOLS_VERSION ?= v1.7.4
FYNE       := $(CURDIR)/.tools/fyne-$(FYNE_TOOLS_VERSION)/fyne
# Windows cross-build: mingw-w64 C compiler for cgo (GLFW, miniaudio).
WINDOWS_CC      ?= x86_64-w64-mingw32-gcc
# A GUI program (no console window), symbols stripped.
WINDOWS_LDFLAGS ?= -H=windowsgui -s -w
# mingw's GCC 12 warns falsely (-Wstringop-overflow) on miniaudio's atomics.
WINDOWS_CFLAGS  ?= -O2 -g -Wno-stringop-overflow

# Debian packages: gcc, pkg-config and the GL, X11 and ALSA headers to build;
# xvfb (and xauth, which xvfb-run needs) to test and run without a display.
DEB_PACKAGES := gcc pkg-config libgl1-mesa-dev xorg-dev libasound2-dev xvfb xauth
# make test: baresip, the real SIP peer of the SIP gateway's tests (its core
# package has the headless ausine, aufile, sndfile and g711 modules), and
# Kamailio, the registrar/proxy the gateway's PBX tests put between them;
# PostgreSQL, whose server binaries server/sqlstore's tests run a private
# cluster of (temporary directory, private port, as the postgres user).
DEB_PACKAGES_TEST := baresip-core kamailio postgresql
# Debian's kamailio package enables and starts a system-wide SIP proxy where
# systemd runs. The tests start private instances, so when `make test` is the
# one installing it (it was not installed when make started) that service is
# stopped and disabled again.
KAMAILIO_WAS_INSTALLED := $(shell dpkg-query -W -f='$${Status}' kamailio 2>/dev/null | grep -c 'ok installed')
# Likewise Debian's postgresql package starts a system-wide cluster.
POSTGRESQL_WAS_INSTALLED := $(shell dpkg-query -W -f='$${Status}' postgresql 2>/dev/null | grep -c 'ok installed')
# make build-windows: the mingw-w64 cross compiler.
DEB_PACKAGES_WINDOWS := gcc-mingw-w64-x86-64
# make package: xz for the tarball.
DEB_PACKAGES_PACKAGE := xz-utils
# make screenshots / footprint: drive the app on Xvfb (xdotool) and capture
# windows (imagemagick's import).
DEB_PACKAGES_X := xvfb xauth xdotool imagemagick
# clicktocall-check: xdg-open and xdg-mime, as a desktop opens a tel: link.
DEB_PACKAGES_XDG := xdg-utils
# make footprint: glxinfo, to name the OpenGL renderer measured; Linphone
# (and the D-Bus session it needs), measured beside the app.
DEB_PACKAGES_FOOTPRINT := mesa-utils linphone-desktop dbus-daemon
# make windows-check: Wine to run the .exe (wine64 runs 64-bit programs; wine
# has the wine, wineboot and wineserver commands), and the X libraries Wine's
# X11 driver loads at run time, which libwine only recommends (apt_ensure
# installs without recommends; OpenGL comes with xvfb).
DEB_PACKAGES_WINE := wine wine64 libxcomposite1 libxcursor1 libxfixes3 libxi6 libxinerama1 libxrandr2 libxrender1 libxxf86vm1

# $(call apt_ensure,TARGET,PACKAGES): a recipe line that checks the Debian
# PACKAGES and installs the missing ones when root, or prints the exact
# apt-get command and fails otherwise.
define apt_ensure
@if ! command -v dpkg-query >/dev/null 2>&1; then \
  echo "$(1): not a Debian-based system; make sure these (or their equivalents) are installed: $(2)"; \
  exit 0; \
fi; \
missing=""; \
for p in $(2); do \
  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
done; \
if [ -z "$$missing" ]; then echo "$(1): ok ($(strip $(2)))"; exit 0; fi; \
echo "$(1): missing Debian packages:$$missing"; \
if [ "$$(id -u)" -eq 0 ]; then \
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
else \
  echo "$(1): install them with:"; \
  echo "  sudo apt-get update && sudo apt-get install -y$$missing"; \
  exit 1; \
fi
endef

# Prefix for commands that need an X display: xvfb-run when there is none.
ifeq ($(strip $(DISPLAY)$(WAYLAND_DISPLAY)),)
WITH_DISPLAY := xvfb-run -a
else
WITH_DISPLAY :=
endif

.DEFAULT_GOAL := help
.PHONY: help deps build run server test fuzz bench load clean FORCE \
        secrets-check package build-windows screenshots footprint clicktocall-check \
        windows-check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk -F':.*## ' '{ printf "  make %-14s %s\n", $$1, $$2 }'
	@echo "  variables: FUZZTIME=$(FUZZTIME) N=$(N) LOAD_ARGS='$(LOAD_ARGS)' ARGS='$(ARGS)' TESTFLAGS='$(TESTFLAGS)'"
	@echo "             SECRETS=$(SECRETS) RUNS=$(RUNS) FYNE_TOOLS_VERSION=$(FYNE_TOOLS_VERSION)"

deps: ## check the Debian build/test packages; install them when root
	$(call apt_ensure,deps,$(DEB_PACKAGES))

build: deps $(FYNE_WORK) ## compile everything and the binaries into bin/
	$(GO) build $(BUILDFLAGS) ./...
	@$(MAKE) --no-print-directory $(BINARIES)

bin/onecxi-phone: $(FYNE_WORK) FORCE
	@$(BUILDPHONE) -- $(BUILDFLAGS) -o $@ .

bin/onecxi-server bin/onecxi-cli bin/onecxi-load: $(FYNE_WORK) FORCE
	$(GO) build $(BUILDFLAGS) -o $@ ./cmd/$(@F)

run: build ## build and start the desktop app (under Xvfb when there is no display)
ifeq ($(WITH_DISPLAY),)
	bin/onecxi-phone $(ARGS)
else
	@echo "run: no DISPLAY or WAYLAND_DISPLAY; starting the app on a virtual X display (xvfb-run); it will not be visible"
	$(WITH_DISPLAY) bin/onecxi-phone $(ARGS)
endif

server: bin/onecxi-server ## build and start the reference server
	bin/onecxi-server $(ARGS)

test: deps $(FYNE_WORK) ## go vet, all tests with the race detector, and the end-to-end checks
	$(call apt_ensure,test,$(DEB_PACKAGES_TEST))
ifneq ($(KAMAILIO_WAS_INSTALLED),1)
	@if [ -d /run/systemd/system ] && systemctl is-enabled --quiet kamailio 2>/dev/null; then \
	  echo "test: kamailio was just installed for the tests; stopping and disabling its system service"; \
	  systemctl disable --now kamailio; \
	fi
endif
ifneq ($(POSTGRESQL_WAS_INSTALLED),1)
	@if [ -d /run/systemd/system ] && systemctl is-enabled --quiet postgresql 2>/dev/null; then \
	  echo "test: postgresql was just installed for the tests; stopping and disabling its system service"; \
	  systemctl disable --now postgresql; \
	fi
endif
	$(GO) vet ./...
	$(WITH_DISPLAY) $(GO) test $(TESTFLAGS) ./...
	# Allocation counts, which the race detector's sync.Pool makes meaningless.
	$(GO) test -count=1 -run 'AllocatesNothing' ./server/
	@$(MAKE) --no-print-directory clicktocall-check
	@$(MAKE) --no-print-directory darwin-syntax-check
	@$(MAKE) --no-print-directory windows-check
	@$(MAKE) --no-print-directory android-check
	@$(MAKE) --no-print-directory android-gocheck
	@$(MAKE) --no-print-directory ios-check

fuzz: $(FYNE_WORK) ## run every Fuzz target for FUZZTIME each
	@set -e; found=0; \
	for pkg in $$($(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); do \
	  list=$$($(GO) test -list '^Fuzz' $$pkg); \
	  for fn in $$(echo "$$list" | grep '^Fuzz'); do \
	    found=1; \
	    echo "== $$pkg $$fn ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done; \
	if [ $$found -eq 0 ]; then echo "fuzz: no Fuzz targets found"; fi

bench: $(FYNE_WORK) ## run the benchmarks (BENCH=regexp)
	$(WITH_DISPLAY) $(GO) test -run '^$$' -bench '$(BENCH)' -benchmem ./...

load: bin/onecxi-load ## load-test a server (N=500 calls; LOAD_ARGS overrides all flags)
	bin/onecxi-load $(LOAD_ARGS)

secrets-check: ## check secrets.local.json (SECRETS=file) and show its build flags, key redacted
	@$(BUILDPHONE) -check

package: $(FYNE_WORK) ## Linux desktop package: dist/onecxi-phone-<version>-linux-<arch>.tar.xz (fyne package)
	$(call apt_ensure,package,$(DEB_PACKAGES) $(DEB_PACKAGES_PACKAGE))
	@$(MAKE) --no-print-directory $(FYNE)
	@rm -rf $(DIST)/linux && mkdir -p $(DIST)/linux/_src/assets
	@$(BUILDPHONE) -ldflags '-s -w' -- $(BUILDFLAGS) -o $(DIST)/linux/onecxi-phone .
	@# fyne package bumps Build in the FyneApp.toml it reads and rewrites the
	@# file: give it a copy (with the icon, and a .go file it looks for; go
	@# commands skip directories starting with _).
	@cp FyneApp.toml main.go $(DIST)/linux/_src/ && cp assets/icon.png $(DIST)/linux/_src/assets/
	cd $(DIST)/linux && $(FYNE) package --target linux --src $(CURDIR)/$(DIST)/linux/_src --executable $(CURDIR)/$(DIST)/linux/onecxi-phone
	@# Register for click-to-call links: Exec takes the link (%u) and the
	@# MimeType line fyne package cannot write (packaging/linux/onecxi-phone.desktop.in).
	@set -e; cd $(DIST)/linux && mkdir x && tar -xJf "OneCxi Phone.tar.xz" -C x && \
	desktop=$$(find x -name '*.desktop' | head -n 1) && [ -n "$$desktop" ] && \
	sed -i 's/^Exec=.*/Exec=onecxi-phone %u/' "$$desktop" && \
	grep '^MimeType=' $(CURDIR)/packaging/linux/onecxi-phone.desktop.in >>"$$desktop" && \
	tar -cJf "OneCxi Phone.tar.xz" -C x . && rm -rf x
	@set -e; tarball=$(DIST)/onecxi-phone-$(VERSION)-linux-$$($(GO) env GOARCH).tar.xz; \
	mv "$(DIST)/linux/OneCxi Phone.tar.xz" $$tarball; \
	rm -rf $(DIST)/linux; \
	echo "package: $$tarball ($$(du -h $$tarball | cut -f1)):"; \
	tar -tvJf $$tarball

# The patched Fyne and its go.work: made again when patches/fyne, go.mod or
# the module cache's copy changed (scripts/fynepatch checks, quickly).
$(FYNE_WORK): FORCE
	@GOWORK=off $(GO) run ./scripts/fynepatch -go $(GO) -work $@

$(FYNE):
	GOWORK=off GOBIN=$(@D) $(GO) install fyne.io/tools/cmd/fyne@$(FYNE_TOOLS_VERSION)

build-windows: $(FYNE_WORK) ## cross-build dist/onecxi-phone.exe for Windows amd64 (cgo with mingw-w64)
	$(call apt_ensure,build-windows,$(DEB_PACKAGES_WINDOWS))
	@mkdir -p $(DIST)
	@$(BUILDPHONE) -ldflags '$(WINDOWS_LDFLAGS)' \
	  -env CGO_ENABLED=1 -env GOOS=windows -env GOARCH=amd64 -env CC=$(WINDOWS_CC) -env 'CGO_CFLAGS=$(WINDOWS_CFLAGS)' \
	  -- $(BUILDFLAGS) -o $(DIST)/onecxi-phone.exe .
	@file $(DIST)/onecxi-phone.exe 2>/dev/null || ls -l $(DIST)/onecxi-phone.exe

# macOS. The app needs a Mac: cgo against Apple's frameworks (the Xcode
# command-line tools) and PlistBuddy, which merges the CFBundleURLTypes
# fyne package cannot write (packaging/macos/url-types.plist) so that
# tel:, callto: and sip: links reach the app as Apple Events.
# darwin-syntax-check runs anywhere: clang parses the Objective-C against
# GNUstep's headers (scripts/darwin-syntax-check.sh says what that proves).
DEB_PACKAGES_DARWIN_SYNTAX := clang gnustep-make libgnustep-base-dev libgnustep-gui-dev
.PHONY: package-darwin darwin-syntax-check

package-darwin: $(FYNE_WORK) ## macOS app dist/OneCxi Phone.app, registered for tel:/callto:/sip: links (on a Mac)
	@if [ "$$(uname -s)" != Darwin ]; then \
	  echo "package-darwin: needs a Mac with the Xcode command-line tools (cgo against Apple's frameworks; /usr/libexec/PlistBuddy); this is $$(uname -s)."; \
	  echo "package-darwin: here, make darwin-syntax-check checks the macOS Objective-C."; \
	  exit 1; \
	fi
	@$(MAKE) --no-print-directory $(FYNE)
	@rm -rf $(DIST)/darwin && mkdir -p $(DIST)/darwin/_src/assets
	@$(BUILDPHONE) -ldflags '-s -w' -- $(BUILDFLAGS) -o $(DIST)/darwin/onecxi-phone .
	@# A copy of FyneApp.toml, as for make package: fyne package bumps Build in it.
	@cp FyneApp.toml main.go $(DIST)/darwin/_src/ && cp assets/icon.png $(DIST)/darwin/_src/assets/
	cd $(DIST)/darwin && $(FYNE) package --target darwin --src $(CURDIR)/$(DIST)/darwin/_src --executable $(CURDIR)/$(DIST)/darwin/onecxi-phone
	packaging/macos/add-url-types.sh "$(DIST)/darwin/OneCxi Phone.app"
	@rm -rf "$(DIST)/OneCxi Phone.app" && mv "$(DIST)/darwin/OneCxi Phone.app" $(DIST)/ && rm -rf $(DIST)/darwin
	@echo "package-darwin: $(DIST)/OneCxi Phone.app"

darwin-syntax-check: ## parse the macOS Objective-C with clang against GNUstep headers (no Mac needed)
	$(call apt_ensure,darwin-syntax-check,$(DEB_PACKAGES_DARWIN_SYNTAX))
	scripts/darwin-syntax-check.sh

# Android (docs/android.md). android-check builds and checks the Java side
# here: bookworm's aapt2, zipalign, apksigner, dexdump and a JDK (plus
# libasm-java for the stub merge, zip/unzip), and from bullseye and sid,
# fetched by scripts/android-tools.sh with a private apt configuration into
# .cache/android/, API 23's android.jar, dx and Android 14's framework-res.
# make android needs the NDK host (ANDROID_NDK_HOME) and a release key.
DEB_PACKAGES_ANDROID := android-sdk-build-tools dexdump default-jdk-headless libasm-java zip unzip debian-archive-keyring
.PHONY: android android-check

android-check: ## build the Android Java side (APK, dex, manifest) and check it, and the merge into fyne's APK (no NDK needed)
	$(call apt_ensure,android-check,$(DEB_PACKAGES_ANDROID))
	scripts/android-check.sh

android: $(FYNE_WORK) ## Android APK dist/onecxi-phone-<version>.apk: fyne package + our Java side, signed (needs the NDK, a release key)
	@FYNE=$(FYNE) DIST=$(DIST) scripts/android-package.sh --preflight
	$(call apt_ensure,android,$(DEB_PACKAGES_ANDROID))
	@$(MAKE) --no-print-directory $(FYNE)
	@FYNE=$(FYNE) DIST=$(DIST) scripts/android-package.sh

# Android, the Go side (the Java side and the APK are make android and
# android-check, docs/android.md). Without the NDK, android-gocheck checks
# what can be checked here: the JNI bridge's C parsed against the JDK's
# jni.h, compiled for arm64 and run against a JVM; go vet for
# android/arm64; and the tests of what the app links, run as android/arm64
# binaries under qemu user mode (scripts/android-go-check.sh says what that
# proves and what it does not).
DEB_PACKAGES_ANDROID_GO := clang binutils default-jdk-headless qemu-user-static libc6-arm64-cross libc6-dev-arm64-cross
.PHONY: android-gocheck

android-gocheck: $(FYNE_WORK) ## Android Go side, no NDK: JNI C parsed, compiled (arm64), run on a JVM; vet + qemu tests as android/arm64
	$(call apt_ensure,android-gocheck,$(DEB_PACKAGES_ANDROID_GO))
	scripts/android-go-check.sh

# iOS (docs/ios.md). The app needs a Mac with Xcode; ios-check checks the
# glue here: go vet of ./platform for ios/arm64 with cgo (clang for arm64
# with Debian's arm64 sysroot and compile-only Apple declarations), the
# Objective-C parsed for arm64-apple-ios15 with -Werror against them, and
# the Go tests of the CallKit/PushKit logic (scripts/ios-check.sh says what
# that proves and what it does not).
DEB_PACKAGES_IOS := clang libc6-dev-arm64-cross
.PHONY: ios-check

ios-check: ## iOS glue, no Xcode: vet as ios/arm64 with cgo, the Objective-C parsed for iOS 15 (-Werror), the CallKit/PushKit logic's tests
	$(call apt_ensure,ios-check,$(DEB_PACKAGES_IOS))
	GO=$(GO) scripts/ios-check.sh

screenshots: ## run the app on Xvfb, drive it with xdotool, save PNGs of each screen in docs/screenshots/
	$(call apt_ensure,screenshots,$(DEB_PACKAGES) $(DEB_PACKAGES_X))
	@$(MAKE) --no-print-directory bin/onecxi-phone
	scripts/screenshots.sh docs/screenshots

clicktocall-check: ## open a tel: link with xdg-open on Xvfb and check it reaches the running app's dialer
	$(call apt_ensure,clicktocall-check,$(DEB_PACKAGES) $(DEB_PACKAGES_X) $(DEB_PACKAGES_XDG))
	@$(MAKE) --no-print-directory bin/onecxi-phone
	scripts/clicktocall.sh

# The check runs the GUI build that build-windows makes and ships, not a
# console build (WINDOWS_LDFLAGS='-s -w'): under Wine the GUI program's
# stdout and stderr still reach the script (the demo banner, the log), and
# the check then covers what a user runs, closing to the tray included.
windows-check: ## cross-build the .exe and run it under Wine on Xvfb: sign in, echo call, hang up, quit
	$(call apt_ensure,windows-check,$(DEB_PACKAGES_WINDOWS) $(DEB_PACKAGES_X) $(DEB_PACKAGES_WINE))
	@$(MAKE) --no-print-directory build-windows
	WINDOWS_CC=$(WINDOWS_CC) scripts/windowscheck.sh

# The worked 3-node cluster of docs/deploy.md on this machine
# (scripts/cluster3: three NATS servers, a private PostgreSQL, three nodes
# behind HAProxy with TLS, all on loopback under CLUSTER3_DIR, default
# /tmp/onecxi-cluster3): up, verify, down. Not part of make test: it is an
# operator's walkthrough. A failed run keeps its work directory (logs).
.PHONY: cluster-example
cluster-example: ## run docs/deploy.md's 3-node cluster on this machine: up, verify (cross-node call, rolling restart with hand-over, node loss), down
	GOWORK=off $(GO) build -trimpath -o bin/onecxi-server ./cmd/onecxi-server
	GOWORK=off $(GO) build -trimpath -o bin/onecxi-cli ./cmd/onecxi-cli
	@rc=0; scripts/cluster3/cluster3.sh up && scripts/cluster3/cluster3.sh verify || rc=$$?; \
	if [ $$rc -eq 0 ]; then \
	  scripts/cluster3/cluster3.sh down || rc=$$?; \
	else \
	  scripts/cluster3/cluster3.sh down -keep; \
	  echo "cluster-example: FAILED (exit $$rc); logs kept in $${CLUSTER3_DIR:-/tmp/onecxi-cluster3}"; \
	fi; \
	exit $$rc

footprint: ## measure start-up time, idle RSS and in-call RSS/CPU of the app on Xvfb, idle beside Linphone (RUNS=3)
	$(call apt_ensure,footprint,$(DEB_PACKAGES) $(DEB_PACKAGES_X) $(DEB_PACKAGES_FOOTPRINT))
	@$(MAKE) --no-print-directory bin/onecxi-phone
	scripts/footprint.sh $(RUNS)

clean: ## remove build, package and coverage output
	rm -rf bin/ $(DIST)/ coverage.out coverage.html *.test

FORCE:

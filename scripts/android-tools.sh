# shellcheck shell=bash
# Sourced by scripts/android-build.sh and scripts/android-check.sh: makes sure
# the Android build inputs that Debian bookworm does not package are in the
# cache, and sets
#   ANDROID_JAR    API 23 android.jar (libandroid-23-java, bullseye)
#   DX_JAR         dx, the dex compiler (dalvik-exchange, bullseye)
#   FRAMEWORK_RES  Android 14 (API 34) framework-res.apk, the resource table
#                  aapt2 links against (android-framework-res, sid)
#
# The .debs come from bullseye and sid through a PRIVATE apt configuration
# (APT_CONFIG: its own sources.list, state, cache and lists under the cache
# folder, Debian's archive keyring for signatures): the system's sources and
# package database are never touched, and nothing is installed, only
# unpacked with dpkg-deb -x. Cached in ANDROID_CACHE (default
# .cache/android/, git-ignored) and reused while its stamp is there.
#
# Only these three packages: their Debian dependencies are either not needed
# for what we run (dalvik-exchange's proguard-cli is for mainDexClasses) or a
# JDK (from bookworm); android-sdk-platform-23 only adds build.prop, skins and
# data files to the android.jar of libandroid-23-java.

ANDROID_CACHE=${ANDROID_CACHE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.cache/android}
ANDROID_DEBIAN_MIRROR=${ANDROID_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# package/suite: apt-get download takes the version from that suite.
ANDROID_DEBS="libandroid-23-java/bullseye dalvik-exchange/bullseye android-framework-res/sid"

android_tools_log() { echo "android-tools: $*" >&2; }

android_tools_fetch() {
	local root="$ANDROID_CACHE/root" stamp="$ANDROID_CACHE/root/.fetched"
	if [ ! -f "$stamp" ]; then
		# A subshell: its EXIT trap removes the work folder however it ends.
		# (set -e does not hold in a subshell tested with ||: hence the exits.)
		(
		mkdir -p "$ANDROID_CACHE" || exit 1
		work=$(mktemp -d "$ANDROID_CACHE/fetch.XXXXXX") || exit 1
		trap 'rm -rf "$work"' EXIT
		a="$work/apt"
		mkdir -p "$a/etc/apt.conf.d" "$a/etc/preferences.d" "$a/etc/sources.list.d" "$a/etc/trusted.gpg.d" \
			"$a/state/lists/partial" "$a/cache/archives/partial" "$work/debs" "$work/root" || exit 1
		: >"$a/state/status"
		cat >"$a/etc/sources.list" <<-EOF
			deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $ANDROID_DEBIAN_MIRROR bullseye main
			deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $ANDROID_DEBIAN_MIRROR sid main
		EOF
		# Valid-Until is not checked: a mirror that serves a snapshot of sid
		# has an InRelease past its validity date; signatures still are.
		cat >"$a/apt.conf" <<-EOF
			Dir::State "$a/state";
			Dir::State::status "$a/state/status";
			Dir::Cache "$a/cache";
			Dir::Etc "$a/etc";
			Dir::Etc::SourceList "$a/etc/sources.list";
			Dir::Etc::SourceParts "$a/etc/sources.list.d";
			Dir::Etc::Parts "$a/etc/apt.conf.d";
			Dir::Etc::Preferences "$a/etc/preferences";
			Dir::Etc::PreferencesParts "$a/etc/preferences.d";
			Dir::Etc::Trusted "/usr/share/keyrings/debian-archive-keyring.gpg";
			Dir::Etc::TrustedParts "$a/etc/trusted.gpg.d";
			Acquire::Languages "none";
			Acquire::Check-Valid-Until "false";
			Acquire::Retries "3";
			APT::Architectures { "amd64"; };
			APT::Sandbox::User "root";
		EOF
		if [ ! -r /usr/share/keyrings/debian-archive-keyring.gpg ]; then
			android_tools_log "needs Debian's archive keyring (/usr/share/keyrings/debian-archive-keyring.gpg, package debian-archive-keyring)"
			exit 1
		fi
		android_tools_log "fetching $ANDROID_DEBS (private apt configuration, $ANDROID_DEBIAN_MIRROR)"
		# shellcheck disable=SC2086
		if ! APT_CONFIG="$a/apt.conf" apt-get -q update >"$work/apt.log" 2>&1 ||
			! (cd "$work/debs" && APT_CONFIG="$a/apt.conf" apt-get -q download $ANDROID_DEBS >>"$work/apt.log" 2>&1); then
			cat "$work/apt.log" >&2
			android_tools_log "apt-get failed (log above)"
			exit 1
		fi
		for deb in "$work"/debs/*.deb; do
			dpkg-deb -x "$deb" "$work/root" || exit 1
			# "package version" lines: what make android-check reports.
			dpkg-deb -f "$deb" Package Version | sed 's/^[^:]*: //' | paste -sd' ' >>"$work/root/.fetched.tmp" || exit 1
		done
		rm -rf "$root" && mv "$work/root" "$root" && mv "$root/.fetched.tmp" "$stamp" || exit 1
		android_tools_log "cached in $root: $(paste -sd, "$stamp")"
		) || return 1
	fi
	ANDROID_JAR="$root/usr/share/java/com.android.android-23.jar"
	DX_JAR=$(find "$root/usr/share/java" -name 'com.android.dx-*.jar' | head -n 1)
	FRAMEWORK_RES="$root/usr/share/android-framework-res/framework-res.apk"
	local f
	for f in "$ANDROID_JAR" "$DX_JAR" "$FRAMEWORK_RES"; do
		if [ ! -s "$f" ]; then
			android_tools_log "missing ${f:-dx jar} in $root; remove $ANDROID_CACHE/root to fetch again"
			return 1
		fi
	done
	export ANDROID_JAR DX_JAR FRAMEWORK_RES
}

# The system tools (Debian bookworm: android-sdk-build-tools, dexdump, a
# JDK, libasm-java, zip; the Makefile installs them).
android_tools_check_system() {
	local t missing=""
	for t in aapt2 zipalign apksigner dexdump javac java keytool zip unzip; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	for t in /usr/share/java/asm.jar /usr/share/java/asm-tree.jar; do
		[ -r "$t" ] || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		android_tools_log "missing:$missing (make android-check installs them)"
		return 1
	fi
}

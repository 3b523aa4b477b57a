#!/bin/sh
# qemu-exec.sh: the `go test -exec` wrapper of make android-gocheck. It runs
# a GOOS=android GOARCH=arm64 CGO_ENABLED=0 test binary on this x86-64 host
# under qemu user mode.
#
# Such a binary is a position-independent executable whose ELF interpreter
# is Android's dynamic linker, /system/bin/linker64, which this host does not
# have; but it needs no shared library at all (no DT_NEEDED: the Go runtime
# makes its system calls itself), so the interpreter has nothing to do but
# apply the binary's own relocations and jump to it. glibc's aarch64 ld.so
# does exactly that when it is run as a program with the binary as its
# argument, so that is what qemu runs. (android-go-check.sh checks the
# no-DT_NEEDED assumption on the platform package's test binary first.)
#
# What this cannot do: a test that starts its own binary again, or builds
# and starts another Android binary, fails with "exec format error", since
# the kernel cannot run aarch64 binaries without binfmt_misc (not
# registered here, and not something a make target should change).
# android-go-check.sh skips those tests by name and says so.
exec qemu-aarch64-static /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 "$@"

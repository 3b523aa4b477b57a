#!/bin/sh
# Regenerates the IVR's spoken prompts: 8 kHz mono signed 16-bit little-endian
# raw PCM (".sln", the wire's audio format) so the server embeds and plays them
# without decoding. Needs espeak-ng and sox. Not run by tests or CI: the
# generated files are committed (about 180 KB) and embedded with go:embed.
#
#   cd server/endpoint/prompts && ./generate.sh
set -eu
cd "$(dirname "$0")"

# say NAME TEXT: speak TEXT at 150 words per minute, resample to 8 kHz, trim
# leading and trailing silence (keeping 50 ms so words do not start abruptly),
# and normalise to -3 dBFS.
say() {
	espeak-ng -v en-us -s 150 -w /tmp/onecxi-prompt.$$.wav "$2"
	sox /tmp/onecxi-prompt.$$.wav -r 8000 -c 1 -b 16 -e signed-integer -L -t raw "$1.sln" \
		silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse pad 0.05 0.05 norm -3
	rm -f /tmp/onecxi-prompt.$$.wav
}

say welcome "Welcome to OneCxi. Press any key and I will read it back."
for d in 0:zero 1:one 2:two 3:three 4:four 5:five 6:six 7:seven 8:eight 9:nine; do
	say "${d%%:*}" "${d#*:}"
done
say star "star"
say hash "hash"

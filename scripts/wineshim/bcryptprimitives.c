/*
 * bcryptprimitives.dll for Wine 8.0: a test aid for `make windows-check`
 * (scripts/windowscheck.sh). It never ships: no build or package of the app
 * contains it, and real Windows never sees it.
 *
 * Go's runtime (since Go 1.22) loads bcryptprimitives.dll from system32
 * (LoadLibraryExW with LOAD_LIBRARY_SEARCH_SYSTEM32) before main and takes
 * its ProcessPrng export for all its random numbers, crypto/rand included;
 * without it a Go program stops at once with "fatal error:
 * bcryptprimitives.dll not found". Windows 10 and later have it. Debian 12's
 * Wine 8.0 has neither the DLL nor the function, so the check builds this
 * file with mingw-w64 and puts the DLL in its private Wine prefix's
 * system32 (next to the .exe would not do: Go searches system32 only).
 *
 * ProcessPrng fills the buffer from RtlGenRandom (advapi32's
 * SystemFunction036), a CSPRNG that Wine has (it reads the host kernel's
 * random source). Like the real one it returns TRUE; should RtlGenRandom
 * ever fail it returns FALSE, and Go then stops with "ProcessPrng failed"
 * instead of running on bytes that are not random.
 *
 * Exports: bcryptprimitives.def. Built by scripts/windowscheck.sh with
 *   x86_64-w64-mingw32-gcc -shared -nostdlib -Wl,--entry,DllMain \
 *     bcryptprimitives.c bcryptprimitives.def -ladvapi32 -lkernel32
 */
#include <windows.h>

/* RtlGenRandom, exported by advapi32 as SystemFunction036 (ntsecapi.h). */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* ProcessPrng(pbData, cbData): cbData random bytes at pbData. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
	/* RtlGenRandom takes a 32-bit length: larger requests go in chunks. */
	const SIZE_T chunk = (SIZE_T)1 << 30;

	while (size > 0) {
		ULONG n = (ULONG)(size < chunk ? size : chunk);

		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		size -= n;
	}
	return TRUE;
}

/* The DLL's entry point (no C runtime): nothing to set up or tear down. */
BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
	(void)instance;
	(void)reason;
	(void)reserved;
	return TRUE;
}

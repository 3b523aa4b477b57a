/*
 * COMPILE-ONLY STUB. Never part of the dex or the APK: scripts/android-build.sh
 * compiles the stubs and merges them into the boot class path javac compiles
 * against (android/tools/MergeStubs.java), and make android-check fails if
 * any stubbed class is found in classes.dex. At run time the device's own
 * framework (or Firebase's library) provides the real thing.
 *
 * android.app.ForegroundServiceStartNotAllowedException, API 31: thrown by
 * startForegroundService/startForeground when the app may not start a
 * foreground service (from the background, without an exemption).
 */
package android.app;

public final class ForegroundServiceStartNotAllowedException extends ServiceStartNotAllowedException {
    private ForegroundServiceStartNotAllowedException() {
        throw new RuntimeException("Stub!");
    }
}

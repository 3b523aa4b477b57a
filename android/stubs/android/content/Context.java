/*
 * COMPILE-ONLY STUB. Never part of the dex or the APK: scripts/android-build.sh
 * compiles the stubs and merges them into the boot class path javac compiles
 * against (android/tools/MergeStubs.java), and make android-check fails if
 * any stubbed class is found in classes.dex. At run time the device's own
 * framework (or Firebase's library) provides the real thing.
 *
 * Additions to android.content.Context after API 23. (Abstract in Android;
 * concrete here so that API 23's ContextWrapper, which lacks it, still
 * compiles as a concrete class.)
 */
package android.content;

public abstract class Context {
    private Context() {
    }

    /** API 26. */
    public ComponentName startForegroundService(Intent service) {
        throw new RuntimeException("Stub!");
    }
}

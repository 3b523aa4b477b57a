/*
 * COMPILE-ONLY STUB. Never part of the dex or the APK: scripts/android-build.sh
 * compiles the stubs and merges them into the boot class path javac compiles
 * against (android/tools/MergeStubs.java), and make android-check fails if
 * any stubbed class is found in classes.dex. At run time the device's own
 * framework (or Firebase's library) provides the real thing.
 *
 * android.app.ServiceStartNotAllowedException, API 31.
 */
package android.app;

public abstract class ServiceStartNotAllowedException extends IllegalStateException {
    ServiceStartNotAllowedException() {
    }
}

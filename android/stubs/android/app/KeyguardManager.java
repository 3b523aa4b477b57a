/*
 * COMPILE-ONLY STUB. Never part of the dex or the APK: scripts/android-build.sh
 * compiles the stubs and merges them into the boot class path javac compiles
 * against (android/tools/MergeStubs.java), and make android-check fails if
 * any stubbed class is found in classes.dex. At run time the device's own
 * framework (or Firebase's library) provides the real thing.
 *
 * Additions to android.app.KeyguardManager after API 23.
 */
package android.app;

public class KeyguardManager {
    private KeyguardManager() {
    }

    /** API 26. */
    public void requestDismissKeyguard(Activity activity, KeyguardDismissCallback callback) {
        throw new RuntimeException("Stub!");
    }

    /** API 26. */
    public abstract static class KeyguardDismissCallback {
        public KeyguardDismissCallback() {
            throw new RuntimeException("Stub!");
        }
    }
}

/*
 * COMPILE-ONLY STUB. Never part of the dex or the APK: scripts/android-build.sh
 * compiles the stubs and merges them into the boot class path javac compiles
 * against (android/tools/MergeStubs.java), and make android-check fails if
 * any stubbed class is found in classes.dex. At run time the device's own
 * framework (or Firebase's library) provides the real thing.
 *
 * Additions to android.app.Activity after API 23.
 */
package android.app;

import android.view.ContextThemeWrapper;

public class Activity extends ContextThemeWrapper {
    private Activity() {
    }

    /** API 27. */
    public void setShowWhenLocked(boolean showWhenLocked) {
        throw new RuntimeException("Stub!");
    }

    /** API 27. */
    public void setTurnScreenOn(boolean turnScreenOn) {
        throw new RuntimeException("Stub!");
    }
}

/*
 * COMPILE-ONLY STUB. Never part of the dex or the APK: scripts/android-build.sh
 * compiles the stubs and merges them into the boot class path javac compiles
 * against (android/tools/MergeStubs.java), and make android-check fails if
 * any stubbed class is found in classes.dex. At run time the device's own
 * framework (or Firebase's library) provides the real thing.
 *
 * Additions to android.app.Service after API 23.
 */
package android.app;

import android.content.ContextWrapper;

public abstract class Service extends ContextWrapper {
    private Service() {
        super(null);
    }

    /** API 24. */
    public static final int STOP_FOREGROUND_REMOVE = 1;

    /** API 24. */
    public final void stopForeground(int notificationBehavior) {
        throw new RuntimeException("Stub!");
    }

    /** API 29: with foreground service types (ServiceInfo.FOREGROUND_SERVICE_TYPE_*). */
    public final void startForeground(int id, Notification notification, int foregroundServiceType) {
        throw new RuntimeException("Stub!");
    }
}

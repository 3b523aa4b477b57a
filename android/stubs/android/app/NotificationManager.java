/*
 * COMPILE-ONLY STUB. Never part of the dex or the APK: scripts/android-build.sh
 * compiles the stubs and merges them into the boot class path javac compiles
 * against (android/tools/MergeStubs.java), and make android-check fails if
 * any stubbed class is found in classes.dex. At run time the device's own
 * framework (or Firebase's library) provides the real thing.
 *
 * Additions to android.app.NotificationManager after API 23.
 */
package android.app;

public class NotificationManager {
    private NotificationManager() {
    }

    /** API 24. */
    public static final int IMPORTANCE_LOW = 2;
    /** API 24. */
    public static final int IMPORTANCE_HIGH = 4;

    /** API 24. */
    public boolean areNotificationsEnabled() {
        throw new RuntimeException("Stub!");
    }

    /** API 26. */
    public void createNotificationChannel(NotificationChannel channel) {
        throw new RuntimeException("Stub!");
    }

    /** API 34. */
    public boolean canUseFullScreenIntent() {
        throw new RuntimeException("Stub!");
    }
}

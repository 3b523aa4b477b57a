/*
 * COMPILE-ONLY STUB. Never part of the dex or the APK: scripts/android-build.sh
 * compiles the stubs and merges them into the boot class path javac compiles
 * against (android/tools/MergeStubs.java), and make android-check fails if
 * any stubbed class is found in classes.dex. At run time the device's own
 * framework (or Firebase's library) provides the real thing.
 *
 * android.app.NotificationChannel, API 26 (the members we use).
 */
package android.app;

import android.media.AudioAttributes;
import android.net.Uri;

public final class NotificationChannel {
    public NotificationChannel(String id, CharSequence name, int importance) {
        throw new RuntimeException("Stub!");
    }

    public void setDescription(String description) {
        throw new RuntimeException("Stub!");
    }

    public void setSound(Uri sound, AudioAttributes audioAttributes) {
        throw new RuntimeException("Stub!");
    }

    public void enableVibration(boolean vibration) {
        throw new RuntimeException("Stub!");
    }

    public void setVibrationPattern(long[] vibrationPattern) {
        throw new RuntimeException("Stub!");
    }

    public void enableLights(boolean lights) {
        throw new RuntimeException("Stub!");
    }

    public void setLightColor(int argb) {
        throw new RuntimeException("Stub!");
    }

    public void setLockscreenVisibility(int lockscreenVisibility) {
        throw new RuntimeException("Stub!");
    }

    public void setShowBadge(boolean showBadge) {
        throw new RuntimeException("Stub!");
    }
}

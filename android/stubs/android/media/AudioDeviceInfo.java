/*
 * COMPILE-ONLY STUB. Never part of the dex or the APK: scripts/android-build.sh
 * compiles the stubs and merges them into the boot class path javac compiles
 * against (android/tools/MergeStubs.java), and make android-check fails if
 * any stubbed class is found in classes.dex. At run time the device's own
 * framework (or Firebase's library) provides the real thing.
 *
 * Additions to android.media.AudioDeviceInfo after API 23 (device types).
 */
package android.media;

public final class AudioDeviceInfo {
    private AudioDeviceInfo() {
    }

    /** API 26. */
    public static final int TYPE_USB_HEADSET = 22;
    /** API 28. */
    public static final int TYPE_HEARING_AID = 23;
    /** API 31. */
    public static final int TYPE_BLE_HEADSET = 26;
    /** API 31. */
    public static final int TYPE_BLE_SPEAKER = 27;
}

/*
 * COMPILE-ONLY STUB. Never part of the dex or the APK: scripts/android-build.sh
 * compiles the stubs and merges them into the boot class path javac compiles
 * against (android/tools/MergeStubs.java), and make android-check fails if
 * any stubbed class is found in classes.dex. At run time the device's own
 * framework (or Firebase's library) provides the real thing.
 *
 * Additions to android.media.AudioManager after API 23: the communication
 * device API of Android 12 (API 31).
 */
package android.media;

import java.util.List;

public class AudioManager {
    private AudioManager() {
    }

    public List<AudioDeviceInfo> getAvailableCommunicationDevices() {
        throw new RuntimeException("Stub!");
    }

    public boolean setCommunicationDevice(AudioDeviceInfo device) {
        throw new RuntimeException("Stub!");
    }

    public AudioDeviceInfo getCommunicationDevice() {
        throw new RuntimeException("Stub!");
    }

    public void clearCommunicationDevice() {
        throw new RuntimeException("Stub!");
    }
}

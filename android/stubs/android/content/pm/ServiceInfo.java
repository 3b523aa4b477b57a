/*
 * COMPILE-ONLY STUB. Never part of the dex or the APK: scripts/android-build.sh
 * compiles the stubs and merges them into the boot class path javac compiles
 * against (android/tools/MergeStubs.java), and make android-check fails if
 * any stubbed class is found in classes.dex. At run time the device's own
 * framework (or Firebase's library) provides the real thing.
 *
 * Additions to android.content.pm.ServiceInfo after API 23: foreground
 * service types (the manifest's android:foregroundServiceType flags).
 */
package android.content.pm;

public class ServiceInfo extends ComponentInfo {
    private ServiceInfo() {
    }

    /** API 29. */
    public static final int FOREGROUND_SERVICE_TYPE_PHONE_CALL = 4;
    /** API 30. */
    public static final int FOREGROUND_SERVICE_TYPE_MICROPHONE = 128;
}

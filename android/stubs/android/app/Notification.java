/*
 * COMPILE-ONLY STUB. Never part of the dex or the APK: scripts/android-build.sh
 * compiles the stubs and merges them into the boot class path javac compiles
 * against (android/tools/MergeStubs.java), and make android-check fails if
 * any stubbed class is found in classes.dex. At run time the device's own
 * framework (or Firebase's library) provides the real thing.
 *
 * Additions to android.app.Notification and Notification.Builder after
 * API 23. Style is declared only so that CallStyle compiles here; API 23
 * has it and the merge keeps API 23's.
 */
package android.app;

import android.content.Context;

public class Notification {
    private Notification() {
    }

    /** API 31. */
    public static final int FOREGROUND_SERVICE_IMMEDIATE = 1;

    public abstract static class Style {
        public Style() {
        }
    }

    public static class Builder {
        /** API 26. */
        public Builder(Context context, String channelId) {
            throw new RuntimeException("Stub!");
        }

        /** API 26. */
        public Builder setTimeoutAfter(long durationMs) {
            throw new RuntimeException("Stub!");
        }

        /** API 31. */
        public Builder setForegroundServiceBehavior(int behavior) {
            throw new RuntimeException("Stub!");
        }
    }

    /** API 31. */
    public static class CallStyle extends Style {
        private CallStyle() {
        }

        public static CallStyle forIncomingCall(Person person, PendingIntent declineIntent,
                PendingIntent answerIntent) {
            throw new RuntimeException("Stub!");
        }

        public static CallStyle forOngoingCall(Person person, PendingIntent hangUpIntent) {
            throw new RuntimeException("Stub!");
        }
    }
}

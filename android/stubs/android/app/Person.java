/*
 * COMPILE-ONLY STUB. Never part of the dex or the APK: scripts/android-build.sh
 * compiles the stubs and merges them into the boot class path javac compiles
 * against (android/tools/MergeStubs.java), and make android-check fails if
 * any stubbed class is found in classes.dex. At run time the device's own
 * framework (or Firebase's library) provides the real thing.
 *
 * android.app.Person, API 28 (the members we use).
 */
package android.app;

public final class Person {
    private Person() {
    }

    public static class Builder {
        public Builder() {
            throw new RuntimeException("Stub!");
        }

        public Builder setName(CharSequence name) {
            throw new RuntimeException("Stub!");
        }

        public Builder setImportant(boolean isImportant) {
            throw new RuntimeException("Stub!");
        }

        public Person build() {
            throw new RuntimeException("Stub!");
        }
    }
}

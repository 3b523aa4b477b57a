// The Context the host check hands the C bridge: its class loader is the
// one that loaded it (a URLClassLoader the system class loader cannot see
// into), as an Android app's classes are invisible to FindClass on a
// thread attached from native code.
package com.onecxi.phone;

public final class TestContext extends android.content.Context {
    @Override
    public ClassLoader getClassLoader() {
        return TestContext.class.getClassLoader();
    }
}

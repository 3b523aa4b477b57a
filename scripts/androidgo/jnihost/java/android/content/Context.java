// A stand-in for android.content.Context, for make android-gocheck only:
// the C bridge calls getClassLoader() on the Context it is given.
package android.content;

public abstract class Context {
    public abstract ClassLoader getClassLoader();
}

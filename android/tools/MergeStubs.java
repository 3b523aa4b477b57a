/*
 * MergeStubs: makes the compile-time boot class path for the Java side.
 *
 *   java -cp asm.jar:asm-tree.jar android/tools/MergeStubs.java ANDROID_JAR STUB_CLASSES OUT_JAR
 *
 * We compile against API 23's android.jar (the newest Debian packages) and
 * use newer APIs behind Build.VERSION.SDK_INT checks. A stub class on the
 * class path can add a new class (NotificationChannel), but not a new member
 * of a class API 23 already has (AudioManager.setCommunicationDevice): javac
 * takes android.* classes from the boot class path and never looks further.
 * So for every compiled stub class this writes to OUT_JAR:
 *   - a class API 23 lacks: the stub as it is;
 *   - a class API 23 has: API 23's class plus the stub's public and protected
 *     fields, methods and member classes that API 23's lacks (members API 23
 *     has are kept as API 23 has them).
 * OUT_JAR goes before android.jar on javac's -bootclasspath. It is a build
 * input only: nothing in it is ever dexed (make android-check checks).
 *
 * A stub whose superclass differs from API 23's class, or whose field has
 * another type than API 23's field of that name, is an error: the stub would
 * be wrong, and javac would compile calls the device cannot link.
 */

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.FieldNode;
import org.objectweb.asm.tree.InnerClassNode;
import org.objectweb.asm.tree.MethodNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

public final class MergeStubs {
    private MergeStubs() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: MergeStubs ANDROID_JAR STUB_CLASSES_DIR OUT_JAR");
            System.exit(2);
        }
        Path base = Paths.get(args[0]);
        Path stubs = Paths.get(args[1]);
        Path out = Paths.get(args[2]);
        List<Path> files;
        try (Stream<Path> walk = Files.walk(stubs)) {
            files = walk.filter(p -> p.toString().endsWith(".class")).sorted().collect(Collectors.toList());
        }
        List<String> errors = new ArrayList<>();
        int merged = 0;
        int added = 0;
        int members = 0;
        try (ZipFile android = new ZipFile(base.toFile());
                OutputStream os = Files.newOutputStream(out);
                JarOutputStream jar = new JarOutputStream(os)) {
            for (Path p : files) {
                String entry = stubs.relativize(p).toString().replace('\\', '/');
                ClassNode stub = read(Files.readAllBytes(p));
                ZipEntry have = android.getEntry(entry);
                ClassNode result;
                if (have == null) {
                    result = stub;
                    added++;
                } else {
                    try (InputStream in = android.getInputStream(have)) {
                        result = read(in.readAllBytes());
                    }
                    members += merge(result, stub, errors);
                    merged++;
                }
                ClassWriter cw = new ClassWriter(0);
                result.accept(cw);
                JarEntry je = new JarEntry(entry);
                je.setTime(0L); // the same bytes for the same input
                jar.putNextEntry(je);
                jar.write(cw.toByteArray());
                jar.closeEntry();
            }
        }
        if (!errors.isEmpty()) {
            for (String e : errors) {
                System.err.println("MergeStubs: " + e);
            }
            Files.deleteIfExists(out);
            System.exit(1);
        }
        System.out.printf("MergeStubs: %d new classes, %d API 23 classes given %d members -> %s%n",
                added, merged, members, out);
    }

    private static ClassNode read(byte[] bytes) {
        ClassNode n = new ClassNode();
        new ClassReader(bytes).accept(n, 0);
        return n;
    }

    private static boolean visible(int access) {
        return (access & (Opcodes.ACC_PUBLIC | Opcodes.ACC_PROTECTED)) != 0
                && (access & Opcodes.ACC_SYNTHETIC) == 0;
    }

    /** Adds stub's members that base lacks; returns how many. */
    private static int merge(ClassNode base, ClassNode stub, List<String> errors) {
        int n = 0;
        if (!Objects.equals(base.superName, stub.superName)) {
            errors.add(stub.name + ": the stub extends " + stub.superName + ", API 23's class " + base.superName);
            return 0;
        }
        for (FieldNode f : stub.fields) {
            if (!visible(f.access)) {
                continue;
            }
            FieldNode same = null;
            for (FieldNode g : base.fields) {
                if (g.name.equals(f.name)) {
                    same = g;
                }
            }
            if (same == null) {
                base.fields.add(f);
                n++;
            } else if (!same.desc.equals(f.desc)) {
                errors.add(stub.name + "." + f.name + ": the stub's type " + f.desc + ", API 23's " + same.desc);
            }
        }
        for (MethodNode m : stub.methods) {
            if (!visible(m.access)) {
                continue;
            }
            boolean have = false;
            for (MethodNode g : base.methods) {
                if (g.name.equals(m.name) && g.desc.equals(m.desc)) {
                    have = true;
                }
            }
            if (!have) {
                base.methods.add(m);
                n++;
            }
        }
        for (InnerClassNode ic : stub.innerClasses) {
            boolean have = false;
            for (InnerClassNode g : base.innerClasses) {
                if (g.name.equals(ic.name)) {
                    have = true;
                }
            }
            if (!have && visible(ic.access)) {
                base.innerClasses.add(ic);
                n++;
            }
        }
        return n;
    }
}

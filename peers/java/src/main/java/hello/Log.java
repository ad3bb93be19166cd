package hello;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** Line-oriented UTF-8 output, each line flushed as soon as it is written. */
final class Log {
  private static final PrintStream OUT = open(FileDescriptor.out);
  private static final PrintStream ERR = open(FileDescriptor.err);

  private Log() {}

  /** Writes one line to standard output. */
  static void out(String format, Object... args) {
    OUT.println(String.format(Locale.ROOT, format, args));
  }

  /** Writes one line to standard error. */
  static void err(String format, Object... args) {
    ERR.println(String.format(Locale.ROOT, format, args));
  }

  /**
   * The text as a JSON string (RFC 8259 escaping, by Jackson), for values that came from the
   * network: no value can forge a field or a line (PROTOCOL.md section 2.1).
   */
  static String quoted(String text) {
    return '"' + new String(JsonStringEncoder.getInstance().quoteAsString(text)) + '"';
  }

  private static PrintStream open(FileDescriptor descriptor) {
    return new PrintStream(new FileOutputStream(descriptor), true, StandardCharsets.UTF_8);
  }
}

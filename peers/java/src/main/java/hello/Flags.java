package hello;

import java.util.Arrays;
import java.util.List;

/**
 * Walks a command line made of {@code --name value}, {@code --name=value} and bare {@code --name}
 * flags, and reads the environment variables that give flags their defaults.
 */
final class Flags {
  private final String[] args;
  private int next;
  private String name;
  private String inlineValue;

  Flags(String[] args) {
    this.args = args;
  }

  /** Moves to the next flag; false when there is none left. */
  boolean advance() {
    if (next >= args.length) {
      return false;
    }
    String arg = args[next++];
    int equals = arg.indexOf('=');
    if (arg.startsWith("--") && equals > 0) {
      name = arg.substring(0, equals);
      inlineValue = arg.substring(equals + 1);
    } else {
      name = arg;
      inlineValue = null;
    }
    return true;
  }

  String name() {
    return name;
  }

  /** The value of the current flag. */
  String value() {
    if (inlineValue != null) {
      return inlineValue;
    }
    if (next >= args.length) {
      throw new UsageException(name + " needs a value");
    }
    return args[next++];
  }

  /** Fails unless the current flag came without a value. */
  void noValue() {
    if (inlineValue != null) {
      throw new UsageException(name + " takes no value");
    }
  }

  /** The error for a flag that no case knew, except that {@code --help} asks for the usage. */
  RuntimeException unknown() {
    if (name.equals("-h") || name.equals("--help")) {
      return new HelpRequested();
    }
    return new UsageException("unknown argument: " + name);
  }

  /** The environment variable's value, or the fallback when it is unset or empty. */
  static String env(String variable, String fallback) {
    String value = System.getenv(variable);
    return value == null || value.isEmpty() ? fallback : value;
  }

  /** The environment variable's comma-separated values, trimmed, without empty ones. */
  static List<String> envList(String variable) {
    return Arrays.stream(env(variable, "").split(","))
        .map(String::strip)
        .filter(value -> !value.isEmpty())
        .toList();
  }

  static int port(String what, String text) {
    int port = integer(what, text);
    if (port < 0 || port > 65535) {
      throw new UsageException(what + ": not a port number: " + text);
    }
    return port;
  }

  static int integer(String what, String text) {
    try {
      return Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      throw new UsageException(what + ": not a whole number: " + text);
    }
  }

  /** Thrown for {@code --help}: the program prints its usage text and exits 0. */
  static final class HelpRequested extends RuntimeException {
    HelpRequested() {
      super(null, null, false, false);
    }
  }
}

package hello;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations written as a number and a unit: {@code 10s}, {@code 500ms}, {@code 1m}. */
final class Durations {
  private static final Pattern FORMAT = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

  private Durations() {}

  static Duration parse(String what, String text) {
    Matcher matcher = FORMAT.matcher(text.trim());
    if (!matcher.matches()) {
      throw new UsageException(what + ": not a duration (write e.g. 10s, 500ms, 1m): " + text);
    }
    long amount = Long.parseLong(matcher.group(1));
    switch (matcher.group(2)) {
      case "ms":
        return Duration.ofMillis(amount);
      case "s":
        return Duration.ofSeconds(amount);
      case "m":
        return Duration.ofMinutes(amount);
      default:
        return Duration.ofHours(amount);
    }
  }

  /** Parses a duration that must be longer than zero. */
  static Duration parsePositive(String what, String text) {
    Duration duration = parse(what, text);
    if (duration.isZero()) {
      throw new UsageException(what + " must be longer than zero");
    }
    return duration;
  }

  /** Writes a duration back the way it is read, e.g. {@code 1500ms}. */
  static String format(Duration duration) {
    return duration.toMillis() + "ms";
  }
}

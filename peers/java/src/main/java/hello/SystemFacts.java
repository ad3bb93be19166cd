package hello;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/** The real facts of this host that the Kiss exchange carries (PROTOCOL.md 3.5 and 3.6). */
final class SystemFacts {
  private static final String UNKNOWN = "unknown";
  private static final Path OS_RELEASE = Path.of("/etc/os-release");
  private static final Path KERNEL_VERSION = Path.of("/proc/sys/kernel/version");

  private SystemFacts() {}

  /**
   * The server host's operating system. On Linux {@code os_version} is the distribution's version
   * ({@code VERSION_ID} of /etc/os-release) and {@code os_release} the kernel release; elsewhere
   * both are what the JVM reports as {@code os.version}.
   */
  static Messages.KissRequest host() {
    String name = known(System.getProperty("os.name"));
    String javaVersion = known(System.getProperty("os.version"));
    String version = javaVersion;
    if (name.equals("Linux")) {
      version = osReleaseField("VERSION_ID").or(() -> firstLine(KERNEL_VERSION)).orElse(UNKNOWN);
    }
    return new Messages.KissRequest(
        name, known(version), javaVersion, known(System.getProperty("os.arch")));
  }

  /**
   * The client's locale and time zone. The locale is the first non-empty of LC_ALL, LC_MESSAGES and
   * LANG, split at the dot into language and encoding: {@code en_US} stands for an unset, C or
   * POSIX locale, and {@code UTF-8} for a missing encoding, as the reference client does.
   */
  static Messages.KissResponse client(Map<String, String> environment) {
    String locale =
        Stream.of("LC_ALL", "LC_MESSAGES", "LANG")
            .map(environment::get)
            .filter(value -> value != null && !value.isEmpty())
            .findFirst()
            .orElse("C");
    String withoutModifier = locale.split("@", -1)[0];
    int dot = withoutModifier.indexOf('.');
    String language = dot >= 0 ? withoutModifier.substring(0, dot) : withoutModifier;
    String encoding = dot >= 0 ? withoutModifier.substring(dot + 1) : "";
    if (language.isEmpty() || language.equals("C") || language.equals("POSIX")) {
      language = "en_US";
    }
    if (encoding.isEmpty()) {
      encoding = "UTF-8";
    }
    return new Messages.KissResponse(language, encoding, timeZone(environment));
  }

  /**
   * The IANA name of the local time zone: from TZ, then /etc/timezone, then the /etc/localtime
   * link, then the JVM's default; {@code UTC} when none of them names a known zone.
   */
  static String timeZone(Map<String, String> environment) {
    List<String> candidates = new ArrayList<>();
    String tz = environment.get("TZ");
    if (tz != null) {
      candidates.add(afterZoneinfo(tz.startsWith(":") ? tz.substring(1) : tz));
    }
    firstLine(Path.of("/etc/timezone")).ifPresent(candidates::add);
    try {
      Path link = Files.readSymbolicLink(Path.of("/etc/localtime"));
      candidates.add(afterZoneinfo(link.toString()));
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      // No link: the next candidate decides.
    }
    candidates.add(ZoneId.systemDefault().getId());
    return candidates.stream()
        .map(String::trim)
        .filter(ZoneId.getAvailableZoneIds()::contains)
        .findFirst()
        .orElse("UTC");
  }

  private static String afterZoneinfo(String path) {
    int index = path.indexOf("zoneinfo/");
    return index >= 0 ? path.substring(index + "zoneinfo/".length()) : path;
  }

  private static Optional<String> osReleaseField(String field) {
    try (Stream<String> lines = Files.lines(OS_RELEASE)) {
      return lines
          .filter(line -> line.startsWith(field + "="))
          .map(line -> line.substring(field.length() + 1).replace("\"", "").trim())
          .filter(value -> !value.isEmpty())
          .findFirst();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static Optional<String> firstLine(Path file) {
    try (Stream<String> lines = Files.lines(file)) {
      return lines.map(String::trim).filter(line -> !line.isEmpty()).findFirst();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static String known(String value) {
    return value == null || value.isBlank() ? UNKNOWN : value;
  }
}

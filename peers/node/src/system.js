// Facts about this machine that the Kiss exchange carries (PROTOCOL.md sections 3.5 and 3.6).

import os from "node:os";

const UNKNOWN = "unknown";
const FALLBACK_LANGUAGE = "en_US";
const FALLBACK_ENCODING = "UTF-8";
const FALLBACK_TIME_ZONE = "UTC";

/** The server's Kiss request: its host's OS, as Node's os module reports it. */
export function kissRequest() {
  const known = (read) => {
    try {
      return read() || UNKNOWN;
    } catch {
      return UNKNOWN;
    }
  };
  return {
    os_name: known(os.type),
    os_version: known(os.version),
    os_release: known(os.release),
    os_architecture: known(os.machine),
  };
}

/**
 * The client's Kiss response: the POSIX locale (first non-empty of LC_ALL, LC_MESSAGES, LANG)
 * split into language and encoding, and the IANA time zone, with the protocol's fallbacks.
 */
export function kissResponse(env = process.env) {
  const locale =
    [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((value) => value) ?? "";
  const [beforeModifier] = locale.split("@");
  const [language, encoding] = beforeModifier.split(".");
  return {
    language: ["", "C", "POSIX"].includes(language)
      ? FALLBACK_LANGUAGE
      : language,
    encoding: encoding || FALLBACK_ENCODING,
    time_zone: localTimeZone(),
  };
}

function localTimeZone() {
  // ICU reads TZ, then /etc/localtime; it has no name for a zone it could not find.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone && zone !== "Etc/Unknown" ? zone : FALLBACK_TIME_ZONE;
}

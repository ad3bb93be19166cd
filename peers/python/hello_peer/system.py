"""Facts about this machine: the server's OS for Kiss requests, the client's locale and time zone
for Kiss responses (PROTOCOL.md sections 3.5 and 3.6)."""

import os
import platform
import zoneinfo
from collections.abc import Mapping
from pathlib import Path

UNKNOWN = "unknown"
FALLBACK_LANGUAGE = "en_US"
FALLBACK_ENCODING = "UTF-8"
FALLBACK_TIME_ZONE = "UTC"


def os_facts() -> dict[str, str]:
    """The host's OS name, version, release and CPU architecture, never empty."""
    name = platform.system()
    if name == "Linux":
        try:
            version = platform.freedesktop_os_release().get("VERSION_ID", "")
        except OSError:
            version = ""
    elif name == "Darwin":
        version = platform.mac_ver()[0]
    else:
        version = platform.version()
    return {
        "os_name": name or UNKNOWN,
        "os_version": version or UNKNOWN,
        "os_release": platform.release() or UNKNOWN,
        "os_architecture": platform.machine() or UNKNOWN,
    }


def locale_parts(environ: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """The POSIX locale (first non-empty of LC_ALL, LC_MESSAGES, LANG) as (language, encoding).

    `fr_FR.ISO-8859-15@euro` gives ("fr_FR", "ISO-8859-15"); an unset, `C` or `POSIX` locale
    gives en_US, and a locale without an encoding part gives UTF-8.
    """
    locale = next(
        (environ[key] for key in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(key)),
        "",
    )
    language, _, encoding = locale.partition("@")[0].partition(".")
    if language in ("", "C", "POSIX"):
        language = FALLBACK_LANGUAGE
    return language, encoding or FALLBACK_ENCODING


def time_zone(environ: Mapping[str, str] = os.environ) -> str:
    """The IANA name of the local time zone: from TZ, /etc/localtime or /etc/timezone."""
    tz = environ.get("TZ", "").removeprefix(":")
    if tz:
        name = _zone_name_from_path(tz) if tz.startswith("/") else tz
        if name and _is_iana_name(name):
            return name
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        name = _zone_name_from_path(str(localtime.resolve()))
        if name and _is_iana_name(name):
            return name
    try:
        name = Path("/etc/timezone").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        name = ""
    if name and _is_iana_name(name):
        return name
    return FALLBACK_TIME_ZONE


def _zone_name_from_path(path: str) -> str | None:
    """`/usr/share/zoneinfo/Europe/Paris` -> `Europe/Paris`."""
    _, found, name = path.rpartition("zoneinfo/")
    if not found:
        return None
    for variant in ("posix/", "right/"):
        name = name.removeprefix(variant)
    return name


def _is_iana_name(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True

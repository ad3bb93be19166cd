"""Command-line pieces shared by the server and the client: durations, defaults, paths."""

import argparse
import os
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_CERTS_DIR = REPO_ROOT / "certs"

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_SECONDS_PER_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration(text: str) -> float:
    """Parses `10s`, `500ms`, `1m` or `1h` into seconds; for argparse's `type=`."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"invalid duration {text!r}: write a number and a unit, e.g. 10s, 500ms, 1m"
        )
    return float(match[1]) * _SECONDS_PER_UNIT[match[2]]


def positive_duration(text: str) -> float:
    seconds = duration(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(
            f"invalid duration {text!r}: must be more than zero"
        )
    return seconds


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: must be 0..65535")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(
            f"invalid number {text!r}: must be more than zero"
        )
    return value


def count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"invalid count {text!r}: must not be negative"
        )
    return value


def env(name: str, default: str) -> str:
    """The default of a flag: the environment variable when it is set and not empty."""
    return os.environ.get(name) or default

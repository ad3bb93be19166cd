"""What a v1 session adds (PROTOCOL.md, section 12): its answer to each message, and its timers,
PING, TIME_NOTIFICATION, KISS_REQUEST and the session timeout.

No I/O here: the server hands each incoming message to `V1Session.answer` and asks
`V1Session.frames_due` and `V1Session.expired` on its timers, then writes out what they return.
Times are the event loop's clock (seconds); PING timestamps are wall-clock milliseconds.
"""

import time
from collections import deque
from dataclasses import dataclass

from websockets.frames import CloseCode

from . import v1
from .session import DISCONNECTED, Ending


@dataclass(frozen=True)
class Timings:
    ping_interval: float
    session_timeout: float
    time_interval: float
    kiss_interval: float

    @property
    def outstanding_pings(self) -> int:
        """How many PING timestamps a session keeps for matching: a timeout's worth, at least 1."""
        return max(1, int(self.session_timeout // self.ping_interval))


@dataclass(frozen=True)
class V1Answer:
    """What to do with one incoming message: send `frame` (if any), record `kiss` (if any), then
    end the session when `ending` is set."""

    frame: bytes | None = None
    kiss: v1.KissResponse | None = None
    ending: Ending | None = None


NOTHING = V1Answer()


class V1Session:
    def __init__(self, timings: Timings, server_tag: str, now: float) -> None:
        self.timings = timings
        self.bonjour = v1.encode(v1.Bonjour(server_tag))
        self.server_tag = server_tag
        self.next_ping = now + timings.ping_interval
        self.next_time = now + timings.time_interval
        self.next_kiss = now + timings.kiss_interval
        # When the session is removed unless a matching PONG comes first.
        self.expires = now + timings.session_timeout
        # The timestamps of PINGs no PONG has matched yet, oldest first, with when each was sent.
        self.outstanding: deque[tuple[int, float]] = deque(
            maxlen=timings.outstanding_pings
        )

    # Timers

    def expired(self, now: float) -> bool:
        return now >= self.expires

    def next_due(self) -> float:
        return min(self.next_ping, self.next_time, self.next_kiss)

    def frames_due(self, now: float, kiss_request: bytes) -> list[bytes]:
        """The frames whose timers are due at `now`. A timer that fell behind fires once and is
        set an interval from now, never in a burst."""
        frames = []
        if now >= self.next_ping:
            self.next_ping = now + self.timings.ping_interval
            timestamp_ms = time.time_ns() // 1_000_000
            self.outstanding.append((timestamp_ms, now))  # the deque drops the oldest
            frames.append(v1.encode(v1.Ping(timestamp_ms)))
        if now >= self.next_time:
            self.next_time = now + self.timings.time_interval
            frames.append(v1.encode(v1.time_notification()))
        if now >= self.next_kiss:
            self.next_kiss = now + self.timings.kiss_interval
            frames.append(kiss_request)
        return frames

    # Answers

    def answer(self, message: str | bytes, now: float) -> V1Answer:
        if isinstance(message, str):
            return refuse(
                v1.FrameError(
                    v1.ErrorCode.DECODE,
                    "a text message on a v1 session; v1 frames are binary messages",
                )
            )
        try:
            decoded = v1.decode(message)
        except v1.FrameError as error:
            return refuse(error)
        if not decoded.CLIENT_SENDS:
            return refuse(
                v1.FrameError(
                    v1.ErrorCode.UNKNOWN_TYPE,
                    f"{type(decoded).__name__} is sent by a server, not to one",
                )
            )
        match decoded:
            case v1.Hello():
                return V1Answer(frame=self.bonjour)
            case v1.EchoRequest():
                return V1Answer(
                    frame=v1.encode(v1.echo_answer(decoded, self.server_tag))
                )
            case v1.RandomNumber():
                return V1Answer(frame=v1.encode(v1.hash_response(decoded)))
            case v1.KissResponse():
                return V1Answer(kiss=decoded)
            case v1.Pong(timestamp_ms=timestamp_ms):
                self.match_pong(timestamp_ms, now)
                return NOTHING
            case v1.Disconnect():
                return V1Answer(ending=DISCONNECTED)
            case _:  # the client's own ERROR gets no answer
                return NOTHING

    def match_pong(self, timestamp_ms: int, now: float) -> bool:
        """A PONG echoing a PING sent within the session timeout, and not matched yet, extends
        the session by the timeout from now; any other PONG is ignored."""
        for entry in self.outstanding:
            sent_ms, sent_at = entry
            if sent_ms == timestamp_ms and now - sent_at < self.timings.session_timeout:
                self.outstanding.remove(entry)
                self.expires = now + self.timings.session_timeout
                return True
        return False


def refuse(error: v1.FrameError) -> V1Answer:
    """ERROR with the error's code; then Close 1002 when the code ends the session."""
    frame = v1.encode(v1.Error(error.code, error.what))
    if not error.code.closes_session:
        return V1Answer(frame=frame)
    return V1Answer(
        frame=frame,
        ending=Ending(
            f"error: v1 frame refused with code {error.code.value}: {error.what}",
            CloseCode.PROTOCOL_ERROR,
            "malformed v1 frame",
        ),
    )

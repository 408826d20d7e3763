"""A small, fast HTTP/1.1 load generator on raw asyncio streams (keep-alive, closed loop).

httpx costs more CPU per request than the server under test on a 2-core machine, which would measure the
client, not the server; this one pre-encodes requests and reads only the status line and the body length.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# The stream's buffer: large, so a page of a megabyte is read without pausing the transport every 64 KiB.
READ_BUFFER = 8 * 1024 * 1024


@dataclass
class LoadResult:
    sent: int = 0
    ok: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_s: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0

    def percentile_ms(self, p: float) -> float:
        if not self.latencies_s:
            return float("nan")
        ordered = sorted(self.latencies_s)
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 2)


async def read_response(reader: asyncio.StreamReader) -> int:
    """One HTTP/1.1 response off a kept-alive connection: its status; the body is read and dropped."""
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def _worker(host: str, port: int, make_request: Callable[[int], bytes], counter: list[int], stop_at: float,
                  result: LoadResult, ok_statuses: set[int], reconnect: bool) -> None:
    reader, writer = await asyncio.open_connection(host, port, limit=READ_BUFFER)
    try:
        while time.perf_counter() < stop_at:
            counter[0] += 1
            request = make_request(counter[0])
            started = time.perf_counter()
            if reconnect and result.sent:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port, limit=READ_BUFFER)
            writer.write(request)
            status = await read_response(reader)
            result.latencies_s.append(time.perf_counter() - started)
            result.sent += 1
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status in ok_statuses:
                result.ok += 1
            else:
                result.errors += 1
    finally:
        writer.close()


async def run(host: str, port: int, make_request: Callable[[int], bytes], *, concurrency: int, seconds: float,
              ok_statuses: set[int], reconnect: bool = False) -> LoadResult:
    """`concurrency` clients in a closed loop for `seconds`. With `reconnect`, each request after a client's
    first opens a new connection: the server's worker processes then share the load as their accepts fall,
    where a few kept-alive connections can all land on one of them."""
    result = LoadResult()
    counter = [0]
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(_worker(host, port, make_request, counter, stop_at, result, ok_statuses, reconnect)
                           for _ in range(concurrency)))
    result.elapsed_s = time.perf_counter() - started
    return result


def post(path: str, body: bytes, host: str, headers: dict[str, str]) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{head}\r\n").encode() + body


def get(path: str, host: str, headers: dict[str, str] | None = None) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{head}\r\n".encode()

"""WebSocket clients for the fan-out benchmark, in a process of their own.

    python -m bench.events.clients URL COUNT

The clients' own work (200 sockets' frames read, parsed and timestamped) used to run on a thread
of the benchmark's process, which also writes the events and measures: on two cores that work
was part of every 200-client figure. Here it runs in separate processes (the benchmark starts
several), which import no Django. Receive times are `time.monotonic()`, the system-wide
CLOCK_MONOTONIC on Linux, so they compare with the commit times the benchmark takes in its own
process.

Protocol, one JSON object per line:

    → {"ready": COUNT}                      when every client is subscribed and caught up
    ← {"collect": [SEQ, ...], "timeout": S} wait until every client here has each seq
    → {"received": {"SEQ": [TIME, ...]}}    (or {"error": "..."} on timeout)
    ← {"close": true}                       close the sockets and exit
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


async def _read(connection: Any, received: dict[int, list[float]]) -> None:
    async for raw in connection:
        now = time.monotonic()
        seq = json.loads(raw).get("seq")
        if isinstance(seq, int):
            received.setdefault(seq, []).append(now)


async def main(url: str, count: int) -> None:
    import websockets

    received: dict[int, list[float]] = {}
    connections = []
    readers = []
    for _ in range(count):
        connection = await websockets.connect(url, max_size=None)
        for _ in range(2):  # subscribed, caught_up
            await connection.recv()
        connections.append(connection)
        readers.append(asyncio.create_task(_read(connection, received)))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps({"ready": count}), flush=True)
    while line := await reader.readline():
        request = json.loads(line)
        if request.get("close"):
            break
        seqs, deadline = request["collect"], time.monotonic() + float(request.get("timeout", 60))
        while any(len(received.get(seq, ())) < count for seq in seqs) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if any(len(received.get(seq, ())) < count for seq in seqs):
            print(json.dumps({"error": "clients did not receive every event in time"}), flush=True)
            continue
        print(json.dumps({"received": {str(seq): received.pop(seq) for seq in seqs}}), flush=True)
    for connection in connections:
        await connection.close()
    for task in readers:
        task.cancel()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))

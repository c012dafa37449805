#!/usr/bin/env python3
"""Interop: Python `websockets` (PyPI) against the server's /echo and /v1/stream.
Usage: python_client.py HOST PORT. Prints one line per check; exit 1 on failure."""
import asyncio
import struct
import sys

import websockets

SIZES = [0, 125, 126, 65535, 65536, 1 << 20]
failures = 0


def check(ok, what):
    global failures
    print(f"python-websockets: {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        failures += 1


async def echo(base):
    async with websockets.connect(base + "/echo", max_size=None, compression=None) as ws:
        for n in SIZES:
            text = "é" * (n // 2) + "a" * (n % 2)
            await ws.send(text)
            got = await ws.recv()
            check(got == text, f"text echo {len(text.encode())} bytes")
            data = bytes((i * 7) & 0xFF for i in range(n))
            await ws.send(data)
            got = await ws.recv()
            check(got == data, f"binary echo {n} bytes")
        pong = await ws.ping(b"interop")
        await asyncio.wait_for(pong, 5)
        check(True, "ping answered with pong")
        await ws.close(code=1000, reason="done")
        check(ws.close_code == 1000, f"close 1000 echoed (got {ws.close_code})")

    async with websockets.connect(base + "/echo", compression=None) as ws:
        await ws.close(code=4321)
        check(ws.close_code == 4321, f"application close code 4321 echoed (got {ws.close_code})")


async def stream(base):
    async with websockets.connect(base + "/v1/stream?symbols=AAPL", compression=None) as ws:
        welcome = await asyncio.wait_for(ws.recv(), 5)
        check(isinstance(welcome, str) and '"welcome"' in welcome, "stream: welcome first")
        ack = await asyncio.wait_for(ws.recv(), 5)
        check('"subscribed"' in ack, "stream: subscribed acknowledgement")
        msg = await asyncio.wait_for(ws.recv(), 5)
        check(isinstance(msg, bytes), "stream: binary tick message")
        version, mtype, count, size = struct.unpack_from("<BBHH", msg, 0)
        check(version == 1 and mtype == 1 and count >= 1 and size == 64 and len(msg) == 16 + count * size,
              f"stream: header version={version} type={mtype} count={count} record={size}")
        await ws.send('{"op":"subscribe","id":7,"symbols":["NOPE"]}')
        while True:
            reply = await asyncio.wait_for(ws.recv(), 5)
            if isinstance(reply, str):
                break
        check('"unknown_symbol"' in reply and '"id":7' in reply, "stream: unknown_symbol error with id")
        await ws.close()
        check(ws.close_code == 1000, f"stream: close 1000 (got {ws.close_code})")


async def main():
    base = f"ws://{sys.argv[1]}:{sys.argv[2]}"
    await echo(base)
    await stream(base)


asyncio.run(main())
print(f"python-websockets: {'all checks passed' if failures == 0 else f'{failures} check(s) failed'}")
sys.exit(1 if failures else 0)

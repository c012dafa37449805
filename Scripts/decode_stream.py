#!/usr/bin/env python3
"""Minimal ticker client: subscribes, decodes binary tick batches (wire v1)
with `struct` only, prints N ticks, exits 0.

    decode_stream.py ws://localhost:8080/v1/stream AAPL,MSFT 20
    decode_stream.py --fixture Fixtures/golden/tick_batch.hex   # offline check

Needs the `websockets` package only for live mode."""
import asyncio
import json
import struct
import sys

HEADER = struct.Struct("<BBHHHQ")           # version, type, count, recordSize, reserved, sendTimeNs
RECORD = struct.Struct("<IBbHQQqqqIIII")    # see docs/PROTOCOL.md for field names
FLAGS = {1: "snapshot", 2: "conflated"}


def decode(frame):
    version, mtype, count, size, _, send_ns = HEADER.unpack_from(frame, 0)
    if version != 1 or mtype != 1 or size < 64 or len(frame) != 16 + count * size:
        raise ValueError(f"bad frame: version={version} type={mtype} count={count} size={size} len={len(frame)}")
    for i in range(count):
        (sid, flags, exp, _, seq, ev_ns, bid, ask, last,
         bsz, asz, lsz, conflated) = RECORD.unpack_from(frame, 16 + i * size)
        yield dict(id=sid, flags=[n for b, n in FLAGS.items() if flags & b], seq=seq, time_ns=ev_ns,
                   bid=bid * 10.0 ** exp, ask=ask * 10.0 ** exp, last=last * 10.0 ** exp,
                   bid_size=bsz, ask_size=asz, last_size=lsz, conflated=conflated, send_ns=send_ns)


def show(tick, names):
    name = names.get(tick["id"], str(tick["id"]))
    print(f"{name:8} seq={tick['seq']:<8} bid={tick['bid']:.4f}x{tick['bid_size']} "
          f"ask={tick['ask']:.4f}x{tick['ask_size']} last={tick['last']:.4f}x{tick['last_size']} "
          f"{','.join(tick['flags'])}{' +' + str(tick['conflated']) if tick['conflated'] else ''}")


async def stream(url, symbols, count):
    import websockets  # only needed for live mode
    names, seen = {}, 0
    async with websockets.connect(url, max_size=2**20) as ws:
        await ws.send(json.dumps({"op": "subscribe", "id": 1, "symbols": symbols.split(",")}))
        async for message in ws:
            if isinstance(message, str):                 # JSON control reply
                reply = json.loads(message)
                if reply.get("type") == "error":
                    print("error:", reply, file=sys.stderr)
                    return 1
                for s in reply.get("symbols", []) if isinstance(reply.get("symbols"), list) else []:
                    names[s["id"]] = s["symbol"]
                continue
            for tick in decode(message):
                show(tick, names)
                seen += 1
                if seen >= count:
                    return 0
    return 1


def main(argv):
    if len(argv) == 3 and argv[1] == "--fixture":
        with open(argv[2], "rb") as f:
            data = f.read()
        frame = bytes.fromhex(data.decode()) if argv[2].endswith(".hex") else data
        ticks = list(decode(frame))
        for tick in ticks:
            show(tick, {})
        return 0 if ticks else 1
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    return asyncio.run(stream(argv[1], argv[2], int(argv[3])))


if __name__ == "__main__":
    sys.exit(main(sys.argv))

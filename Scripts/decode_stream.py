#!/usr/bin/env python3
"""Minimal ticker client and an independent decoder of both encodings of
docs/PROTOCOL.md: raw v1 (message type 1, 64-byte records, `struct` only)
and delta (message type 2, "Delta encoding"). Written from the document,
not from the Swift code, so it can check the server.

    decode_stream.py ws://localhost:8080/v1/stream AAPL,MSFT 20 [--encoding delta|raw]
    decode_stream.py --fixture Fixtures/golden/tick_batch.hex      # one message, printed
    decode_stream.py --messages FILE.hex                           # one message per line -> JSON

`--messages` decodes the hex messages of FILE in order with one decoder
and prints a JSON array, one {"sendTimeNs", "records"} per message (delta
records carry "keyframe"); on the first error it prints {"error": CODE,
"message": N} and exits 1. Live mode needs the `websockets` package."""
import asyncio
import json
import struct
import sys

HEADER = struct.Struct("<BBHHHQ")           # version, type, count, recordSize, reserved, sendTimeNs
RECORD = struct.Struct("<IBbHQQqqqIIII")    # see docs/PROTOCOL.md for field names
FLAGS = {1: "snapshot", 2: "conflated"}
M64 = (1 << 64) - 1
U32 = (1 << 32) - 1
MAX_SYMBOLS = 1 << 16


class DecodeError(Exception):
    """`code` is one of the stable names in PROTOCOL.md ("Decoder errors")."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def s64(v):
    v &= M64
    return v - (1 << 64) if v >> 63 else v


class Reader:
    def __init__(self, data, at):
        self.data, self.at = data, at

    def byte(self):
        if self.at >= len(self.data):
            raise DecodeError("truncated")
        b = self.data[self.at]
        self.at += 1
        return b

    def varint(self, limit=M64):
        value = 0
        for i in range(10):
            b = self.byte()
            if i == 9 and b > 1:
                raise DecodeError("varint_overflow")
            value |= (b & 0x7F) << (7 * i)
            if b & 0x80 == 0:
                if value > limit:
                    raise DecodeError("varint_overflow")
                return value
        raise DecodeError("varint_overflow")

    def signed(self):
        u = self.varint()
        return s64((u >> 1) ^ -(u & 1))

    def size(self):
        x = self.varint()
        value = (x >> 3) * 10 ** (x & 7)
        if value > U32:
            raise DecodeError("varint_overflow")
        return value


class Decoder:
    """Per connection: the last record of each symbol (what a delta is relative to)."""

    def __init__(self):
        self.prev = {}

    def decode(self, frame):
        """Returns (sendTimeNs, [record dict]); on DecodeError the state is dropped."""
        try:
            return self._decode(bytes(frame))
        except DecodeError:
            self.prev = {}
            raise

    def _decode(self, frame):
        if len(frame) < 16:
            raise DecodeError("truncated_header")
        version, mtype, count, size, _, send = HEADER.unpack_from(frame, 0)
        if version != 1:
            raise DecodeError("unsupported_version")
        if mtype == 1:
            if size < 64 or len(frame) != 16 + count * size:
                raise DecodeError("length_mismatch")
            return send, [self._raw(frame, 16 + i * size) for i in range(count)]
        if mtype != 2:
            raise DecodeError("unknown_message_type")
        if size != 0:
            raise DecodeError("bad_record_size")
        r = Reader(frame, 16)
        records = [self._delta(r, send) for _ in range(count)]
        if r.at != len(frame):
            raise DecodeError("trailing_bytes")
        return send, records

    def _raw(self, frame, at):
        (sid, flags, exp, _, seq, ev, bid, ask, last, bsz, asz, lsz, count) = RECORD.unpack_from(frame, at)
        t = dict(symbolId=sid, flags=flags, priceExponent=exp, sequence=seq, eventTimeNs=ev, bid=bid, ask=ask,
                 last=last, bidSize=bsz, askSize=asz, lastSize=lsz, conflatedCount=count)
        self.prev[sid] = t
        return t

    def _delta(self, r, send):
        sid = r.varint(U32)
        presence = r.byte()
        flags, count = 0, 0
        if presence & 0x80:
            flags = r.byte()
            count = r.varint(U32)
        if presence & 0x01:
            if presence & 0x7E:
                raise DecodeError("reserved_bits")
            seq = r.varint()
            exp = struct.unpack("<b", bytes([r.byte()]))[0]
            ev = (send - r.signed()) & M64
            bid = r.signed()
            ask = s64(bid + r.signed())
            last = s64(bid + r.signed())
            t = dict(symbolId=sid, flags=flags, priceExponent=exp, sequence=seq, eventTimeNs=ev, bid=bid,
                     ask=ask, last=last, bidSize=r.size(), askSize=r.size(), lastSize=r.size(),
                     conflatedCount=count, keyframe=True)
            if sid not in self.prev and len(self.prev) >= MAX_SYMBOLS:
                raise DecodeError("too_many_symbols")
        else:
            p = self.prev.get(sid)
            if p is None:
                raise DecodeError("missing_keyframe")
            ev = (send - r.signed()) & M64
            bid = s64(p["bid"] + r.signed()) if presence & 0x02 else p["bid"]
            spread = s64(p["ask"] - p["bid"])
            if presence & 0x04:
                spread = s64(spread + r.signed())
            offset = s64(p["last"] - p["bid"])
            if presence & 0x08:
                offset = s64(offset + r.signed())
            t = dict(symbolId=sid, flags=flags, priceExponent=p["priceExponent"],
                     sequence=(p["sequence"] + 1 + count) & M64, eventTimeNs=ev, bid=bid,
                     ask=s64(bid + spread), last=s64(bid + offset),
                     bidSize=r.size() if presence & 0x10 else p["bidSize"],
                     askSize=r.size() if presence & 0x20 else p["askSize"],
                     lastSize=r.size() if presence & 0x40 else p["lastSize"],
                     conflatedCount=count, keyframe=False)
        self.prev[sid] = t
        return t


def decode(frame):
    """One raw v1 message on its own (the old fixture mode): display dicts."""
    _, records = Decoder().decode(frame)
    for t in records:
        exp = t["priceExponent"]
        yield dict(id=t["symbolId"], flags=[n for b, n in FLAGS.items() if t["flags"] & b], seq=t["sequence"],
                   time_ns=t["eventTimeNs"], bid=t["bid"] * 10.0 ** exp, ask=t["ask"] * 10.0 ** exp,
                   last=t["last"] * 10.0 ** exp, bid_size=t["bidSize"], ask_size=t["askSize"],
                   last_size=t["lastSize"], conflated=t["conflatedCount"])


def show(tick, names):
    name = names.get(tick["id"], str(tick["id"]))
    print(f"{name:8} seq={tick['seq']:<8} bid={tick['bid']:.4f}x{tick['bid_size']} "
          f"ask={tick['ask']:.4f}x{tick['ask_size']} last={tick['last']:.4f}x{tick['last_size']} "
          f"{','.join(tick['flags'])}{' +' + str(tick['conflated']) if tick['conflated'] else ''}")


def messages(path):
    decoder, out = Decoder(), []
    with open(path) as f:
        lines = [line.strip() for line in f if line.strip()]
    for n, line in enumerate(lines):
        try:
            send, records = decoder.decode(bytes.fromhex(line))
        except DecodeError as e:
            print(json.dumps({"error": e.code, "message": n}))
            return 1
        out.append(dict(sendTimeNs=send, records=records))
    print(json.dumps(out))
    return 0


async def stream(url, symbols, count, encoding):
    import websockets  # only needed for live mode
    names, seen, decoder = {}, 0, Decoder()
    url += ("&" if "?" in url else "?") + "encoding=" + encoding
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
            _, records = decoder.decode(message)
            for t in records:
                exp = t["priceExponent"]
                show(dict(id=t["symbolId"], flags=[n for b, n in FLAGS.items() if t["flags"] & b],
                          seq=t["sequence"], bid=t["bid"] * 10.0 ** exp, ask=t["ask"] * 10.0 ** exp,
                          last=t["last"] * 10.0 ** exp, bid_size=t["bidSize"], ask_size=t["askSize"],
                          last_size=t["lastSize"], conflated=t["conflatedCount"]), names)
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
    if len(argv) == 3 and argv[1] == "--messages":
        return messages(argv[2])
    encoding = "delta"
    if len(argv) == 6 and argv[4] == "--encoding" and argv[5] in ("delta", "raw"):
        encoding = argv[5]
        argv = argv[:4]
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    return asyncio.run(stream(argv[1], argv[2], int(argv[3]), encoding))


if __name__ == "__main__":
    sys.exit(main(sys.argv))

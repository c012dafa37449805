#!/usr/bin/env python3
"""Writes the delta-encoding golden fixtures (docs/PROTOCOL.md, "Delta
encoding") from an independent Python encoder, so the Swift codec is checked
against a second implementation, not against itself.

Per case: NAME.hex holds one message per line (lowercase hex, header
included), decoded in order by one decoder; NAME.json the records they
decode to, one list per message, with `keyframe` saying which form each
record takes on the wire. Run from this folder: python3 make_delta.py"""
import json
import struct

HDR = struct.Struct("<BBHHHQ")
M64 = (1 << 64) - 1


def varint(v):
    assert 0 <= v <= M64
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def s64(v):
    """Wraps to a signed 64-bit value, as the wire's arithmetic does."""
    v &= M64
    return v - (1 << 64) if v >> 63 else v


def zigzag(v):
    v = s64(v)
    return ((v << 1) ^ (v >> 63)) & M64


def scaled(size):
    if size == 0:
        return 0
    k = 0
    while k < 7 and size % 10 == 0:
        size //= 10
        k += 1
    return size << 3 | k


def extension(t):
    if t["flags"] or t["conflatedCount"]:
        return bytes([t["flags"]]) + varint(t["conflatedCount"])
    return b""


def keyframe(t, send):
    ext = extension(t)
    out = varint(t["symbolId"]) + bytes([0x01 | (0x80 if ext else 0)]) + ext
    out += varint(t["sequence"]) + struct.pack("<b", t["priceExponent"])
    out += varint(zigzag(send - t["eventTimeNs"]))
    out += varint(zigzag(t["bid"])) + varint(zigzag(t["ask"] - t["bid"])) + varint(zigzag(t["last"] - t["bid"]))
    for k in ("bidSize", "askSize", "lastSize"):
        out += varint(scaled(t[k]))
    return out


def delta(t, ref, send):
    assert t["priceExponent"] == ref["priceExponent"]
    assert t["sequence"] == (ref["sequence"] + 1 + t["conflatedCount"]) & M64
    ext = extension(t)
    presence = 0x80 if ext else 0
    body = varint(zigzag(send - t["eventTimeNs"]))
    if t["bid"] != ref["bid"]:
        presence |= 0x02
        body += varint(zigzag(t["bid"] - ref["bid"]))
    spread, ref_spread = s64(t["ask"] - t["bid"]), s64(ref["ask"] - ref["bid"])
    if spread != ref_spread:
        presence |= 0x04
        body += varint(zigzag(spread - ref_spread))
    off, ref_off = s64(t["last"] - t["bid"]), s64(ref["last"] - ref["bid"])
    if off != ref_off:
        presence |= 0x08
        body += varint(zigzag(off - ref_off))
    for bit, k in ((0x10, "bidSize"), (0x20, "askSize"), (0x40, "lastSize")):
        if t[k] != ref[k]:
            presence |= bit
            body += varint(scaled(t[k]))
    return varint(t["symbolId"]) + bytes([presence]) + ext + body


def tick(sid, seq, ev, bid, ask, last, bs, as_, ls, exp=-2, flags=0, count=0):
    return dict(symbolId=sid, flags=flags, priceExponent=exp, sequence=seq, eventTimeNs=ev,
                bid=bid, ask=ask, last=last, bidSize=bs, askSize=as_, lastSize=ls, conflatedCount=count)


def changed(t, **kw):
    u = dict(t)
    u.update(kw)
    return u


SEND = 1_717_171_200_123_456_789
AAPL = tick(0, 1001, SEND - 850_000, 22749, 22751, 22750, 300, 500, 100)
NEXT = dict(sequence=1002, eventTimeNs=SEND + 10_000_000 - 1_200_000)
FX = tick(142, 5012, SEND - 400_000, 10841, 10842, 10841, 100_000, 300_000, 100_000, exp=-4)

# case -> list of messages; each message (sendTimeNs, [(tick, keyframe?)])
CASES = {
    "keyframe": [(SEND, [(AAPL, True)])],
    "snapshot_keyframe": [(SEND, [(changed(AAPL, flags=1), True)])],
    "bid_changed": [(SEND, [(AAPL, True)]), (SEND + 10_000_000, [(changed(AAPL, bid=22750, ask=22752, **NEXT), False)])],
    "ask_changed": [(SEND, [(AAPL, True)]), (SEND + 10_000_000, [(changed(AAPL, ask=22753, **NEXT), False)])],
    "last_changed": [(SEND, [(AAPL, True)]), (SEND + 10_000_000, [(changed(AAPL, last=22751, **NEXT), False)])],
    "bid_size_changed": [(SEND, [(AAPL, True)]), (SEND + 10_000_000, [(changed(AAPL, bidSize=700, **NEXT), False)])],
    "ask_size_changed": [(SEND, [(AAPL, True)]), (SEND + 10_000_000, [(changed(AAPL, askSize=1000, **NEXT), False)])],
    "last_size_changed": [(SEND, [(AAPL, True)]), (SEND + 10_000_000, [(changed(AAPL, lastSize=137, **NEXT), False)])],
    "time_only": [(SEND, [(AAPL, True)]), (SEND + 10_000_000, [(changed(AAPL, **NEXT), False)])],
    "all_fields": [(SEND, [(AAPL, True)]), (SEND + 10_000_000, [(changed(
        AAPL, bid=22760, ask=22765, last=22765, bidSize=900, askSize=200, lastSize=400, **NEXT), False)])],
    "negative_deltas": [(SEND, [(AAPL, True)]), (SEND + 10_000_000, [(changed(
        AAPL, bid=22740, ask=22741, last=22740, bidSize=100, askSize=100, lastSize=100,
        sequence=1002, eventTimeNs=SEND + 10_000_000 + 250_000), False)])],
    "large_jumps": [(SEND, [(tick(519, (1 << 40) + 5, SEND - 3, 1, 4, 1, 4_294_967_295, 1000, 0, flags=3, count=65_536), True)]),
                    (SEND + 1, [(tick(519, (1 << 40) + 6, 0, (1 << 63) - 1, -(1 << 63), 0, 0, 4_000_000_000, 1,
                                      ), False)])],
    "forex_exponent": [(SEND, [(FX, True)]), (SEND + 8_000_000, [(changed(
        FX, sequence=5013, eventTimeNs=SEND + 7_500_000, bid=10843, ask=10844, last=10844, askSize=200_000), False)])],
    "fold_with_count": [(SEND, [(AAPL, True)]), (SEND + 20_000_000, [(changed(
        AAPL, sequence=1005, flags=2, conflatedCount=3, eventTimeNs=SEND + 19_000_000, bid=22752, ask=22754, last=22754), False)])],
    "throttled_sample": [(SEND, [(changed(AAPL, flags=2, conflatedCount=20), True), (FX, True)]),
                         (SEND + 250_000_000, [(changed(
                             AAPL, sequence=1025, flags=2, conflatedCount=23, eventTimeNs=SEND + 249_100_000,
                             bid=22745, ask=22747, last=22745, bidSize=800), False),
                             (changed(FX, sequence=5040, flags=2, conflatedCount=27, eventTimeNs=SEND + 248_000_000,
                                      bid=10839, ask=10840, last=10839, lastSize=200_000), False)])],
}


def main():
    readme = []
    for name, messages in CASES.items():
        lines, expected = [], []
        refs = {}
        for send, records in messages:
            body = b""
            for t, kf in records:
                body += keyframe(t, send) if kf else delta(t, refs[t["symbolId"]], send)
                refs[t["symbolId"]] = t
            lines.append((HDR.pack(1, 2, len(records), 0, 0, send) + body).hex())
            expected.append(dict(sendTimeNs=send, records=[dict(t, keyframe=kf) for t, kf in records]))
        with open(name + ".hex", "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(name + ".json", "w") as f:
            f.write(json.dumps(expected, indent=1) + "\n")
        readme.append(name)
    with open("cases.txt", "w") as f:
        f.write("\n".join(readme) + "\n")


if __name__ == "__main__":
    main()

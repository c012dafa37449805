#!/usr/bin/env python3
"""Writes tick_batch.hex from an independent (Python `struct`) encoder so the
Swift codec is checked against a second implementation, not against itself.
The ticks here must match `GoldenTicks` in Tests/MarketDataTests."""
import struct

SEND_TIME_NS = 1_717_171_200_123_456_789
# symbolId, flags, exp, seq, eventTimeNs, bid, ask, last, bidSize, askSize, lastSize, conflatedCount
TICKS = [
    (0, 0, -2, 1001, 1_717_171_200_000_001_000, 22749, 22751, 22750, 300, 500, 100, 0),
    (1, 1, -2, 77, 1_717_171_200_000_002_000, 41518, 41521, 41521, 200, 100, 200, 0),
    (142, 2, -4, 5012, 1_717_171_200_050_000_000, 10841, 10842, 10841, 1_000_000, 2_500_000, 100_000, 3),
    (519, 3, -2, (1 << 40) + 5, 1_717_171_200_123_000_000, 1, 4, 1, 4_294_967_295, 1000, 500, 65_536),
]

REC = struct.Struct("<IBbHQQqqqIIII")
HDR = struct.Struct("<BBHHHQ")
assert REC.size == 64 and HDR.size == 16

lines = [HDR.pack(1, 1, len(TICKS), 64, 0, SEND_TIME_NS).hex()]
for t in TICKS:
    sid, flags, exp, seq, ev, bid, ask, last, bs, as_, ls, cc = t
    lines.append(REC.pack(sid, flags, exp, 0, seq, ev, bid, ask, last, bs, as_, ls, cc).hex())
with open("tick_batch.hex", "w") as f:
    f.write("\n".join(lines) + "\n")

#!/usr/bin/env python3
"""Checks the compact wire (issue 22) against a running server with real
WebSocket connections, decoding with Scripts/decode_stream.py (the
independent decoder written from docs/PROTOCOL.md).

    wire_check.py same-stream --url ws://127.0.0.1:PORT/v1/stream --seconds 60
        Three connections on `*` for the same seconds: raw, delta, and delta
        at interval_ms=250. Checks that every (symbol, sequence) both the raw
        and the delta connection received decodes to identical fields; prints
        bytes of WebSocket frames per delivered tick for raw and delta; for
        the throttled one, the most records any symbol got in a second, the
        sequence rule with counts, and record age (receipt - eventTimeNs)
        p50/p99 next to the raw connection's.

    wire_check.py link --encoding delta|raw --url ws://ADDR:PORT/v1/stream --seconds 30
        One connection on `*` (run inside the shaped network namespace by
        Scripts/constrained-link-test.sh): record age p99 and conflation.
        Delta passes when it keeps up (p99 under 250 ms; the script checks
        the server's metrics for conflation of the connection); raw passes
        when the server conflates it (the link is too narrow).

Frames are stored with their receipt time and decoded after the window, so
the decoder's speed never slows the reading. Exit 0 when every check holds.
"""
import argparse
import asyncio
import json
import os
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import decode_stream  # noqa: E402  (the independent decoder)


def frame_overhead(payload_len):
    """Bytes of an unmasked server frame header for a payload of this length (RFC 6455 5.2)."""
    return 2 if payload_len < 126 else 4 if payload_len < 65536 else 10


class Capture:
    def __init__(self, name, query):
        self.name, self.query = name, query
        self.frames = []          # (receipt ns, in the window, bytes)
        self.wire_bytes = 0       # WebSocket frame bytes of binary messages in the window
        self.welcome = None
        self.errors = []

    async def run(self, url, start, stop_at):
        import websockets
        async with websockets.connect(url + "?" + self.query, max_size=2 ** 22, compression=None,
                                      ping_interval=None) as ws:
            while True:
                remaining = stop_at - time.monotonic()
                if remaining <= 0:
                    return
                try:
                    message = await asyncio.wait_for(ws.recv(), timeout=remaining)
                except asyncio.TimeoutError:
                    return
                now = time.time_ns()
                if isinstance(message, str):
                    reply = json.loads(message)
                    if reply.get("type") == "welcome":
                        self.welcome = reply
                    elif reply.get("type") == "error":
                        self.errors.append(reply)
                    continue
                # Every frame is kept (a delta decoder needs the keyframes of
                # the warm-up); only those of the window are measured.
                in_window = time.monotonic() >= start
                if in_window:
                    self.wire_bytes += len(message) + frame_overhead(len(message))
                self.frames.append((now, in_window, message))

    def decode(self):
        """The window's records, in order, with their receipt times."""
        decoder = decode_stream.Decoder()
        out = []
        for received, in_window, frame in self.frames:
            send, records = decoder.decode(frame)
            if not in_window:
                continue
            for t in records:
                out.append(dict(id=t["symbolId"], seq=t["sequence"], exponent=t["priceExponent"],
                                bid=t["bid"], ask=t["ask"], last=t["last"], bid_size=t["bidSize"],
                                ask_size=t["askSize"], last_size=t["lastSize"], time_ns=t["eventTimeNs"],
                                flags=[n for b, n in decode_stream.FLAGS.items() if t["flags"] & b],
                                conflated=t["conflatedCount"], keyframe=t.get("keyframe", False),
                                received_ns=received, send_ns=send))
        return out


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


def ages_ms(records):
    return [(r["received_ns"] - r["time_ns"]) / 1e6 for r in records]


def sequence_violations(records):
    """Records that break the sequence rule with counts (after each symbol's first)."""
    last, bad = {}, []
    for r in records:
        prev = last.get(r["id"])
        snapshot = "snapshot" in r["flags"]
        if prev is not None and not snapshot and r["seq"] != prev + 1 + r["conflated"]:
            bad.append((r["id"], prev, r["seq"], r["conflated"]))
        last[r["id"]] = r["seq"]
    return bad


FIELDS = ("id", "seq", "exponent", "bid", "ask", "last", "bid_size", "ask_size", "last_size",
          "time_ns", "flags", "conflated")


async def capture_all(url, captures, seconds, warmup):
    start = time.monotonic() + warmup
    stop_at = start + seconds
    await asyncio.gather(*(c.run(url, start, stop_at) for c in captures))


def same_stream(args):
    raw, delta, slow = Capture("raw", "symbols=*"), Capture("delta", "symbols=*&encoding=delta"), \
        Capture("delta+250ms", "symbols=*&encoding=delta&interval_ms=250")
    asyncio.run(capture_all(args.url, [raw, delta, slow], args.seconds, args.warmup))
    ok = True
    for c in (raw, delta, slow):
        if c.errors:
            print(f"{c.name}: server errors {c.errors[:3]}")
            ok = False
    encodings = {c.name: (c.welcome or {}).get("encoding") for c in (raw, delta, slow)}
    print(f"welcome encodings: {encodings}")
    if encodings != {"raw": "raw", "delta": "delta", "delta+250ms": "delta"}:
        print("FAIL: the server did not confirm the encodings asked for")
        ok = False
    t0 = time.monotonic()
    raw_records, delta_records, slow_records = raw.decode(), delta.decode(), slow.decode()
    print(f"decoded {len(raw_records)} raw, {len(delta_records)} delta, {len(slow_records)} throttled records "
          f"in {time.monotonic() - t0:.1f} s (Python decoder)")

    # 1. Bytes of WebSocket frames per delivered tick.
    for c, recs in ((raw, raw_records), (delta, delta_records), (slow, slow_records)):
        per = c.wire_bytes / len(recs) if recs else float("nan")
        print(f"{c.name:12} {len(recs) / args.seconds:9.0f} records/s  {c.wire_bytes / args.seconds / 1e3:8.1f} KB/s  "
              f"{per:6.2f} bytes of frames per delivered tick")
    delta_per = delta.wire_bytes / len(delta_records) if delta_records else float("inf")
    if delta_per > args.max_bytes:
        print(f"FAIL: delta {delta_per:.2f} bytes per tick > {args.max_bytes}")
        ok = False

    # 3. Identical records where both received the same (symbol, sequence).
    by_key = {(r["id"], r["seq"]): r for r in raw_records}
    both = mismatched = 0
    examples = []
    for r in delta_records:
        other = by_key.get((r["id"], r["seq"]))
        if other is None:
            continue
        both += 1
        if any(r[f] != other[f] for f in FIELDS):
            mismatched += 1
            if len(examples) < 3:
                examples.append((other, r))
    print(f"raw vs delta: {both} records received by both, {mismatched} differ")
    for a, b in examples:
        print(f"  raw   {dict((f, a[f]) for f in FIELDS)}\n  delta {dict((f, b[f]) for f in FIELDS)}")
    if both == 0 or mismatched:
        ok = False

    # 4. The throttled connection.
    per_second = {}
    for r in slow_records:
        if "snapshot" in r["flags"]:
            continue
        key = (r["id"], r["received_ns"] // 1_000_000_000)
        per_second[key] = per_second.get(key, 0) + 1
    # Whole seconds only: the window's first and last are partial.
    seconds_seen = sorted({k[1] for k in per_second})[1:-1]
    inner = [n for (sid, s), n in per_second.items() if s in seconds_seen]
    most = max(inner) if inner else 0
    symbols = len({r["id"] for r in slow_records})
    rates = {}
    for r in slow_records:
        if "snapshot" not in r["flags"]:
            rates[r["id"]] = rates.get(r["id"], 0) + 1
    highest = max(rates.values()) / args.seconds if rates else 0
    print(f"delta+250ms: {symbols} symbols, highest mean {highest:.2f} records per symbol per second over "
          f"{args.seconds:.0f} s; at most {most} of one symbol in one calendar second")
    if highest > args.max_per_second or not rates:
        print(f"FAIL: a symbol averaged more than {args.max_per_second} records per second")
        ok = False
    for c, recs in ((raw, raw_records), (delta, delta_records), (slow, slow_records)):
        bad = sequence_violations(recs)
        if bad:
            print(f"FAIL: {c.name}: {len(bad)} sequence violations, e.g. {bad[:3]}")
            ok = False
    slow_ages, raw_ages = ages_ms(slow_records), ages_ms(raw_records)
    print(f"record age (receipt - eventTimeNs): throttled p50 {percentile(slow_ages, 0.5):.1f} ms, "
          f"p99 {percentile(slow_ages, 0.99):.1f} ms; raw in the same run p50 {percentile(raw_ages, 0.5):.1f} ms, "
          f"p99 {percentile(raw_ages, 0.99):.1f} ms")
    # The age splits at the message's send time: before it, how old the
    # newest tick was when its interval was sampled (the feed's gaps are
    # exponential, about 10 ms on average, so at 1% of samples the newest
    # tick is over 40 ms old whatever the sampler does); after it, delivery.
    stale = [(r["send_ns"] - r["time_ns"]) / 1e6 for r in slow_records]
    delivery = [(r["received_ns"] - r["send_ns"]) / 1e6 for r in slow_records]
    print(f"  of which: newest tick's age at the sample p99 {percentile(stale, 0.99):.1f} ms, "
          f"delivery (receipt - sendTimeNs) p99 {percentile(delivery, 0.99):.1f} ms")
    if percentile(slow_ages, 0.99) > args.max_age_ms:
        print(f"FAIL: throttled age p99 above {args.max_age_ms} ms")
        ok = False
    if min(slow_ages + raw_ages, default=0) < -1:
        print(f"FAIL: a record arrived before its event time ({min(slow_ages + raw_ages):.2f} ms)")
        ok = False
    print("same-stream: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


def link(args):
    query = "symbols=*" + ("&encoding=delta" if args.encoding == "delta" else "")
    c = Capture(args.encoding, query)
    asyncio.run(capture_all(args.url, [c], args.seconds, args.warmup))
    recs = c.decode()
    ages = ages_ms(recs)
    conflated = [r for r in recs if "conflated" in r["flags"]]
    replaced = sum(r["conflated"] for r in conflated)
    violations = sequence_violations(recs)
    p99 = percentile(ages, 0.99)
    print(f"{c.name:6} {len(recs) / args.seconds:8.0f} records/s {c.wire_bytes / args.seconds / 1e3:8.1f} KB/s  "
          f"age p50 {percentile(ages, 0.5):.1f} ms p99 {p99:.1f} ms  conflated records {len(conflated)} "
          f"(replacing {replaced} updates)  sequence violations {len(violations)}")
    if args.encoding == "delta":
        # Whether the server conflated this connection (the link too narrow)
        # is read from its metrics by constrained-link-test.sh: a loop that
        # falls behind the feed for a moment (the machine stalled) folds for
        # every reader alike, declared the same way on the wire.
        ok = bool(recs) and p99 < args.max_age_ms and not violations
        verdict = "keeps up: age p99 under %.0f ms" % args.max_age_ms
    else:
        ok = bool(recs) and bool(conflated) and not violations
        verdict = "is conflated (declared, the sequence rule holds)"
    print(f"link {args.encoding}: " + ("PASS, " + verdict if ok else "FAIL, expected it " + verdict))
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["same-stream", "link"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--encoding", choices=["raw", "delta"], default="delta")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--max-bytes", type=float, default=14.0)
    parser.add_argument("--max-per-second", type=float, default=4.2)
    parser.add_argument("--max-age-ms", type=float, default=None)
    args = parser.parse_args()
    if args.mode == "same-stream":
        args.max_age_ms = args.max_age_ms or 50.0
        return same_stream(args)
    args.max_age_ms = args.max_age_ms or 250.0
    return link(args)


if __name__ == "__main__":
    sys.exit(main())

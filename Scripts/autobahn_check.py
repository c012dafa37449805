#!/usr/bin/env python3
"""Checks an Autobahn fuzzingclient index.json against the pass criteria:
behavior in {OK, NON-STRICT, INFORMATIONAL} (NON-STRICT only for the cases
whose SHOULD is about fail-fast timing), behaviorClose in {OK, INFORMATIONAL}.
Prints the counts by outcome and every failing case; exits 1 on any failure."""
import collections
import json
import sys

NON_STRICT_ALLOWED = ("3.2", "3.3", "4.1.3", "4.1.4", "4.2.3", "4.2.4", "5.15")


def non_strict_ok(case):
    return case in NON_STRICT_ALLOWED or case.startswith("6.4.")


def main(path):
    with open(path) as f:
        index = json.load(f)
    results = next(iter(index.values()))
    counts = collections.Counter()
    failures = []
    for case, r in sorted(results.items(), key=lambda kv: [int(x) for x in kv[0].split(".")]):
        behavior, close = r["behavior"], r["behaviorClose"]
        counts[behavior] += 1
        ok = behavior in ("OK", "INFORMATIONAL") or (behavior == "NON-STRICT" and non_strict_ok(case))
        ok = ok and close in ("OK", "INFORMATIONAL")
        if not ok:
            failures.append(f"  {case}: behavior={behavior} behaviorClose={close}")
    total = sum(counts.values())
    summary = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    print(f"autobahn: {total} cases: {summary}")
    if failures:
        print("autobahn: failing cases:")
        print("\n".join(failures))
    print(f"autobahn: {total - len(failures)} passed, {len(failures)} failed")
    return 1 if failures or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

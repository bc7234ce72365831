"""Robustness measurement: seeded mutations of valid shape INRs (all four architectures)
through the full reader, counting clean refusals, accepted files that evaluate to finite
values, accepted files that break later, other exceptions, slow reads and peak memory.

    .venv/bin/python scripts/fuzz_inr.py [--n 8000] [--json benchmarks/fuzz-inr.json]

The mutations extend those of tests/store/test_reader_fuzz.py: header values replaced by
values of the wrong type or out of range (one or several at once), random bytes, spliced
bytes. The test runs a few hundred on every CI run; this runs thousands.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "store"))
from test_reader_fuzz import CONFIGS, HOSTILE, POINTS, _inr, _leaves, _replaced, _with_header  # noqa: E402

from inret_engine.store.inr_file import InrFileError, decode_inr, encode_inr  # noqa: E402
from inret_engine.store.shape_inr import ShapeINR, validate_header_and_tensors  # noqa: E402

EXTRA = [10**7, 2**34, -2**63, 1e-30, 3.0, 30.0, 0.5, "sdf", "occ", "hash", [8, 8], [10**6], {"kind": "mlp"}]


def mutate(data: bytes, header: dict, rng: random.Random) -> bytes:
    """One mutant of an encoded INR: 1 or 2-4 header values replaced, bytes overwritten or spliced."""
    kind = rng.randrange(4)
    if kind in (0, 1):
        for _ in range(1 if kind == 0 else rng.randint(2, 4)):
            header = _replaced(header, rng.choice(_leaves(header)), rng.choice(HOSTILE + EXTRA))
        return _with_header(data, header)
    b = bytearray(data)
    if kind == 2:
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    at = rng.randrange(len(b))
    noise = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    return bytes(b[:at] + noise + b[at + rng.randint(0, 64):])


def outcome(data: bytes) -> str:
    """What the reader made of one file (refused / accepted_ok / accepted_broken / other_exception)."""
    try:
        inr = ShapeINR.from_file(decode_inr(data, validate=validate_header_and_tensors))
        values = inr.to_field()(POINTS)
    except InrFileError:
        return "refused"
    except Exception:  # noqa: BLE001 - counting what escapes is the point
        return "other_exception"
    return "accepted_ok" if bool(torch.isfinite(values).all()) else "accepted_broken"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=8000, help="mutations (default 8000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = random.Random(args.seed)
    originals = {arch: _inr(arch) for arch in CONFIGS}
    encoded = {arch: encode_inr(inr.header(), inr.tensors) for arch, inr in originals.items()}
    counts = dict.fromkeys(("refused", "accepted_ok", "accepted_broken", "other_exception"), 0)
    slow, slowest = 0, 0.0
    for i in range(args.n):
        arch = list(CONFIGS)[i % len(CONFIGS)]
        mutant = mutate(encoded[arch], originals[arch].header(), rng)
        start = time.perf_counter()
        counts[outcome(mutant)] += 1
        seconds = time.perf_counter() - start
        slowest, slow = max(slowest, seconds), slow + (seconds > 1.0)
    report = {"mutations": args.n, "seed": args.seed, **counts, "over_1s": slow, "slowest_s": round(slowest, 4),
              "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}
    print(json.dumps(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 1 if counts["accepted_broken"] or counts["other_exception"] else 0


if __name__ == "__main__":
    sys.exit(main())

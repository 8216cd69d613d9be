"""Mutation fuzz run of the HJ 212 codec: `.venv/bin/python benchmarks/hj212_fuzz.py [--iterations N]`.

Half the inputs mutate a frame's data segment and re-frame it with a correct length and CRC, so
that the header and CP parsers are exercised, not only the CRC check.

Seeds: frames built by greenpark's own builder (several commands and editions) plus, when present,
the public packets of shared/research/hj212-vectors.txt. Each iteration mutates a seed (byte flips,
insertions, deletions, truncation, duplication, splicing two seeds), then:

- ``parse`` in strict and lenient mode must return a Frame or raise HJ212Error — nothing else;
- a parsed frame must rebuild (``build``) and parse again with the same fields and CP;
- the stream splitter must take the mutated bytes in random chunks without raising.

Prints the counts and the rate; docs/hj212.md records the last run. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from greenpark.hj212 import FrameSplitter, HJ212Error, build, crc16, parse
from greenpark.hj212.codec import make_frame

VECTORS = Path(__file__).resolve().parents[2] / "shared" / "research" / "hj212-vectors.txt"


def seeds() -> list[bytes]:
    own = [
        build(make_frame(qn="20240501103000123", st="32", cn="2051", pw="123456", mn="88888880000001", flag=5,
                         cp=[("DataTime", "20240501102000"), ("w01018-Avg", "35.2"), ("w01018-Flag", "N"), ("w21003-Avg", "1.82")])),
        build(make_frame(qn="20240501110000534", st="31", cn="2061", pw="123456", mn="010000A8900016F000169DC0", flag=7, pnum=2, pno=1,
                         cp=[("DataTime", "20240501100000"), ("a21026-ZsAvg", "12.3"), ("a21026-Flag", "N")])),
        build(make_frame(st="32", cn="2011", pw="123456", mn="LD130133000015", flag=None,
                         cp=[("DataTime", "20160824003817"), ("011-Rtd", "231.0"), ("011-Flag", "N")])),
        build(make_frame(qn="20260101000000000", st="91", cn="9015", pw="123456", mn="88888880000001", flag=8, cp=[])),
    ]  # fmt: skip
    if VECTORS.exists():
        own += [
            ln.split("\t")[0].strip().encode() + b"\r\n"
            for ln in VECTORS.read_text(encoding="utf-8").splitlines()
            if ln.startswith("##")
        ]
    return own


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        if op == 0 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 1:
            b.insert(
                rng.randrange(len(b) + 1),
                rng.choice(b"#;,=&\r\n*0123456789ABCDEFaf-" + bytes([rng.randrange(256)])),
            )
        elif op == 2 and b:
            del b[rng.randrange(len(b))]
        elif op == 3 and b:
            del b[rng.randrange(len(b)) :]
        elif op == 4 and b:
            i = rng.randrange(len(b))
            b[i:i] = b[i : i + rng.randint(1, 20)]
        else:
            other = rng.choice(pool)
            b = b[: rng.randrange(len(b) + 1)] + bytearray(other[rng.randrange(len(other) + 1) :])
    return bytes(b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iterations", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=212)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    pool = seeds()
    counts = {"parsed_strict": 0, "parsed_lenient": 0, "rejected": 0, "splitter_events": 0}
    t0 = time.perf_counter()
    for it in range(args.iterations):
        seed = rng.choice(pool)
        if it % 2:  # mutate the data segment only, then frame it with a correct length and CRC
            seg = mutate(rng, seed[6:-6], [x[6:-6] for x in pool])
            data = b"##" + f"{len(seg) % 10000:04d}".encode() + seg + f"{crc16(seg):04X}".encode() + b"\r\n"
        else:
            data = mutate(rng, seed, pool)
        for strict in (True, False):
            try:
                f = parse(data, strict=strict)
            except HJ212Error:
                counts["rejected"] += 1
                continue
            counts["parsed_strict" if strict else "parsed_lenient"] += 1
            g = parse(build(f), strict=False)
            assert g.fields == f.fields and g.cp.items == f.cp.items, data
        sp = FrameSplitter()
        i = 0
        while i < len(data):
            n = rng.randint(1, 64)
            counts["splitter_events"] += len(sp.feed(data[i : i + n]))
            i += n
    dt = time.perf_counter() - t0
    print(
        f"{args.iterations:,} mutated inputs from {len(pool)} seeds in {dt:.1f} s ({args.iterations / dt:,.0f}/s); no exception other than HJ212Error"
    )
    for k, v in counts.items():
        print(f"  {k}: {v:,}")


if __name__ == "__main__":
    main()

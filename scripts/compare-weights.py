#!/usr/bin/env python3
"""How far apart two safetensors files' F32/F64 tensors are, relative to the first's size.

Usage: scripts/compare-weights.py A.safetensors B.safetensors [--tolerance T] [--only PREFIX,...]

The criterion: the relative error of all the values as one vector, ||a - b||_2 / ||a||_2, at
most the tolerance (default 1e-4); exits 1 when it is exceeded or the files hold different
tensors. Also printed: how many tensors are bit-identical, and the worst tensor by
max |a - b| / max |a| (a stricter, per-element view: Adam turns rounding-level gradient
differences into steps of about lr on weights whose gradient is near zero, so this one is as
large between one process on 1 and on 2 threads). `--only` keeps the tensors whose names start
with one of the prefixes. Metadata is not compared (scripts/compare-runs.py checks bit-identity
with metadata).

Only the Python standard library (the safetensors reader of scripts/compare-runs.py).
"""
import array
import importlib.util
import math
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("compare_runs", os.path.join(here, "compare-runs.py"))
compare_runs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_runs)


def main():
    args = sys.argv[1:]
    tolerance, only = 1e-4, None
    if "--tolerance" in args:
        i = args.index("--tolerance")
        tolerance = float(args[i + 1])
        del args[i:i + 2]
    if "--only" in args:
        i = args.index("--only")
        only = args[i + 1].split(",")
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    _, a = compare_runs.read_safetensors(args[0])
    _, b = compare_runs.read_safetensors(args[1])
    names = sorted(n for n in a if only is None or any(n.startswith(p) for p in only))
    missing = sorted(set(a) ^ set(b))
    if missing:
        print(f"compare-weights: tensors in only one file: {', '.join(missing[:5])}")
        return 1
    worst, worst_name, identical, values = 0.0, "", 0, 0
    sum_diff2, sum_a2 = 0.0, 0.0
    for name in names:
        dtype, shape, x = a[name]
        _, shape_b, y = b[name]
        if dtype not in ("F32", "F64") or shape != shape_b:
            if x != y:
                print(f"compare-weights: {name} ({dtype}, {shape} vs {shape_b}) differs")
                return 1
            identical += 1
            continue
        fx, fy = array.array("f" if dtype == "F32" else "d", x), array.array("f" if dtype == "F32" else "d", y)
        values += len(fx)
        sum_a2 += sum(v * v for v in fx)
        if x == y:
            identical += 1
            continue
        sum_diff2 += sum((p - q) ** 2 for p, q in zip(fx, fy))
        scale = max(abs(v) for v in fx)
        diff = max(abs(p - q) for p, q in zip(fx, fy))
        relative = diff / scale if scale > 0 else float("inf")
        if relative > worst:
            worst, worst_name = relative, name
    relative = math.sqrt(sum_diff2 / sum_a2) if sum_a2 > 0 else (0.0 if sum_diff2 == 0 else float("inf"))
    verdict = "within" if relative <= tolerance else "EXCEEDS"
    print(f"||a-b||/||a|| = {relative:.3g}: {verdict} {tolerance:g}; {len(names)} tensors ({values} values), {identical} bit-identical"
          + (f"; worst tensor max|a-b|/max|a| = {worst:.3g} ({worst_name})" if worst_name else ""))
    return 0 if relative <= tolerance else 1

if __name__ == "__main__":
    sys.exit(main())

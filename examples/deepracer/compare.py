"""Checks the rewards weir wrote against CPython: for each step in
out/<function>.jsonl, calls the same reward_function on the step's params
and reports the largest difference.

Usage: python3 compare.py OUT_DIR FUNCTION_DIR...
"""

import json
import os
import sys


def compare(out_dir: str, function_dir: str) -> float:
    name = os.path.basename(function_dir.rstrip("/"))
    sys.path.insert(0, function_dir)
    sys.modules.pop("reward_function", None)
    from reward_function import reward_function

    sys.path.pop(0)
    worst, steps = 0.0, 0
    with open(os.path.join(out_dir, name + ".jsonl")) as lines:
        for line in lines:
            out = json.loads(line)
            want = float(reward_function(out["value"]))
            worst = max(worst, abs(out["score"] - want))
            steps += 1
    print(f"{name}: {steps} steps, largest difference from CPython {worst:g}")
    return worst if steps else float("inf")


if __name__ == "__main__":
    out_dir, functions = sys.argv[1], sys.argv[2:]
    worst = max(compare(out_dir, f) for f in functions)
    sys.exit(0 if worst <= 1e-12 else 1)

#!/usr/bin/env python3
"""Summarise `perf script` output under one function.

    perf script -i perf.data | bench/perf-focus.py ROOT [N]

Only samples whose call chain contains ROOT count (ROOT "ALL": every
sample). Prints the N functions with the largest inclusive share (the
sample's chain from the leaf up to ROOT contains them) and the largest self
share (the leaf), both as a percentage of the samples under ROOT. Frames in
libraries without symbols are shown as [library]. Record with
`perf record --call-graph dwarf` so inlined static functions and libraries
built without frame pointers still unwind.
"""
import collections
import re
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    topn = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    incl = collections.Counter()
    self_ = collections.Counter()
    total = 0
    stack = []

    def flush():
        nonlocal total, stack
        if stack:
            if root == "ALL":
                upto = len(stack) - 1
            elif root in stack:
                upto = stack.index(root)
            else:
                upto = -1
            if upto >= 0:
                total += 1
                self_[stack[0]] += 1
                for s in set(stack[: upto + 1]):
                    incl[s] += 1
        stack = []

    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.strip():
            flush()
            continue
        if not line.startswith((" ", "\t")):
            flush()
            continue
        parts = line.strip().split(None, 1)
        if len(parts) != 2:
            continue
        sym = parts[1].rsplit(" (", 1)[0]
        sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
        if sym.startswith("[unknown]") or sym.startswith("0x"):
            m = re.search(r"\(([^)]*)\)$", parts[1])
            sym = "[" + (m.group(1).split("/")[-1] if m else "?") + "]"
        stack.append(sym)
    flush()
    if total == 0:
        sys.exit(f"no samples under {root}")
    print(f"{total} samples under {root}")
    print("inclusive, % of the samples under the root:")
    for s, c in incl.most_common(topn):
        print(f"  {100 * c / total:5.1f}%  {s}")
    print("self, % of the samples under the root:")
    for s, c in self_.most_common(topn):
        print(f"  {100 * c / total:5.1f}%  {s}")


if __name__ == "__main__":
    main()

"""This tree against another checkout, back to back (issue #20): the comparison that holds on a
shared machine.

A case's CPU time, and even its CPU time in bare-loop events (``benchmarks/run.py``'s ``worth``),
moves by a third between days on this machine: the tree #20 was filed on measured 6.7 M
bare-event worth for ``ordered`` on the filing day and 5.9–9.8 M on a later one.  Run one after
the other, two trees see the same machine, so their ratio is the steady figure.  Each round runs
every case once in the other tree, then once in this one, each in a fresh process (``python -c``
with the tree first on ``PYTHONPATH``; the scenarios are this checkout's ``benchmarks/run.py``),
and prints both and the ratio this / other::

    git worktree add /tmp/filing d09229f
    python benchmarks/versus.py --tree /tmp/filing ordered fleet scale:10000 sweep-run
    python benchmarks/versus.py --tree /tmp/filing --rounds 3 sweep-run:100

Cases: ``scale:N`` (default 10 000), ``ordered:N`` (1 000), ``fleet`` (50 × 20), and
``sweep-run:N`` (N quick-start runs of ``benchmarks/quickstart-issue20.yaml`` the way the tree's
sweep worker runs them — ``statefulsim.sweep.running.run_one``, or ``statefulsim.sweep.run_one``
in trees from before the sweep package — the least CPU of 3 batches, per run).  ``worth`` is the
CPU time over the bare SimPy loop's CPU per event, timed in the same process right after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

_LOAD = """
import importlib.util, json, time
spec = importlib.util.spec_from_file_location("bench_run", {run_py!r})
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
"""
#: A simulation case: ``simulate_and_bare`` of one of run.py's scenarios.
_SIM = _LOAD + """
r = bench.simulate_and_bare(bench.{builder}({args}))
print(json.dumps({{"cpu": r["cpu"], "bare_per_event": r["bare"] / r["events"], "events": r["events"]}}))
"""
#: One quick-start run as the tree's sweep worker runs it (CPU per run, least of 3 batches).
_SWEEP = _LOAD + """
try:
    from statefulsim.sweep.running import run_one
except ImportError:  # before the sweep package (issue #19)
    from statefulsim.sweep import run_one
path = bench.QUICKSTART_20
text, file, base = path.read_text(), str(path), str(path.parent)
run_one(text, file, base, 0, None, None)
best = float("inf")
for _ in range(3):
    c0 = time.process_time()
    for seed in range({n}):
        run_one(text, file, base, seed, None, None)
    best = min(best, (time.process_time() - c0) / {n})
bare = bench.bench_bare(200_000) / 200_000
print(json.dumps({{"cpu": best, "bare_per_event": bare, "events": None}}))
"""

_DEFAULTS = {"scale": 10_000, "ordered": 1_000, "fleet": 50, "sweep-run": 200}


def parse_case(text: str) -> tuple[str, int]:
    """``scale:10000`` → ("scale", 10000); the size defaults per case (``fleet`` takes none)."""
    name, _, size = text.partition(":")
    if name not in _DEFAULTS or (size and (name == "fleet" or not size.isdigit() or int(size) <= 0)):
        raise argparse.ArgumentTypeError(
            f"unknown case {text!r} (scale[:N], ordered[:N], fleet, sweep-run[:N])")
    return name, int(size) if size else _DEFAULTS[name]


def program(name: str, size: int) -> str:
    """The child program that measures one case and prints its figures as JSON."""
    run_py = str(HERE / "run.py")
    if name == "sweep-run":
        return _SWEEP.format(run_py=run_py, n=size)
    builder = {"scale": "scale_scenario", "ordered": "ordered_scenario", "fleet": "fleet_scenario"}[name]
    return _SIM.format(run_py=run_py, builder=builder, args="" if name == "fleet" else size)


def measure(code: str, tree: Path | None) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter with ``tree`` (None: the installed statefulsim) first."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # Outside any checkout, so ``python -c`` does not put this one first on the path.
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=tree or "/", check=False)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        raise SystemExit("versus.py: the measured process failed:\n  " + "\n  ".join(tail))
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def row(label: str, r: dict[str, Any], unit: str) -> str:
    scale = 1e3 if unit == "ms" else 1.0
    return f"{label:<22} {r['cpu'] * scale:>10.2f} {unit:<3} {r['cpu'] / r['bare_per_event']:>14,.0f}"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="This tree against another checkout, back to back (issue #20).")
    ap.add_argument("cases", nargs="*", type=parse_case, default=None)
    ap.add_argument("--tree", type=Path, required=True, help="the other checkout (its statefulsim is measured)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of (other, this) per case (default 2)")
    args = ap.parse_args(argv)
    if not (args.tree / "statefulsim").is_dir():
        ap.error(f"--tree {args.tree}: no statefulsim package there")
    if args.rounds < 1:
        ap.error("--rounds: expected at least 1")
    cases = args.cases or [parse_case(c) for c in ("ordered", "fleet", "scale", "sweep-run")]
    print(f"{'case':<22} {'CPU':>14} {'bare-ev worth':>14}  this / other (CPU, worth)")
    for name, size in cases:
        code, unit = program(name, size), "ms" if name == "sweep-run" else "s"
        label = name if name == "fleet" else f"{name}:{size}"
        for k in range(1, args.rounds + 1):
            other, this = measure(code, args.tree.resolve()), measure(code, None)
            print(row(f"{label} #{k} other", other, unit))
            ratio_cpu = this["cpu"] / other["cpu"]
            ratio_worth = (this["cpu"] / this["bare_per_event"]) / (other["cpu"] / other["bare_per_event"])
            print(row(f"{label} #{k} this", this, unit) + f"  {ratio_cpu:.2f}, {ratio_worth:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

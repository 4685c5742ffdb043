"""Instruction counts of the benchmark cases (issue #20): a figure that does not drift with the machine.

CPU time on a shared 2-core machine moves by ±30 % between runs, which hides a 10 % change.  The
number of instructions a process executes does not move: this script runs each case under
Valgrind's ``cachegrind`` tool (``valgrind --tool=cachegrind --cache-sim=no``, about 50 times
slower than a plain run) and prints instructions per unit of work, the same figures for the bare
SimPy loop of ``benchmarks/run.py`` (one process yielding timeouts), and their ratio: the case's
instructions in *bare-loop events' worth*.  Each figure is the difference of two processes, one
doing the work ``n`` times more than the other, so start-up and imports cancel out.

Instruction counts are not CPU time: the simulation's working set is far larger than the bare
loop's, so it runs fewer instructions per cycle, and its CPU worth (``benchmarks/run.py``) is about
twice its instruction worth.  Use these figures to compare two trees, not against the CPU targets::

    python benchmarks/instructions.py                        # sweep-run (20 runs) and the bare loop
    python benchmarks/instructions.py --runs 40 ordered:200
    python benchmarks/instructions.py --tree /path/to/other/checkout   # the same cases, another tree

Cases: ``sweep-run`` (one quick-start run as a sweep worker runs it: ``run_batch`` of
``benchmarks/quickstart-issue20.yaml``, lean observer), ``full-run`` (the same runs through
``statefulsim.run``, the full observer, as before issue #20), ``scale:N`` and ``ordered:N``
(``benchmarks/run.py``'s scenarios, per simulation).  Needs ``valgrind`` on the PATH (Debian:
``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: Timeouts of the bare loop whose instructions are counted (minus a run with none).
BARE_EVENTS = 200_000

#: Loads ``benchmarks/run.py`` as ``bench`` in a child process (its scenarios and sweep batches).
_BENCH = """
import importlib.util
spec = importlib.util.spec_from_file_location("bench_run", {run_py!r})
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
"""
#: What one child process does: ``{n}`` units of a case.  Run with ``python -c``.
_WORK = {
    "bare": """
import simpy
env = simpy.Environment()
def loop():
    for _ in range({n}):
        yield env.timeout(1)
env.process(loop())
env.run()
""",
    "sweep-run": _BENCH + """
from statefulsim.sweep.running import run_batch
if {n}:
    run_batch(bench.sweep_batch({n}))
""",
    "full-run": _BENCH + """
bench.full_runs(bench.sweep_batch({n})) if {n} else None
""",
    "sim": _BENCH + """
from statefulsim.io.scenario import load_scenario_text
from statefulsim.runner import build_cluster
scenario = load_scenario_text(bench.{builder}({size}), allow_large=True)
for _ in range({n}):
    cluster = build_cluster(scenario, scenario.seed)
    cluster.run(scenario.until)
""",
}

_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def count(code: str, tree: Path | None) -> int:
    """Instructions executed by ``python -c code`` under cachegrind (``tree`` first on the path)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-c", code],
        # ``python -c`` puts the working directory first on the path: run where ``tree`` is.
        capture_output=True, text=True, env=env, check=False, cwd=tree or ROOT)
    found = _REFS.search(proc.stderr)
    if proc.returncode != 0 or found is None:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise SystemExit("instructions.py: the measured process failed:\n  " + "\n  ".join(tail))
    return int(found.group(1).replace(",", ""))


def per_unit(kind: str, units: int, tree: Path | None, **fmt: object) -> float:
    """Instructions per unit of ``kind``: (``units`` + 1 units) minus (1 unit), over ``units``."""
    run_py = str(HERE / "run.py")
    low = count(_WORK[kind].format(n=1 if kind != "bare" else 0, run_py=run_py, **fmt), tree)
    high = count(_WORK[kind].format(n=units + (1 if kind != "bare" else 0), run_py=run_py, **fmt), tree)
    return (high - low) / units


def parse_case(text: str) -> tuple[str, int | None]:
    name, _, size = text.partition(":")
    if name in ("sweep-run", "full-run") and not size:
        return name, None
    if name in ("scale", "ordered") and size.isdigit() and int(size) > 0:
        return name, int(size)
    raise argparse.ArgumentTypeError(f"unknown case {text!r} (sweep-run, full-run, scale:N, ordered:N)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", type=parse_case, default=[("sweep-run", None)])
    parser.add_argument("--runs", type=int, default=20, help="units of work counted per case (default 20; sims: 2)")
    parser.add_argument("--tree", type=Path, help="a checkout whose statefulsim to measure (default: the installed one)")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("instructions.py: valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    if args.runs < 1:
        print("instructions.py: --runs must be at least 1", file=sys.stderr)
        return 2
    tree = args.tree.resolve() if args.tree else None
    if tree is not None and not (tree / "statefulsim" / "__init__.py").is_file():
        print(f"instructions.py: {tree} has no statefulsim package", file=sys.stderr)
        return 2
    bare = per_unit("bare", BARE_EVENTS, None)
    print(f"{'case':<16} {'instructions':>14}  {'bare-event worth':>16}")
    print(f"{'bare event':<16} {bare:>14,.0f}  {1:>16,.2f}")
    for name, size in args.cases:
        if size is None:
            ins = per_unit(name, args.runs, tree)
            label = f"{name} (per run)"
        else:
            builder = "scale_scenario" if name == "scale" else "ordered_scenario"
            ins = per_unit("sim", max(1, min(args.runs, 2)), tree, builder=builder, size=size)
            label = f"{name} N={size}"
        print(f"{label:<16} {ins:>14,.0f}  {ins / bare:>16,.0f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

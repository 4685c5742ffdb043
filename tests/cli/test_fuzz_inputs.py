"""Structure-aware fuzzing of every command's inputs: no input crashes, hangs or exhausts memory.

Bundled scenarios (manifests inlined), saved traces and kubectl recordings are mutated the way
hostile or broken files are: keys deleted, values swapped for other types, numbers out of
range, aliases (shared values, an alias bomb), unicode and control characters, wrong event
fields, truncation and bad bytes.  Every mutant goes through the CLI (click's CliRunner) the
way a user runs it: ``validate`` (and, when valid, a bounded run), ``show``, ``critical-path``,
``check`` and now and then ``plot``.  The exit code must be 0, 1 or 2 and the output hold no
traceback: exit 2 with ``error: FILE:LINE: ...`` for bad input.

The suite runs a few examples per input kind (derandomized, a few seconds); a longer run:

    STATEFULSIM_FUZZ_EXAMPLES=5000 python -m pytest -q -p no:cacheprovider tests/cli/test_fuzz_inputs.py

(docs/testing.md, "Fuzzing the inputs").  A long run draws fresh random examples each time.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from statefulsim.cli import cli
from statefulsim.errors import StatefulSimError

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
DATA = ROOT / "tests" / "data"
LONG = int(os.environ.get("STATEFULSIM_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=LONG or 40, deadline=None, database=None, derandomize=not LONG,
                suppress_health_check=list(HealthCheck),
                phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink))  # no slow "explain"
#: Counts per test of the inputs tried and of how they ended, for the long run's report.
TRIED: dict[str, dict[str, int]] = {}


def _count(test: str, outcome: str) -> None:
    TRIED.setdefault(test, {}).setdefault(outcome, 0)
    TRIED[test][outcome] += 1


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    """With ``-s``: how many inputs each test tried and how they ended."""
    yield
    print("\nfuzz inputs tried:", json.dumps(TRIED, sort_keys=True))


# ---------------------------------------------------------------- bases


def _inlined(path: Path) -> Any:
    from statefulsim.io.paths import inline_files

    data = yaml.safe_load(path.read_text())
    if isinstance(data.get("manifests"), list):
        inline_files(data["manifests"], str(path.parent))
    return data


_SCENARIO_BASES = [_inlined(p) for p in SCENARIOS]


def _trace_lines(name: str) -> list[str]:
    from statefulsim.io.scenario import load_scenario
    from statefulsim.io.trace_io import write_jsonl
    from statefulsim.runner import run

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "t.jsonl"
        write_jsonl(run(load_scenario(ROOT / "scenarios" / f"{name}.yaml")).trace, out)
        return out.read_text().splitlines()


_TRACE_BASES = {name: _trace_lines(name) for name in ("quickstart", "drain-with-pdb", "storage-retention",
                                                       "dns-kubeadm")}

# ---------------------------------------------------------------- mutations

_HOSTILE_STRINGS = ["", "never", "inf", "1e99999999", "9Ei", "-1", "1e308", "365d", "100000d", "shuffle:" + "9" * 40,
                    "mysql\x1b[2J", "a\x00b", "web\n-0", "\u202eevil", "ÿ", "Ω≈ç√", "web-0", "OrderedReady", "Parallel",
                    "apps/v1", "StatefulSet", "/dev/zero", "../../etc/passwd", "%s%n", "{{}}", "*", "&a", "1" * 5000]
_HOSTILE_NUMBERS = [-1, 0, 1, 3, 2**31 - 1, 2**31, 2**63, 10**30, 10**400, -(2**63) - 1, 0.5, -0.0, 1e308,
                    float("inf"), float("-inf"), float("nan")]


def _bomb(depth: int = 9) -> Any:
    value: Any = ["lol"] * 9
    for _ in range(depth):
        value = [value] * 9  # shared lists: dumped as anchors and aliases
    return value


def _deep(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


#: Values for JSON inputs (JSON has no aliases: a shared bomb would be written out in full).
json_values = st.one_of(
    st.none(), st.booleans(), st.sampled_from(_HOSTILE_NUMBERS), st.integers(), st.floats(),
    st.sampled_from(_HOSTILE_STRINGS), st.text(max_size=12),
    st.lists(st.one_of(st.integers(), st.text(max_size=4)), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
    st.sampled_from([120, 3000]).map(_deep),
)
#: Values for YAML inputs: also an alias bomb.
yaml_values = st.one_of(json_values, st.just("bomb").map(lambda _: _bomb()))


def _places(root: Any) -> list[tuple[Any, ...]]:
    """The key paths in ``root`` (mappings and lists), each value visited once (a bomb or a
    deep list inserted by an earlier mutation is not walked into)."""
    out: list[tuple[Any, ...]] = []
    seen: set[int] = set()
    stack: list[tuple[Any, tuple[Any, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        out.append(path)
        if id(node) in seen or len(path) > 20:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            stack.extend((value, path + (key,)) for key, value in node.items())
        elif isinstance(node, list) and len(node) < 50:
            stack.extend((value, path + (i,)) for i, value in enumerate(node))
    return sorted(out, key=repr)


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def mutate(data: st.DataObject, base: Any, label: str = "mutation", values: st.SearchStrategy[Any] = json_values) -> Any:
    """``base`` deep-copied with 1-4 structure-aware mutations drawn from ``data``."""
    try:
        doc = copy.deepcopy(base)
    except RecursionError:  # an earlier mutation nested a value thousands deep
        doc = copy.copy(base)
    for _ in range(data.draw(st.integers(1, 4), label=f"{label} count")):
        places = [p for p in _places(doc) if p]
        if not places:
            break
        path = data.draw(st.sampled_from(places), label=f"{label} at")
        parent, key = _get(doc, path[:-1]), path[-1]
        op = data.draw(st.sampled_from(["delete", "replace", "replace", "replace", "duplicate", "unknown key",
                                        "wrap", "share"]), label=f"{label} op")
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = data.draw(values, label=f"{label} value")
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, parent[key])  # the same value twice (an alias in YAML)
        elif op == "unknown key" and isinstance(parent[key], dict):
            parent[key][data.draw(st.sampled_from(["replicas", "spec", "x\x1b", "untill", "kind", ""]))] = \
                data.draw(values, label=f"{label} value")
        elif op == "wrap":
            parent[key] = [parent[key]]
        elif op == "share":
            other = data.draw(st.sampled_from(places), label=f"{label} shared")
            try:
                parent[key] = _get(doc, other)  # an alias in the YAML, maybe a recursive one
            except (KeyError, IndexError, TypeError):
                pass
    return doc


def _text_mutation(data: st.DataObject, text: bytes) -> bytes:
    op = data.draw(st.sampled_from(["none", "none", "none", "truncate", "bad bytes", "tab", "twice", "empty",
                                    "nest"]), label="text op")
    at = data.draw(st.integers(0, max(0, len(text) - 1)), label="text at")
    if op == "truncate":
        return text[:at]
    if op == "bad bytes":
        return text[:at] + data.draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\x1b[2J", b"\xed\xa0\x80"])) + \
            text[at:]
    if op == "tab":
        return text[:at] + b"\t" + text[at:]
    if op == "twice":
        return text + b"\n---\n" + text
    if op == "empty":
        return b""
    if op == "nest":  # deeper than any parser's recursion limit
        depth = data.draw(st.sampled_from([70, 150, 1000, 5000]), label="nesting")
        return text[:at] + b"[" * depth + b"]" * depth + text[at:]
    return text


# ---------------------------------------------------------------- running


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)


def assert_handled(result: Result, allowed: tuple[int, ...], what: str) -> None:
    """The command ended with one of ``allowed`` exit codes, with no traceback."""
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        raise AssertionError(f"{what} crashed: {type(exc).__name__}: {exc}") from exc
    assert result.exit_code in allowed, (what, result.exit_code, result.output[-2000:])
    assert "Traceback" not in result.output, result.output[-2000:]
    if result.exit_code == 2:
        assert "error:" in result.output or "Usage:" in result.output, result.output[-2000:]


class _Budget(Exception):
    pass


def _bounded_run(path: Path) -> None:
    """Load and run a valid mutant for at most ~100 000 simulation steps and 120 simulated seconds:
    what matters is that nothing in the run crashes, not how long it would take."""
    from statefulsim.io.scenario import load_scenario
    from statefulsim.runner import run

    scenario = load_scenario(path)
    calls = [0]

    def budget(now: float, until: float) -> None:
        calls[0] += 1
        if calls[0] > 25:
            raise _Budget

    try:
        run(scenario, until=min(scenario.until, 120.0), progress=budget)
    except (_Budget, StatefulSimError):
        pass


def _dump(doc: Any) -> bytes:
    try:
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode("utf-8", "surrogatepass")
    except (ValueError, RecursionError, yaml.YAMLError):  # 10**400 is printable; 5000-digit ints are not
        return yaml.safe_dump({"unprintable": True}).encode()


@FUZZ
@given(data=st.data(), base=st.sampled_from(range(len(_SCENARIO_BASES))))
def test_mutated_scenarios_are_refused_cleanly(data: st.DataObject, base: int) -> None:
    doc = mutate(data, _SCENARIO_BASES[base], "scenario", yaml_values)
    text = _text_mutation(data, _dump(doc))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mutant.yaml"
        path.write_bytes(text)
        result = invoke("validate", path)
        assert_handled(result, (0, 2), f"validate of a mutant of {SCENARIOS[base].name}")
        _count("scenarios", "valid" if result.exit_code == 0 else "refused")
        if result.exit_code == 0:
            _bounded_run(path)


def _mutated_trace(data: st.DataObject, lines: list[str]) -> bytes:
    records = [json.loads(line) for line in lines]
    for _ in range(data.draw(st.integers(1, 3), label="records mutated")):
        i = data.draw(st.integers(0, len(records) - 1), label="record")
        op = data.draw(st.sampled_from(["fields", "fields", "event", "t", "drop", "duplicate"]), label="record op")
        if op == "fields":
            records[i] = mutate(data, records[i], "record")
        elif op == "event":
            records[i]["event"] = data.draw(st.sampled_from(
                ["PodReady", "PodCreated", "StatefulSetStatus", "Action", "KubeEvent", "DNSAnswer", "ControllerWaiting",
                 "PodDeleted", "NodeNotReady", "TraceEnd", "TraceStart", "Unknown", ""]), label="event")
        elif op == "t":
            records[i]["t"] = data.draw(st.sampled_from(_HOSTILE_NUMBERS + ["1s", None, True]), label="t")
        elif op == "drop":
            del records[i]
            if not records:
                break
        else:
            records.insert(i, dict(records[i]))
    out = []
    for r in records:
        try:
            out.append(json.dumps(r, ensure_ascii=False))
        except (ValueError, TypeError, RecursionError):
            out.append('{"t": 0, "event": "Unprintable"}')
    return _text_mutation(data, ("\n".join(out) + "\n").encode("utf-8", "surrogatepass"))


@FUZZ
@given(data=st.data(), base=st.sampled_from(sorted(_TRACE_BASES)),
       command=st.sampled_from(["show", "show", "critical-path", "check", "check", "plot"]))
def test_mutated_traces_are_refused_cleanly(data: st.DataObject, base: str, command: str) -> None:
    text = _mutated_trace(data, _TRACE_BASES[base])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mutant.jsonl"
        path.write_bytes(text)
        if command == "plot":
            result = invoke("plot", path, "-o", Path(tmp) / "mutant.svg")
        elif command == "check":
            result = invoke("check", "--format", "jsonl", path)
        else:
            result = invoke(command, path)
        assert_handled(result, (0, 1, 2), f"{command} of a mutant of the {base} trace")
        _count("traces", f"{command} exit {result.exit_code}")


def _recording(name: str) -> tuple[str, Callable[[st.DataObject], bytes]]:
    text = (DATA / name).read_text()
    if name.endswith(".txt"):
        lines = text.splitlines()

        def text_mutant(data: st.DataObject) -> bytes:
            out = list(lines)
            for _ in range(data.draw(st.integers(1, 3), label="lines mutated")):
                i = data.draw(st.integers(0, len(out) - 1), label="line")
                tokens = out[i].split()
                if tokens:
                    j = data.draw(st.integers(0, len(tokens) - 1), label="token")
                    tokens[j] = data.draw(st.sampled_from(_HOSTILE_STRINGS + ["NAME", "(5s", "ago)", "1/0", "2y",
                                                                              "Terminating", "0/1", "10", "-1"]))
                    out[i] = "   ".join(tokens)
                if data.draw(st.booleans(), label="drop a line"):
                    del out[i]
                    if not out:
                        break
            return _text_mutation(data, ("\n".join(out) + "\n").encode("utf-8", "surrogatepass"))

        return name, text_mutant
    from statefulsim.io.importers import _json_objects

    docs = [value for _, value in _json_objects(text, name)]

    def json_mutant(data: st.DataObject) -> bytes:
        out = [mutate(data, d, "object") if data.draw(st.booleans(), label="mutate object") else d for d in docs]
        try:
            body = "\n".join(json.dumps(d, indent=1, ensure_ascii=False) for d in out)
        except (ValueError, TypeError, RecursionError):
            body = "{}"
        return _text_mutation(data, body.encode("utf-8", "surrogatepass"))

    return name, json_mutant


_RECORDINGS = [_recording(n) for n in ("pods-scaleup.txt", "pods-violation.txt", "pods-scaleup.json",
                                      "pods-watch-events.json", "events.json")]


@FUZZ
@given(data=st.data(), which=st.sampled_from(range(len(_RECORDINGS))),
       fmt=st.sampled_from(["auto", "auto", "auto", "pods-text", "pods-json", "events-json"]))
def test_mutated_kubectl_recordings_are_refused_cleanly(data: st.DataObject, which: int, fmt: str) -> None:
    name, mutant = _RECORDINGS[which]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(mutant(data))
        result = invoke("check", "--format", fmt, path)
        assert_handled(result, (0, 1, 2), f"check --format {fmt} of a mutant of {name}")
        _count("recordings", f"exit {result.exit_code}")


@pytest.mark.parametrize("args", [
    ("run", "--until", "1e400"), ("run", "--until", "-5s"), ("run", "--seed", "-1"), ("run", "--seed", "1" * 5000),
    ("run", "--quorum", "0", "--plot", "x.png"), ("run", "--plot", "x.bmp"), ("run", "--trace", ""),
    ("run", "--trace", "/nonexistent/dir/t.jsonl"), ("sweep", "--runs", "0"), ("sweep", "--set", "nope"),
    ("sweep", "--set", "until=" + "9" * 5000), ("sweep", "--set", "manifests[zzz].spec.replicas=1"),
    ("sweep", "--workers", "0"), ("sweep", "--batch", "-1"), ("sweep", "--executor", "nope"),
    ("sweep", "--state", "/dev/zero"), ("explore", "--max-runs", "0"), ("explore", "--out", "/dev/null/x"),
])
def test_bad_flags_exit_2_without_a_traceback(args: tuple[str, ...], tmp_path: Path) -> None:
    command, *rest = args
    quickstart = ROOT / "scenarios" / "quickstart.yaml"
    result = CliRunner().invoke(cli, [command, str(quickstart), "-q", *rest], catch_exceptions=True)
    assert_handled(result, (0, 1, 2) if command == "explore" else (2,), " ".join(args))

"""The scenario verbs declared by their fields (``statefulsim.sim.actions.Verb``): parsing,
problems and the ``Action`` record's fields."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from statefulsim.errors import ScenarioError
from statefulsim.io.scenario import load_scenario
from statefulsim.problems import Problems, get_int
from statefulsim.sim.actions import ACTIONS, Verb, arg, namespace_field, register_action

ROOT = pathlib.Path(__file__).resolve().parents[2]
MYSQL = ROOT / "scenarios" / "manifests" / "mysql.yaml"


def parse(verb: str, m: dict[str, Any], at: float = 0.0) -> tuple[Any, list[tuple[str, str]]]:
    problems = Problems()
    action = ACTIONS.get(verb).parse(at, m, ("actions", 0, verb), problems)
    return action, [(".".join(map(str, p.path[2:])), p.message) for p in problems.items]


def test_unknown_key_suggests_the_camel_case_key() -> None:
    _, out = parse("deletePod", {"pod": "web-0", "grace_period_seconds": 0})
    assert out == [("deletePod.grace_period_seconds",
                    'unknown key (did you mean "gracePeriodSeconds"?); allowed keys: force, gracePeriodSeconds, '
                    "namespace, pod")]
    _, out = parse("scale", {"statefulset": "web", "replica": 3})
    assert out[0] == ("scale.replica", 'unknown key (did you mean "replicas"?); allowed keys: namespace, replicas, '
                      "statefulset")


def test_wrong_types_missing_keys_and_choices() -> None:
    action, out = parse("scale", {"statefulset": 3, "replicas": "three"})
    assert out == [("scale.statefulset", "expected a string, found an integer 3"),
                   ("scale.replicas", "expected an integer, found a string 'three'")]
    assert (action.statefulset, action.replicas, action.namespace) == ("", 0, "default")
    _, out = parse("scale", {"statefulset": "web", "replicas": -1})
    assert out == [("scale.replicas", "expected an integer >= 0, found -1")]
    _, out = parse("setImage", {"statefulset": "web"})
    assert out == [("setImage.container", "required key is missing"), ("setImage.image", "required key is missing")]
    action, out = parse("deleteStatefulSet", {"statefulset": "web", "cascade": "Orphan"})
    assert out == [("deleteStatefulSet.cascade",
                    "expected one of background, foreground, orphan, found 'Orphan' (did you mean \"orphan\"?)")]
    assert action.cascade == "background"
    _, out = parse("drainNode", {"node": "n1", "force": "yes"})
    assert out == [("drainNode.force", "expected true or false, found a string 'yes'")]


def test_problems_keep_their_order() -> None:
    _, out = parse("patch", {"patch": 3})
    assert out == [("patch.patch", "expected a mapping (a strategic merge patch of the whole object, as kubectl "
                                   "patch -p takes it), found an integer 3"),
                   ("patch.statefulset", "required key is missing")]
    _, out = parse("crashContainer", {"container": 3})
    assert out == [("crashContainer.container", "expected a string, found an integer 3"),
                   ("crashContainer.pod", "required key is missing")]
    _, out = parse("deletePod", {"gracePeriodSeconds": 30, "force": True})
    assert out == [("deletePod.force", "force deletion needs gracePeriodSeconds 0 (or none)"),
                   ("deletePod.pod", "required key is missing")]
    _, out = parse("dnsQuery", {"type": "MX", "until": "10s", "clientCache": {"positiveTtl": 1}}, at=20.0)
    assert [key for key, _ in out] == ["dnsQuery.type", "dnsQuery.until", "dnsQuery.every",
                                       "dnsQuery.clientCache.positiveTtl", "dnsQuery.name"]


def test_trace_fields_in_declared_order() -> None:
    def fields(verb: str, m: dict[str, Any]) -> dict[str, Any]:
        action, out = parse(verb, m)
        assert out == []
        return dict(action.fields())

    assert list(fields("scale", {"replicas": 2, "namespace": "x", "statefulset": "web"}).items()) == [
        ("statefulset", "web"), ("replicas", 2)]
    assert fields("deletePod", {"pod": "web-0"}) == {"pod": "web-0"}
    assert list(fields("deletePod", {"force": True, "pod": "web-0"}).items()) == [
        ("pod", "web-0"), ("gracePeriodSeconds", 0.0), ("force", True)]
    assert fields("evictPod", {"pod": "web-0", "gracePeriodSeconds": 0}) == {"pod": "web-0", "gracePeriodSeconds": 0.0}
    assert fields("crashContainer", {"pod": "web-0", "container": "", "exitCode": 137}) == {"pod": "web-0",
                                                                                             "container": None}
    assert list(fields("dnsQuery", {"name": "web", "type": "SRV", "from": "web-0", "every": "5s"}).items()) == [
        ("name", "web"), ("qtype", "SRV"), ("from", "web-0"), ("every", 5.0)]
    patch = {"spec": {"replicas": 3}}
    traced = fields("patch", {"statefulset": "web", "patch": patch})["patch"]
    assert traced == patch and traced is not patch


@dataclass(frozen=True)
class _Restart(Verb):
    """A verb a user adds: declared by its fields alone."""

    pod: str
    max_restarts: int = field(default=3, metadata=arg(get_int, minimum=1))
    mode: str = field(default="soft", metadata=arg(choices=("soft", "hard"), trace="if_set"))
    namespace: str = namespace_field()
    verb: ClassVar[str] = "testRestart"


def test_a_registered_verb_declared_by_its_fields() -> None:
    register_action(_Restart)
    try:
        assert _Restart.allowed_keys() == ("pod", "maxRestarts", "mode", "namespace")
        action, out = parse("testRestart", {"pod": "web-0", "maxRestarts": 5})
        assert out == [] and action == _Restart(0.0, "web-0", 5)
        assert action.fields() == {"pod": "web-0", "maxRestarts": 5}
        action, out = parse("testRestart", {"maxRestart": 0, "mode": "hard"})
        assert out[0][0] == "testRestart.maxRestart" and 'did you mean "maxRestarts"' in out[0][1]
        assert out[1] == ("testRestart.pod", "required key is missing")
        assert action.fields() == {"pod": "", "maxRestarts": 3, "mode": "hard"}
    finally:
        ACTIONS.unregister("testRestart")


def test_a_field_that_is_not_a_string_needs_an_arg() -> None:
    @dataclass(frozen=True)
    class Bad(Verb):
        count: int
        verb: ClassVar[str] = "bad"

    with pytest.raises(TypeError, match=r"Bad.count: say how to read it"):
        Bad.parse(0.0, {"count": 1}, ("bad",), Problems())


def test_problems_carry_file_and_line(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(f"""\
apiVersion: statefulsim/v1
kind: Scenario
metadata: {{name: t}}
until: 5m
manifests:
  - file: {MYSQL}
actions:
  - at: 1m
    deleteStatefulSet:
      statefulset: mysql
      cascde: orphan
""")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(f)
    assert f'{f}:11: actions[0].deleteStatefulSet.cascde: unknown key (did you mean "cascade"?); allowed keys: ' \
           'cascade, namespace, statefulset' in [str(p) for p in exc.value.problems]

"""Hostile inputs from the reliability audit (issue #13): each exits 2 with a located error."""

from __future__ import annotations

import textwrap
from pathlib import Path

from click.testing import CliRunner, Result

from statefulsim.cli import cli

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "scenarios" / "manifests" / "web.yaml"


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def scenario(tmp_path: Path, body: str = "", *, head: str = "") -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent("""\
        apiVersion: statefulsim/v1
        kind: Scenario
        metadata: {name: hostile}
        """) + textwrap.dedent(head) + f"manifests:\n  - file: {WEB}\n" + textwrap.dedent(body))
    return path


def bad_input(result: Result, *needles: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, result.output
    return result.output


# ---------------------------------------------------------------- YAML


def _bomb(indent: str) -> str:
    lines = [f"{indent}x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 9):
        lines.append(f"{indent}x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_in_a_patch_annotation_is_refused_quickly(tmp_path: Path) -> None:
    body = ("actions:\n  - at: 10s\n    patch:\n      statefulset: web\n      patch:\n        spec:\n          template:\n"
            "            metadata:\n              annotations:\n" + _bomb("                "))
    f = scenario(tmp_path, body)
    bad_input(invoke("validate", f), f"{f}:", "aliases expand the document by more than 100000 values")


def test_recursive_alias_in_a_patch_is_refused(tmp_path: Path) -> None:
    f = scenario(tmp_path, "actions:\n  - {at: 1s, patch: {statefulset: web, patch: &p {spec: {template: {x: *p}}}}}\n")
    bad_input(invoke("validate", f), "recursive alias")


def test_an_integer_of_5000_digits(tmp_path: Path) -> None:
    f = scenario(tmp_path, head="seed: " + "1" * 5000 + "\n")
    bad_input(invoke("validate", f), f"{f}:4: an integer of more than 4300 digits cannot be read")


def test_two_documents_point_at_the_second(tmp_path: Path) -> None:
    f = scenario(tmp_path)
    text = f.read_text()
    f.write_text(text + "---\n" + text)
    line = text.count("\n") + 2
    bad_input(invoke("validate", f), f"{f}:{line}: expected one Scenario document, found 2")


# ---------------------------------------------------------------- sizes


def _with_web(tmp_path: Path, replicas: int, *, cluster: str = "", body: str = "", head: str = "") -> Path:
    """A scenario with web.yaml's set inline (so its replicas can be changed)."""
    text = WEB.read_text().replace("  replicas: 1\n", f"  replicas: {replicas}\n")
    manifest = tmp_path / "web.yaml"
    manifest.write_text(text)
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent("""\
        apiVersion: statefulsim/v1
        kind: Scenario
        metadata: {name: sizes}
        """) + head + (f"cluster:\n{cluster}" if cluster else "") + f"manifests:\n  - file: {manifest}\n" + body)
    return path


def test_web_manifest_has_three_replicas() -> None:
    assert WEB.read_text().count("  replicas: 1\n") == 1  # the helper above relies on it


def test_replicas_beyond_the_limit_are_refused_in_the_manifest_file(tmp_path: Path) -> None:
    f = _with_web(tmp_path, 1_000_000_000)
    line = WEB.read_text().splitlines().index("  replicas: 1") + 1
    bad_input(invoke("validate", f), f"{tmp_path / 'web.yaml'}:{line}: spec.replicas: 1000000000 replicas in all",
              "more than the limit of 10000 (cluster.limits.replicas); raise it with cluster.limits.replicas or "
              "--allow-large")
    assert invoke("validate", "--allow-large", f).exit_code == 0


def test_int32_and_int64_ranges_are_the_api_servers(tmp_path: Path) -> None:
    out = bad_input(invoke("validate", "--allow-large", _with_web(tmp_path, 2**31)),
                    "spec.replicas: expected an integer <= 2147483647 (an int32, as the API server stores it)")
    assert "limit" not in out
    f = _with_web(tmp_path, 3, body="actions:\n  - {at: 1s, scale: {statefulset: web, replicas: 9223372036854775808}}\n")
    bad_input(invoke("validate", f), "actions[0].scale.replicas: expected an integer <= 2147483647")
    f = _with_web(tmp_path, 3, head="seed: 9223372036854775808\n")
    bad_input(invoke("validate", f), "seed: expected an integer <= 9223372036854775807 (an int64)")


def test_a_scale_or_patch_past_the_total_is_refused_at_the_action(tmp_path: Path) -> None:
    for verb, body in (("scale", "{statefulset: web, replicas: 20000}"),
                       ("patch", "{statefulset: web, patch: {spec: {replicas: 20000}}}")):
        f = _with_web(tmp_path, 3, body=f"actions:\n  - {{at: 1s, {verb}: {body}}}\n")
        bad_input(invoke("validate", f), f"{f}:7: actions[0].{verb}.", "20000 replicas in all")


def test_cluster_limits_raise_a_limit_knowingly(tmp_path: Path) -> None:
    f = _with_web(tmp_path, 3, cluster="  limits: {replicas: 2}\n")
    bad_input(invoke("validate", f), "3 replicas in all", "more than the limit of 2 (cluster.limits.replicas)")
    assert invoke("validate", _with_web(tmp_path, 12_000, cluster="  limits: {replicas: 12000}\n")).exit_code == 0
    bad_input(invoke("validate", _with_web(tmp_path, 3, cluster="  limits: {replica: 5, until: -1}\n")),
              'cluster.limits.replica: unknown key (did you mean "replicas"?)', "cluster.limits.until")
    # every command that loads a scenario takes --allow-large
    small = _with_web(tmp_path, 3, cluster="  limits: {replicas: 2}\n", head="until: 90s\n")
    for args in (("run", "-q"), ("sweep", "--runs", "1", "--workers", "1", "-q")):
        bad_input(invoke(*args, small), "cluster.limits.replicas")
        assert invoke(*args, "--allow-large", small).exit_code in (0, 1)
    bad_input(invoke("explore", "-q", small), "cluster.limits.replicas")


def test_nodes_workers_dns_replicas_and_until(tmp_path: Path) -> None:
    cases = {
        "  nodes: 1000000000\n": "cluster.nodes: 1000000000 nodes is more than the limit of 5000 (cluster.limits.nodes)",
        "  controller: {workers: 1000000000}\n": "cluster.controller.workers: 1000000000 workers is more than the "
                                                 "limit of 1000 (cluster.limits.controllerWorkers)",
        "  dns: {replicas: 1000000000}\n": "cluster.dns.replicas: 1000000000 CoreDNS replicas is more than the limit "
                                           "of 1000 (cluster.limits.dnsReplicas)",
    }
    for cluster, needle in cases.items():
        bad_input(invoke("validate", _with_web(tmp_path, 3, cluster=cluster)), needle)
    for until in ("365d", "1e308", "100000d"):
        f = _with_web(tmp_path, 3, head=f"until: {until}\n")
        bad_input(invoke("validate", f), f"{f}:4: until: a run of")
    bad_input(invoke("validate", "--allow-large", _with_web(tmp_path, 3, head="until: 1e308\n")),
              "more than simulated time goes (1e+12s")
    bad_input(invoke("run", "-q", _with_web(tmp_path, 3), "--until", "100000d"),
              "error: --until: a run of 100000d is more than the limit of 7d (cluster.limits.until)")


def test_dns_query_count(tmp_path: Path) -> None:
    f = _with_web(tmp_path, 3, head="until: 1h\n",
                  body="actions:\n  - {at: 1s, dnsQuery: {name: web-0.web, every: 1ms}}\n")
    bad_input(invoke("validate", f), f"{f}:8: actions[0].dnsQuery: 359900", " DNS lookups in all is more than the limit of "
                                     "100000 (cluster.limits.dnsQueries)")


def test_quantities_and_durations_out_of_range(tmp_path: Path) -> None:
    text = WEB.read_text()
    assert "        image: registry" in text
    for value, needle in (('"1e99999999"', "at most 2^63-1 (the largest quantity Kubernetes represents)"),
                          ('"9Ei"', "at most 2^63-1")):
        manifest = tmp_path / "web.yaml"
        manifest.write_text(
            text.replace(
                "        image: registry", f"        resources: {{requests: {{cpu: {value}}}}}\n        image: registry", 1
            )
        )
        f = tmp_path / "q.yaml"
        f.write_text(f"apiVersion: statefulsim/v1\nkind: Scenario\nmetadata: {{name: q}}\nmanifests:\n  - file: {manifest}\n")
        bad_input(invoke("validate", f), "resources.requests.cpu", needle)
    for timing, needle in (("appReady: 1e400", "too large"), ("appReady: " + "9" * 400, "too large")):
        bad_input(invoke("validate", _with_web(tmp_path, 3, body=f"timing:\n  {timing}\n")), "timing.appReady", needle)


def test_a_long_run_shows_progress_on_a_terminal_only(capsys: object, tmp_path: Path) -> None:
    from statefulsim.cli.output import Progress

    ticks = iter([1.0, 5.0, 5.1, 9.0])
    progress = Progress()
    progress._clock, progress._start = (lambda: next(ticks)), 0.0
    progress(60.0, 600.0)  # 1 s of wall time: nothing yet
    progress(300.0, 600.0)  # 5 s: a line
    progress(310.0, 600.0)  # 0.1 s later: not again
    progress(540.0, 600.0)
    progress.done()
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    line = "simulated 00:09:00.000 of 00:10:00.000 (90%), 9s so far"
    assert err == ("\rsimulated 00:05:00.000 of 00:10:00.000 (50%), 5s so far"
                   "\r" + line + "\r" + " " * len(line) + "\r")
    result = invoke("run", _with_web(tmp_path, 3, head="until: 90s\n"))  # not a terminal: no progress
    assert result.exit_code == 0 and "simulated" not in result.output


# ---------------------------------------------------------------- scenario errors


def test_an_action_without_at_after_another_action(tmp_path: Path) -> None:
    f = scenario(tmp_path, "actions:\n  - {at: 10s, scale: {statefulset: web, replicas: 2}}\n"
                           "  - {scale: {statefulset: web, replicas: 1}}\n")
    bad_input(invoke("validate", f), f"{f}:8: actions[1].at: required key is missing")


def test_degenerate_delay_parameters(tmp_path: Path) -> None:
    for model, needle in (("{exponential: {mean: never}}", "timing.appReady.exponential: mean must be a finite"),
                          ("{uniform: {low: 1s, high: never}}", "high must be a finite duration"),
                          ("{lognormal: {median: 1s, p99: inf}}", "p99 must be a finite duration")):
        f = scenario(tmp_path, f"timing:\n  appReady: {model}\n")
        bad_input(invoke("validate", f), needle)


def test_a_lognormal_far_tail_is_a_long_delay_not_an_overflow() -> None:
    import random

    from statefulsim.sim.delays import LogNormal

    model = LogNormal(0.001, 1e300)  # sigma ~ 300: a draw beyond 2.4 sigma overflowed math.exp
    rng = random.Random(1)
    draws = [model.sample(rng) for _ in range(3000)]
    assert any(d == float("inf") for d in draws) and all(d >= 0 for d in draws)


def test_a_tie_break_of_5000_digits(tmp_path: Path) -> None:
    f = scenario(tmp_path, head="cluster:\n  tieBreak: shuffle:" + "9" * 5000 + "\n")
    bad_input(invoke("validate", f), "cluster.tieBreak: expected shuffle:N with N of at most 18 digits, found one "
                                     "of 5000 digits")


def _named(tmp_path: Path, manifest: str) -> Path:
    path = scenario(tmp_path)
    path.write_text(path.read_text() + "  - " + manifest + "\n")
    return path


def test_names_are_validated_as_the_api_server_does(tmp_path: Path) -> None:
    cases = {
        '{apiVersion: v1, kind: ConfigMap, metadata: {name: "mysql\\e[2J"}}': "'mysql\\x1b[2J': a DNS-1123 subdomain",
        '{apiVersion: v1, kind: ConfigMap, metadata: {name: "my\\0sql"}}': "'my\\x00sql'",
        '{apiVersion: v1, kind: ConfigMap, metadata: {name: "my\\nsql"}}': "'my\\nsql'",
        "{apiVersion: v1, kind: ConfigMap, metadata: {name: MySQL}}": "'MySQL': a DNS-1123 subdomain",
        "{apiVersion: v1, kind: Service, metadata: {name: 1web}, spec: {selector: {app: x}}}": "a DNS-1035 label",
        "{apiVersion: v1, kind: ConfigMap, metadata: {name: ok, namespace: my.ns}}": "metadata.namespace: invalid "
                                                                                     "name 'my.ns': a DNS-1123 label",
        '{apiVersion: x/v1, kind: Widget, metadata: {name: "a/b"}}': "cannot be '.' or '..' nor contain '/'",
    }
    for manifest, needle in cases.items():
        out = bad_input(invoke("validate", _named(tmp_path, manifest)), "manifests[1].metadata", needle)
        assert "\x1b" not in out and "\x00" not in out
    ok = "{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: 'system:aggregate-to-admin'}}"
    assert invoke("validate", _named(tmp_path, ok)).exit_code == 0


def test_container_names_and_long_set_names(tmp_path: Path) -> None:
    text = WEB.read_text()
    manifest = tmp_path / "web.yaml"
    manifest.write_text(text.replace("      - name: nginx", "      - name: Nginx_1"))
    f = tmp_path / "s.yaml"
    f.write_text(f"apiVersion: statefulsim/v1\nkind: Scenario\nmetadata: {{name: c}}\nmanifests:\n  - file: {manifest}\n")
    bad_input(invoke("validate", f), "spec.template.spec.containers[0].name: invalid name 'Nginx_1': a DNS-1123 label")
    long = "w" * 62
    manifest.write_text(text.replace("  name: web\n", f"  name: {long}\n").replace("  replicas: 1\n", "  replicas: 2\n"))
    result = invoke("validate", f)
    assert result.exit_code == 0, result.output
    assert f"pod {long}-1 has a name of 64 characters: the API server refuses pods" in result.output


def test_control_characters_are_never_printed_raw(tmp_path: Path) -> None:
    f = scenario(tmp_path, head='"\\e]0;pwned\\a\\e[2J": 1\n')
    out = bad_input(invoke("validate", f), "\\x1b]0;pwned\\x07\\x1b[2J: unknown key")
    assert "\x1b" not in out and "\x07" not in out
    trace = tmp_path / "t.jsonl"
    trace.write_text('{"t":0,"event":"Action","action":"deletePod","pod":"web-0\\u001b[2J\\u202e"}\n'
                     '{"t":1,"event":"ActionFailed","action":"deletePod","error":"pods \\"web-0\\u001b[2J\\" not found"}\n')
    shown = invoke("show", trace)
    assert shown.exit_code == 0, shown.output
    assert "\x1b" not in shown.output and "\u202e" not in shown.output
    assert "web-0\\x1b[2J" in shown.output


# ---------------------------------------------------------------- traces and recordings


def test_show_plot_critical_path_and_check_agree_on_an_empty_trace(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    for command in ("show", "plot", "critical-path"):
        bad_input(invoke(command, empty), f"error: {empty}: the trace is empty: it has no records")
    bad_input(invoke("check", "--format", "jsonl", empty), f"{empty}: the trace is empty")
    bad_input(invoke("check", empty), f"{empty}:1: the file is empty")


def test_kubectl_recordings_with_fields_of_the_wrong_type(tmp_path: Path) -> None:
    import json

    data = ROOT / "tests" / "data"
    events = json.loads((data / "events.json").read_text())
    events["items"][0]["involvedObject"] = "statefulset/web"
    f = tmp_path / "events.json"
    f.write_text(json.dumps(events, indent=1))
    bad_input(invoke("check", f), f"{f}:1: involvedObject: expected an object or null, found a string "
                                  '"statefulset/web"')
    pods = (data / "pods-watch-events.json").read_text().replace('"name": "web-0"', '"name": ["web-0"]', 1)
    f = tmp_path / "pods.json"
    f.write_text(pods)
    bad_input(invoke("check", f), "metadata.name: expected a string, found a list")
    pods = (data / "pods-watch-events.json").read_text().replace('"restartCount": 0', '"restartCount": "0"', 1)
    f.write_text(pods)
    bad_input(invoke("check", f), "status.containerStatuses[0].restartCount: expected an integer or null, found a "
                                  'string "0"')


def test_plot_of_a_trace_that_gives_one_uid_two_pod_names(tmp_path: Path) -> None:
    # found by tests/cli/test_fuzz_inputs.py: plots keyed pod lives by uid alone and then looked the
    # row up by the record's pod name (KeyError)
    trace = tmp_path / "t.jsonl"
    trace.write_text(
        '{"t":0,"event":"StatefulSetCreated","statefulset":"web","replicas":1,"podManagementPolicy":"Parallel"}\n'
        '{"t":1,"event":"PodCreated","pod":"web-0","uid":"u","ordinal":0,"statefulset":"web","revision":null}\n'
        '{"t":2,"event":"PodCreated","pod":"PodCreated","uid":"u","ordinal":0,"statefulset":"web","revision":null}\n'
        '{"t":3,"event":"PodReady","pod":"web-0","uid":"u"}\n')
    result = invoke("plot", trace, "-o", tmp_path / "t.svg")
    assert result.exit_code == 0, result.output

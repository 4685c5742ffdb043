"""``statefulsim calibrate`` (docs/calibrate.md): the round trip from a simulated run, exported as
kubectl would show it, back to the timing it ran with; and the errors for unusable recordings."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from statefulsim.calibrate import Observations, Sample, estimate, fit_sample
from statefulsim.calibrate.estimate import ALL
from statefulsim.cli import cli
from statefulsim.errors import TraceFormatError
from statefulsim.io.kubectl_export import (
    events_json,
    go_duration,
    pods_snapshot_json,
    pods_watch_json,
    pods_watch_text,
    volumes_snapshot_json,
)
from statefulsim.io.scenario import load_scenario, load_scenario_text
from statefulsim.io.snapshots import RecordingError, parse_go_duration, read_recordings
from statefulsim.present.calibrate_report import Calibration, calibrate
from statefulsim.runner import run
from statefulsim.sim.delays import _Z99, LogNormal

PULL = (8.0, 30.0)  # imagePull lognormal median, p99 (seconds)
READY = (12.0, 40.0)  # appReady lognormal median, p99
REPLICAS, SEEDS = 8, 10

SCENARIO = f"""
apiVersion: statefulsim/v1
kind: Scenario
metadata: {{name: roundtrip}}
until: 5m
cluster: {{nodes: {REPLICAS}}}
manifests:
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {{name: web}}
    spec:
      replicas: {REPLICAS}
      podManagementPolicy: Parallel
      serviceName: web
      selector: {{matchLabels: {{app: web}}}}
      template:
        metadata: {{labels: {{app: web}}}}
        spec:
          containers:
          - name: app
            image: registry.example/app:1
            readinessProbe: {{httpGet: {{path: /, port: 80}}, periodSeconds: 1}}
timing:
  imagePull: {{lognormal: {{median: {PULL[0]:g}s, p99: {PULL[1]:g}s}}}}
  appReady: {{lognormal: {{median: {READY[0]:g}s, p99: {READY[1]:g}s}}}}
"""


@pytest.fixture(scope="module")
def runs() -> list:
    scenario = load_scenario_text(SCENARIO)
    return [run(scenario, seed=seed) for seed in range(SEEDS)]


def _fits(result: Calibration) -> dict:
    return {(f.sample.key, f.sample.scope): f for f in result.fits}


def _check_lognormal(fit, median: float, p99: float, resolution: float) -> None:
    """Recovered within sampling error: the MLE of mu = ln(median) has standard error sigma/sqrt(n),
    that of mu + z99*sigma (ln p99) sigma*sqrt((1 + z99^2/2)/n).  We allow 3 standard errors, plus
    the recording's resolution relative to the median (timestamps to the second shift a sample by
    up to the resolution; that bias is not sampling error)."""
    n = len(fit.sample.values)
    sigma = math.log(p99 / median) / _Z99
    assert fit.chosen.model == "lognormal", [c.model for c in fit.candidates]
    got = dict(fit.chosen.params)
    slack = resolution / median
    assert abs(math.log(got["median"] / median)) <= 3 * sigma / math.sqrt(n) + slack, (got, n)
    assert abs(math.log(got["p99"] / p99)) <= 3 * sigma * math.sqrt((1 + _Z99 ** 2 / 2) / n) + slack, (got, n)
    # Kolmogorov-Smirnov 5% critical value 1.36/sqrt(n) (conservative with fitted parameters).
    assert fit.chosen.ks < 1.36 / math.sqrt(n)


def test_round_trip_from_kubectl_json(runs) -> None:
    texts = []
    for i, r in enumerate(runs):
        texts += [(f"pods-{i}.json", pods_watch_json(r.trace, r.scenario)), (f"events-{i}.json", events_json(r.trace))]
    result = calibrate(read_recordings(texts), [f for f, _ in texts])
    fits = _fits(result)
    pull = fits[("imagePull", ("image", "registry.example/app:1"))]
    ready = fits[("appReady", ("statefulset", "web"))]
    pulls = sum(len(r.trace.of("ImagePulled")) for r in runs)
    assert len(pull.sample.values) == pulls >= 3 * SEEDS  # one pull per node that runs a pod
    assert len(ready.sample.values) == REPLICAS * SEEDS
    # Pulled events print the duration truncated to the millisecond: read at the middle, ±0.5 ms
    assert (pull.sample.resolution, pull.sample.censoring) == (0.0005, "interval")
    _check_lognormal(pull, *PULL, resolution=0.0)
    _check_lognormal(ready, *READY, resolution=ready.sample.resolution)
    assert "imagePull" not in result.missing
    assert "provisioning" in result.missing  # no claims in the recording: said, not guessed


PROVISIONING = (4.0, 20.0)  # provisioning lognormal median, p99
ATTACH = (6.0, 25.0)  # volumeAttach lognormal median, p99

VOLUME_SCENARIO = f"""
apiVersion: statefulsim/v1
kind: Scenario
metadata: {{name: roundtrip-volumes}}
until: 5m
cluster: {{nodes: {REPLICAS}}}
manifests:
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata: {{name: gp3}}
    provisioner: ebs.csi.aws.com
    volumeBindingMode: WaitForFirstConsumer
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {{name: db}}
    spec:
      replicas: {REPLICAS}
      podManagementPolicy: Parallel
      serviceName: db
      selector: {{matchLabels: {{app: db}}}}
      template:
        metadata: {{labels: {{app: db}}}}
        spec:
          containers:
          - name: db
            image: registry.example/db:1
      volumeClaimTemplates:
      - metadata: {{name: data}}
        spec:
          storageClassName: gp3
          accessModes: [ReadWriteOnce]
          resources: {{requests: {{storage: 1Gi}}}}
timing:
  provisioning: {{lognormal: {{median: {PROVISIONING[0]:g}s, p99: {PROVISIONING[1]:g}s}}}}
  volumeAttach: {{lognormal: {{median: {ATTACH[0]:g}s, p99: {ATTACH[1]:g}s}}}}
"""


def test_round_trip_of_volume_provisioning_and_attach_from_events() -> None:
    """provisioning (ProvisioningSucceeded - Provisioning on the claim) and volumeAttach
    (SuccessfulAttachVolume - Scheduled on the pod) from `kubectl get events -o json` alone, written
    at the top of the timing section, where the simulator reads them for every class."""
    scenario = load_scenario_text(VOLUME_SCENARIO)
    texts = []
    for seed in range(SEEDS):
        r = run(scenario, seed=seed)
        texts.append((f"events-{seed}.json", events_json(r.trace, scenario=r.scenario)))
    result = calibrate(read_recordings(texts), [f for f, _ in texts])
    fits = _fits(result)
    provisioning, attach = fits[("provisioning", ALL)], fits[("volumeAttach", ALL)]
    assert len(provisioning.sample.values) == len(attach.sample.values) == REPLICAS * SEEDS
    assert provisioning.sample.resolution == 1.0  # two stamps to the second
    assert attach.sample.resolution == pytest.approx(0.5, abs=1e-5)  # one to the second, the scheduler's to the microsecond
    _check_lognormal(provisioning, *PROVISIONING, resolution=provisioning.sample.resolution)
    # the attach/detach reconciler's 100 ms grid and the watch add a little to every attach
    _check_lognormal(attach, *ATTACH, resolution=attach.sample.resolution + 0.3)
    assert "provisioning" not in result.missing and "volumeAttach" not in result.missing
    section = yaml.safe_load(result.yaml)["timing"]
    assert section["provisioning"]["lognormal"] and section["volumeAttach"]["lognormal"]
    timed = load_scenario_text(VOLUME_SCENARIO.split("timing:")[0] + "timing:\n"
                               + result.yaml.split("timing:\n", 1)[1])
    assert isinstance(timed.timing.for_volume("provisioning", storage_class="gp3", provisioner="ebs.csi.aws.com"),
                      LogNormal)


def test_round_trip_of_provisioning_from_pvc_pv_snapshots() -> None:
    """`kubectl get pvc,pv -o json`: a provisioned volume's creationTimestamp minus its claim's, per
    StorageClass (an override `match: {storageClass: gp3}`)."""
    scenario = load_scenario_text(VOLUME_SCENARIO)
    texts = [(f"volumes-{seed}.json", volumes_snapshot_json(r.trace, r.scenario, at=120.0))
             for seed in range(SEEDS) for r in [run(scenario, seed=seed)]]
    assert json.loads(texts[0][1])["items"][0]["kind"] == "PersistentVolumeClaim"
    result = calibrate(read_recordings(texts), [f for f, _ in texts])
    fit = _fits(result)[("provisioning", ("storageClass", "gp3"))]
    assert len(fit.sample.values) == REPLICAS * SEEDS and fit.sample.censoring == "difference"
    # the claim is created a few ms before the scheduler picks the pod's node (WaitForFirstConsumer)
    _check_lognormal(fit, *PROVISIONING, resolution=fit.sample.resolution)
    section = yaml.safe_load(result.yaml)["timing"]
    assert section["overrides"][0]["match"] == {"storageClass": "gp3"}
    assert any("WaitForFirstConsumer" in n for n in result.notes)


def test_snapshot_json_and_yaml_give_the_watch_stream_samples(runs) -> None:
    r = runs[0]
    at = max(x.t for x in r.trace.of("PodReady")) + 1  # every pod Ready: `kubectl get pods -o json` then
    snapshot = pods_snapshot_json(r.trace, r.scenario, at)
    as_yaml = yaml.safe_dump(json.loads(snapshot))
    samples = [sorted(estimate(read_recordings([(name, text)]))[0][0].values)
               for name, text in (("w.json", pods_watch_json(r.trace, r.scenario)), ("s.json", snapshot),
                                  ("s.yaml", as_yaml))]
    assert samples[0] == samples[1] == samples[2] and len(samples[0]) == REPLICAS


def test_round_trip_from_get_pods_w_text(runs) -> None:
    """Text has AGE only: appReady (Running row to Ready row) within the AGE resolution, nothing
    about pulls or containers, and the probe's period is unknown (not subtracted)."""
    texts = [(f"pods-{i}.txt", pods_watch_text(r.trace, r.scenario)) for i, r in enumerate(runs)]
    result = calibrate(read_recordings(texts), [f for f, _ in texts])
    ready = _fits(result)[("appReady", ("statefulset", "web"))]
    assert ready.sample.resolution == 1.0 and ready.sample.censoring == "difference"  # fitted as censored
    # the unsubtracted probe phase (U(0, 1 s)) is within one more resolution step
    _check_lognormal(ready, *READY, resolution=2 * ready.sample.resolution)
    assert "no Pulled events" in result.missing["imagePull"]
    assert "AGE column only" in result.missing["containerStart"]
    assert any("AGE column only" in n for n in result.notes)


def test_cli_writes_timing_a_scenario_includes(runs, tmp_path: Path) -> None:
    r = runs[0]
    (tmp_path / "pods.json").write_text(pods_watch_json(r.trace, r.scenario))
    (tmp_path / "events.json").write_text(events_json(r.trace))
    out = tmp_path / "timing.yaml"
    res = CliRunner().invoke(cli, ["calibrate", str(tmp_path / "pods.json"), str(tmp_path / "events.json"),
                                   "-o", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert "# imagePull of image registry.example/app:1:" in text and "KS distance" in text
    section = yaml.safe_load(text)["timing"]
    assert [o["match"] for o in section["overrides"]] == [{"image": "registry.example/app:1"},
                                                        {"statefulset": "web"}]
    scn = tmp_path / "s.yaml"
    scn.write_text(SCENARIO.split("timing:")[0] + "timing: {file: timing.yaml}\n")
    loaded = load_scenario(scn)
    fitted = [o for o in loaded.timing.overrides if "imagePull" in o.models][0].models["imagePull"]
    assert isinstance(fitted, LogNormal)
    assert run(loaded).trace.of("PodReady")
    res = CliRunner().invoke(cli, ["calibrate", str(tmp_path / "pods.json")])  # no -o: the section on stdout
    assert res.exit_code == 0 and "timing:\n  overrides:\n" in res.output


def test_missing_timing_include_is_a_scenario_error(tmp_path: Path) -> None:
    scn = tmp_path / "s.yaml"
    head = SCENARIO.split("timing:")[0]
    scn.write_text(head + "timing: {file: nope.yaml}\n")
    res = CliRunner().invoke(cli, ["validate", str(scn)])
    assert res.exit_code == 2
    assert f"{scn}:{len(head.splitlines()) + 1}: timing.file: cannot use nope.yaml:" in res.output


@pytest.mark.parametrize("name, text, message", [
    ("a.txt", "hello world\n", "a.txt:1: expected `kubectl get pods -w` text, pod JSON or YAML, or event JSON"),
    ("e.json", "", "e.json:1: expected a kubectl recording, found an empty file"),
    ("t.jsonl", '{"t": 0, "event": "PodCreated"}\n', "t.jsonl:1: expected a kubectl recording (calibrate learns "
                                                      "from a real cluster), found a statefulsim trace"),
    ("d.json", '{"kind": "Deployment"}', "d.json:1: kind: expected Pod, Event, PersistentVolumeClaim, "
                                         "PersistentVolume or a List of them"),
    ("v.json", '{"kind": "List", "items": [{"kind": "PersistentVolume", "metadata": {"name": "pv-1",\n'
               '"creationTimestamp": "soon"}, "spec": {"claimRef": {"name": "c"}}}]}',
     "v.json:1: items[0].metadata.creationTimestamp is not an RFC 3339 timestamp"),
    ("w.json", '{"kind": "PersistentVolumeClaim", "metadata": {"name": "c"}, "spec": {"storageClassName": 3}}',
     "w.json:1: spec.storageClassName: expected"),
    ("ev2.json", '{"kind": "List", "items": [{"kind": "Event", "reason": "Scheduled", "eventTime": "later"}]}',
     "ev2.json:1: items[0].eventTime is not an RFC 3339 timestamp"),
    ("p.json", '{"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "web-0"},\n "status": '
               '{"conditions": [{"type": "Ready", "lastTransitionTime": 5}]}}]}',
     "p.json:1: items[0].status.conditions[0].lastTransitionTime: expected"),
    ("q.json", '{"kind": "Pod", "metadata": {"name": "web-0", "creationTimestamp": "yesterday"}}',
     "q.json:1: metadata.creationTimestamp is not an RFC 3339 timestamp"),
    ("n.json", '{"kind": "Pod", "metadata": {}}', "n.json:1: metadata.name: expected the pod's name, found nothing"),
    ("ev.json", '{"kind": "List", "items": [{"kind": "Event", "reason": "Pulled", "message": '
                '"Successfully pulled image \\"a\\" in 8.2 seconds"}]}',
     "ev.json:1: items[0].message: expected a pull duration such as 'in 8.207s', found '8.2'"),
    ("y.yaml", "kind: List\nitems:\n- kind: Pod\n  metadata: {name: web-0}\n- kind: Service\n  metadata: {name: s}\n",
     "y.yaml:1: kind: expected Pod or a List of Pods, found 'a List of Pod, Service'"),
])
def test_unusable_recordings(name: str, text: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(TraceFormatError) as e:
        read_recordings([(name, text)])
    assert str(e.value).startswith(message), str(e.value)
    path = tmp_path / name
    path.write_text(text)
    res = CliRunner().invoke(cli, ["calibrate", str(path)])
    assert res.exit_code == 2 and res.output.startswith("error: "), res.output


def test_recording_error_fields() -> None:
    with pytest.raises(RecordingError) as e:
        read_recordings([("n.json", '{"kind": "Pod", "metadata": {}}')])
    assert (e.value.file, e.value.line, e.value.path) == ("n.json", 1, "metadata.name")


def test_go_durations() -> None:
    for s in (0.000512, 0.5123, 8.207325613, 62.5, 3725.0):
        text = go_duration(s)
        assert parse_go_duration(text)[0] == pytest.approx(s, rel=1e-9), text
    assert go_duration(62.5) == "1m2.5s" and go_duration(8.2) == "8.2s"
    assert parse_go_duration("8.2s") == (8.2, pytest.approx(0.1))
    with pytest.raises(ValueError):
        parse_go_duration("8.2 s")


def test_fit_choices() -> None:
    assert fit_sample([5.0, 5.4, 5.2], resolution=1.0)[0].model == "constant"
    assert fit_sample([5.0, 5.4, 5.2], resolution=0.1)[0].model != "constant"
    with pytest.raises(ValueError, match="at least 3 samples"):
        fit_sample([1.0, 2.0])
    xs = [1 + 0.1 * i for i in range(101)]  # evenly spread over [1, 11]: uniform wins
    best = fit_sample(xs)[0]
    assert best.model == "uniform" and dict(best.params) == {"low": 1.0, "high": pytest.approx(11.0)}


def test_samples_below_resolution_are_reported_not_fitted() -> None:
    from statefulsim.calibrate import ContainerTimes, PodTimes

    pods = [PodTimes(f"web-{i}", f"u{i}", "web", "p.json", 1.0, created=0.0, ready=11.0,
                     containers=(ContainerTimes("init", "i:1", True, 1.0, 2.0, 0), ContainerTimes("app", "a:1", False, 3.0)))
            for i in range(3)]
    samples, missing = estimate(Observations(pods=pods))
    assert [(s.key, s.values) for s in samples] == [("appReady", [8.0, 8.0, 8.0])]
    assert "below the recording's resolution" in missing["containerStart (image a:1)"]
    assert isinstance(samples[0], Sample)


RECORDINGS = Path(__file__).resolve().parents[2] / "scenarios" / "recordings"
BUNDLED = [("quickstart", 1042), ("canary-partition", 1023)]


@pytest.mark.parametrize("name, seed", BUNDLED)
def test_bundled_recordings_are_the_simulators_and_compare_accepts_them(name: str, seed: int) -> None:
    scenario_path = RECORDINGS.parent / f"{name}.yaml"
    r = run(load_scenario(scenario_path), seed=seed)
    base = RECORDINGS / f"{name}-seed{seed}"
    exported = {"-pods.json": pods_watch_json(r.trace, r.scenario), "-events.json": events_json(r.trace, scenario=r.scenario),
                "-pods.txt": pods_watch_text(r.trace, r.scenario)}
    for suffix, text in exported.items():
        path = base.parent / (base.name + suffix)
        if os.environ.get("STATEFULSIM_REGEN_GOLDEN") == "1":  # with the golden traces (tests/project/test_golden_traces.py)
            path.write_text(text)
        assert path.read_text() == text, f"{path.name} is not this scenario's run; see tests/project/test_golden_traces.py"
    res = CliRunner().invoke(cli, ["compare", str(base) + "-pods.json", "--scenario", str(scenario_path),
                                   "--runs", "20"])
    assert res.exit_code == 0, res.output
    assert "consistent:" in res.output and "NOT consistent" not in res.output


def test_compare_finds_a_miscalibrated_scenario(tmp_path: Path) -> None:
    slow = tmp_path / "slow.yaml"
    text = (RECORDINGS.parent / "quickstart.yaml").read_text().replace("manifests/", str(RECORDINGS.parent) + "/manifests/")
    slow.write_text(text.replace("appReady: {uniform: {low: 8s, high: 15s}}", "appReady: {uniform: {low: 40s, high: 60s}}"))
    assert "40s" in slow.read_text()
    png = tmp_path / "compare.png"
    res = CliRunner().invoke(cli, ["compare", str(RECORDINGS / "quickstart-seed1042-pods.json"), "--scenario",
                                   str(slow), "--runs", "10", "--plot", str(png)])
    assert res.exit_code == 1, res.output
    assert "NOT consistent" in res.output and "percentile" in res.output
    assert png.read_bytes().startswith(b"\x89PNG")


def test_compare_rows_and_orderings() -> None:
    from statefulsim.calibrate.compare import compare

    observed = {("web-0", "ready"): 10.0, ("web-1", "ready"): 20.0}
    runs = [{("web-0", "ready"): 9.0 + i, ("web-1", "ready"): 19.0 + i} for i in range(5)]
    runs.append({("web-0", "ready"): 30.0, ("web-1", "ready"): 25.0})  # the other order once
    result = compare(observed, runs)
    assert [(r.pod, r.p50, r.runs) for r in result.rows] == [("web-0", 11.5, 6), ("web-1", 21.5, 6)]
    assert [r.percentile for r in result.rows] == [pytest.approx(100 / 3)] * 2
    assert [(o.first, o.then, o.runs, o.of) for o in result.orderings] == [(("web-0", "ready"), ("web-1", "ready"),
                                                                            5, 6)]
    assert result.ok
    assert not compare({("web-9", "ready"): 1.0}, runs).ok  # never simulated


def test_censored_fit_recovers_what_whole_seconds_hide() -> None:
    """Durations of median 2 s recorded as differences of two stamps truncated to the second (as
    `kubectl get pods -o json` or events show them): many are 0 or 1.  Fitted as exact values the
    zeros rule out the lognormal; fitted as interval-censored observations it comes back."""
    import random

    rng = random.Random(7)
    truth = LogNormal(2.0, 6.0)
    values = []
    for _ in range(400):
        t0 = rng.uniform(0, 1000)
        values.append(float(math.floor(t0 + truth.sample(rng)) - math.floor(t0)))
    assert values.count(0.0) > 0
    exact = fit_sample(values, resolution=0.0)
    assert "lognormal" not in [f.model for f in exact]
    censored = fit_sample(values, resolution=1.0, censoring="difference")
    best = censored[0]
    assert best.model == "lognormal", [(f.model, f.aic) for f in censored]
    got = dict(best.params)
    sigma = math.log(6.0 / 2.0) / _Z99
    assert abs(math.log(got["median"] / 2.0)) <= 3 * sigma / math.sqrt(len(values))
    assert abs(math.log(got["p99"] / 6.0)) <= 3 * sigma * math.sqrt((1 + _Z99 ** 2 / 2) / len(values))
    assert best.ks < 1.36 / math.sqrt(len(values))


def test_a_plugin_delay_model_with_a_fitter_is_a_candidate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A delay model registered by a plug-in gets a fitter the same way (FITTERS, a Registry), and
    `calibrate --plugin MODULE` makes it a candidate."""
    import random
    import sys

    from statefulsim.calibrate.fit import FITTERS, register_fitter
    from statefulsim.sim.delays import DELAY_MODELS, Shifted

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "plugins"))
    rng = random.Random(3)
    items = [{"kind": "Event", "reason": "Pulled", "involvedObject": {"kind": "Pod", "name": f"web-{i}"},
              "message": f'Successfully pulled image "a:1" in {go_duration(round(10.0 + rng.expovariate(0.5), 3))} '
                         "(1s including waiting)"} for i in range(300)]
    events = tmp_path / "events.json"
    events.write_text(json.dumps({"kind": "List", "items": items}))
    try:
        res = CliRunner().invoke(cli, ["calibrate", str(events), "--plugin", "calibrate_fitter_plugin"])
        assert res.exit_code == 0, res.output
        assert "imagePull: {shiftedExponential: {offset: 10" in res.output
        assert "(constant, uniform, exponential, lognormal, shiftedExponential)" in res.output
        best = fit_sample([float(v) for v in [10.0 + rng.expovariate(0.5) for _ in range(300)]])[0]
        assert best.model == "shiftedExponential" and isinstance(best.delay(), Shifted)
        assert dict(best.params)["offset"] == pytest.approx(10.0, abs=0.05)
        with pytest.raises(ValueError, match="already registered"):
            register_fitter("shiftedExponential", FITTERS.get("shiftedExponential"))
    finally:
        FITTERS.unregister("shiftedExponential")
        DELAY_MODELS.unregister("shiftedExponential")
        sys.modules.pop("calibrate_fitter_plugin", None)
    assert "shiftedExponential" not in FITTERS
    assert "shiftedExponential" not in CliRunner().invoke(cli, ["calibrate", str(events)]).output


def test_every_built_in_delay_model_has_a_fitter() -> None:
    from statefulsim.calibrate.fit import FITTERS
    from statefulsim.sim.delays import DELAY_MODELS

    assert sorted(FITTERS.names()) == sorted(DELAY_MODELS.names())

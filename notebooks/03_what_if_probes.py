# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # What if: readiness probe settings vs rollout time
#
# A rolling update under `OrderedReady` replaces one pod at a time and waits for each new pod to be
# Ready before it moves on, so the readiness probe sits on the critical path three times over for a
# 3-replica set. The kubelet runs the first probe `initialDelaySeconds` after the container starts,
# then every `periodSeconds`; the pod turns Ready at the first success after the app is up. So a
# longer initial delay adds to every pod, and a longer period adds on average about half a period
# per pod.
#
# This notebook varies both over a small grid, runs each point over a few seeds, and measures the
# rollout time: from the `setImage` action until all 3 pods run the new revision and are Ready.
# (A plain loop over `statefulsim.run`; `statefulsim sweep` does the same at scale, with
# percentiles and confidence intervals.)

# %%
import copy
import itertools
from pathlib import Path

import yaml
from matplotlib.figure import Figure

import statefulsim

ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "scenarios").is_dir())
MANIFESTS = list(yaml.safe_load_all((ROOT / "scenarios/manifests/web.yaml").read_text()))
UPDATE_AT = 60.0

PERIODS = [1, 5, 10]           # readinessProbe.periodSeconds
DELAYS = [0, 10]               # readinessProbe.initialDelaySeconds
SEEDS = [1, 2, 3, 4]


def scenario_for(period: int, delay: int, seed: int) -> statefulsim.Scenario:
    manifests = copy.deepcopy(MANIFESTS)
    for m in manifests:
        if m["kind"] == "StatefulSet":
            probe = m["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
            probe["periodSeconds"] = period
            probe["initialDelaySeconds"] = delay
    return statefulsim.notebook.scenario_from_data({
        "apiVersion": "statefulsim/v1",
        "kind": "Scenario",
        "metadata": {"name": f"probe-p{period}-d{delay}"},
        "seed": seed,
        "until": "6m",
        "cluster": {"nodes": 3},
        "manifests": manifests,
        "actions": [
            {"at": "1s", "scale": {"statefulset": "web", "replicas": 3}},
            {"at": f"{UPDATE_AT:g}s",
             "setImage": {"statefulset": "web", "container": "nginx", "image": "registry.k8s.io/nginx-slim:0.26"}},
        ],
    })


def rollout_time(result: statefulsim.RunResult) -> float | None:
    """Seconds from the image change until every replica is updated and Ready (None: not done)."""
    first_revision = None
    for r in result.records():
        if r["event"] != "StatefulSetStatus":
            continue
        first_revision = first_revision or r.get("updateRevision")
        if (r["t"] >= UPDATE_AT and r.get("updateRevision") != first_revision
                and r.get("updatedReplicas") == 3 and r.get("readyReplicas") == 3):
            return r["t"] - UPDATE_AT
    return None

# %% [markdown]
# ## The grid

# %%
runs = []
for period, delay, seed in itertools.product(PERIODS, DELAYS, SEEDS):
    result = statefulsim.run(scenario_for(period, delay, seed))
    runs.append({"periodSeconds": period, "initialDelaySeconds": delay, "seed": seed,
                 "rollout_s": rollout_time(result), "ok": not statefulsim.check_invariants(result.trace)})
assert all(r["rollout_s"] is not None and r["ok"] for r in runs)
print(f"{len(runs)} runs")

# %%
summary = []
for period, delay in itertools.product(PERIODS, DELAYS):
    xs = sorted(r["rollout_s"] for r in runs if (r["periodSeconds"], r["initialDelaySeconds"]) == (period, delay))
    summary.append({"periodSeconds": period, "initialDelaySeconds": delay, "runs": len(xs),
                    "min_s": round(xs[0], 1), "mean_s": round(sum(xs) / len(xs), 1), "max_s": round(xs[-1], 1)})
try:
    import pandas as pd
    table = pd.DataFrame(summary)
except ImportError:
    table = summary
table

# %% [markdown]
# ## The plot
#
# Mean rollout time against `periodSeconds`, one line per `initialDelaySeconds`, with the range over
# the seeds as error bars.

# %%
fig = Figure(figsize=(7, 4), layout="constrained")
ax = fig.subplots()
for delay in DELAYS:
    rows = [s for s in summary if s["initialDelaySeconds"] == delay]
    means = [s["mean_s"] for s in rows]
    ax.errorbar([s["periodSeconds"] for s in rows], means,
                yerr=[[m - s["min_s"] for m, s in zip(means, rows)], [s["max_s"] - m for m, s in zip(means, rows)]],
                marker="o", capsize=4, label=f"initialDelaySeconds={delay}")
ax.set_xlabel("readinessProbe.periodSeconds")
ax.set_ylabel("rollout time (s)")
ax.set_title(f"3-replica OrderedReady rolling update, {len(SEEDS)} seeds per point")
ax.legend()
statefulsim.notebook.inline_figures()
fig

# %% [markdown]
# ## What it says
#
# Both knobs lengthen the rollout, and both are paid per pod because the update is sequential.
# But neither adds its full value: the probes only gate readiness, so what counts is how much later
# than the app being up the first *successful* probe comes. An initial delay costs only the part of it
# beyond the app's own start-up (here a few seconds per pod, so +10 s of delay adds well under
# 3 × 10 s), and with a 10 s period a 10 s initial delay costs nothing extra at all: the first probe
# that can succeed is at 10 s either way. A longer period costs between 0 and one period per pod.

# %%
def mean(period, delay):
    return next(s["mean_s"] for s in summary if (s["periodSeconds"], s["initialDelaySeconds"]) == (period, delay))

assert mean(10, 0) > mean(1, 0)
assert mean(1, 10) > mean(1, 0)
print(f"initialDelaySeconds 0 → 10 at period 1 s: +{mean(1, 10) - mean(1, 0):.1f}s")
print(f"periodSeconds 1 → 10 with no initial delay: +{mean(10, 0) - mean(1, 0):.1f}s")

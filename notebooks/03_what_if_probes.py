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
# This notebook varies both over a small grid with `statefulsim.sweep.run_sweep` (the library behind
# `statefulsim sweep`), runs each point over a few seeds, and reads its `rollout_duration` metric:
# from the `setImage` action until all 3 pods run the new revision and are Ready.

# %%
import tempfile
from pathlib import Path

import yaml
from matplotlib.figure import Figure

import statefulsim
from statefulsim.sweep import parse_axis, run_sweep

# the tutorial's manifest, bundled with statefulsim (found from any directory, also after pip install)
MANIFESTS = list(yaml.safe_load_all((statefulsim.notebook.examples_dir() / "manifests" / "web.yaml").read_text()))

PERIODS = [1, 5, 10]           # readinessProbe.periodSeconds
DELAYS = [0, 10]               # readinessProbe.initialDelaySeconds
SEEDS = 4

scenario = {
    "apiVersion": "statefulsim/v1",
    "kind": "Scenario",
    "metadata": {"name": "probe-what-if"},
    "seed": 1,
    "until": "6m",
    "cluster": {"nodes": 3},
    "manifests": MANIFESTS,
    "actions": [
        {"at": "1s", "scale": {"statefulset": "web", "replicas": 3}},
        {"at": "60s",
         "setImage": {"statefulset": "web", "container": "nginx", "image": "registry.k8s.io/nginx-slim:0.26"}},
    ],
}
path = Path(tempfile.mkdtemp()) / "probe-what-if.yaml"
path.write_text(yaml.safe_dump(scenario, sort_keys=False))

# %% [markdown]
# ## The grid
#
# Each axis is a field of the scenario by its path, as `statefulsim sweep --set PATH=V1,V2` takes it.

# %%
PROBE = "manifests[web].spec.template.spec.containers[nginx].readinessProbe"
sweep = run_sweep(str(path), runs=SEEDS, seed_start=1, workers=1,
                  axes=[parse_axis(f"{PROBE}.periodSeconds={','.join(map(str, PERIODS))}"),
                        parse_axis(f"{PROBE}.initialDelaySeconds={','.join(map(str, DELAYS))}")])
assert all(r.metrics["rollout_duration"] is not None and r.metrics["stuck"] == 0 for r in sweep.runs)
sweep

# %%
summary = []
for pt in sweep.points:
    xs = sorted(sweep.values(pt.index, "rollout_duration"))
    summary.append({"periodSeconds": pt.point[f"{PROBE}.periodSeconds"],
                    "initialDelaySeconds": pt.point[f"{PROBE}.initialDelaySeconds"], "runs": len(xs),
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
ax.set_title(f"3-replica OrderedReady rolling update, {SEEDS} seeds per point")
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

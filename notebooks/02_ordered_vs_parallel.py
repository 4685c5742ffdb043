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
# # OrderedReady vs Parallel on the same manifest
#
# `spec.podManagementPolicy` decides how a StatefulSet scales:
#
# * `OrderedReady` (the default) creates pods one at a time in ordinal order, each only once its
#   predecessor is Running and Ready, and removes them one at a time in reverse order;
# * `Parallel` creates and deletes them all at once, without waiting. Only scaling is affected:
#   rolling updates stay ordered under both.
#
# Here the same nginx manifest (`scenarios/manifests/web.yaml`) runs under both policies: scale
# from 1 to 5 replicas, then to 0.

# %%
import copy

import yaml

import statefulsim
from statefulsim.present.plots import replicas_figure, timeline_figure

# the tutorial's manifest, bundled with statefulsim (found from any directory, also after pip install)
MANIFESTS = list(yaml.safe_load_all((statefulsim.notebook.examples_dir() / "manifests" / "web.yaml").read_text()))


def scenario_for(policy: str, seed: int = 3) -> statefulsim.Scenario:
    """The same manifests, inline, with only podManagementPolicy changed."""
    manifests = copy.deepcopy(MANIFESTS)
    for m in manifests:
        if m["kind"] == "StatefulSet":
            m["spec"]["podManagementPolicy"] = policy
    return statefulsim.notebook.scenario_from_data({
        "apiVersion": "statefulsim/v1",
        "kind": "Scenario",
        "metadata": {"name": f"web-{policy}", "description": f"scale 1 → 5 → 0 under {policy}"},
        "seed": seed,
        "until": "2m",
        "cluster": {"nodes": 3},
        "manifests": manifests,
        "actions": [
            {"at": "1s", "scale": {"statefulset": "web", "replicas": 5}},
            {"at": "90s", "scale": {"statefulset": "web", "replicas": 0}},
        ],
    })


results = {policy: statefulsim.run(scenario_for(policy)) for policy in ["OrderedReady", "Parallel"]}

# %% [markdown]
# ## Time to all-ready
#
# `statefulsim.notebook.time_to_all_ready(result)` is the time from the StatefulSet's creation until its ready
# replicas first reached the desired count. Under OrderedReady the pods' start-up times add up;
# under Parallel they overlap. Over a few seeds:

# %%
SEEDS = [1, 2, 3, 4, 5]
rows = []
for policy in ["OrderedReady", "Parallel"]:
    times = [statefulsim.notebook.time_to_all_ready(statefulsim.run(scenario_for(policy, seed))) for seed in SEEDS]
    assert all(t is not None for t in times)
    rows.append({"policy": policy, "min_s": round(min(times), 1), "mean_s": round(sum(times) / len(times), 1),
                 "max_s": round(max(times), 1)})
try:
    import pandas as pd
    table = pd.DataFrame(rows)
except ImportError:
    table = rows
print(f"time to 5 ready replicas over seeds {SEEDS}")
table

# %%
ordered_mean, parallel_mean = rows[0]["mean_s"], rows[1]["mean_s"]
assert parallel_mean < ordered_mean
print(f"Parallel is {ordered_mean / parallel_mean:.1f}x faster to all-ready here")

# %% [markdown]
# ## The timelines side by side
#
# Left, OrderedReady: a staircase, each pod starting when the one above is Ready (green), and on
# scale-down a staircase in reverse. Right, Parallel: all five pods start together and stop together.

# %%
figures = [timeline_figure(r, title="", width=9) for policy, r in results.items()]
statefulsim.notebook.side_by_side(figures, titles=list(results))

# %%
statefulsim.notebook.side_by_side([replicas_figure(r, title="", width=9) for p, r in results.items()],
                         titles=list(results))

# %% [markdown]
# ## Ordering guarantees, checked
#
# `statefulsim.check_invariants(trace)` runs every named StatefulSet guarantee that applies to the
# trace (`ordered-creation` and `ordered-termination` apply to OrderedReady sets only) and returns
# the violations. Both runs hold every guarantee that applies to them:

# %%
for policy, r in results.items():
    violations = statefulsim.check_invariants(r.trace)
    print(f"{policy:13s} violations: {violations}")
    assert not violations

# %% [markdown]
# The difference is what the orders look like. Under OrderedReady, each pod is created only after
# its predecessor is Ready, and deleted only after its successor is gone; under Parallel the
# creations all happen within a moment, before any pod is Ready.

# %%
def times(result, event):
    return {r["pod"]: r["t"] for r in reversed(result.records()) if r["event"] == event}


for policy, r in results.items():
    created, ready, deleted = times(r, "PodCreated"), times(r, "PodReady"), times(r, "PodDeleted")
    pods = [f"web-{i}" for i in range(5)]
    print(policy)
    for p in pods:
        print(f"  {p}: created {created[p]:6.1f}s  ready {ready[p]:6.1f}s  deleted {deleted[p]:6.1f}s")
    ordered = all(ready[a] < created[b] for a, b in zip(pods, pods[1:]))
    print(f"  each pod created after its predecessor was ready: {ordered}")
    assert ordered == (policy == "OrderedReady")

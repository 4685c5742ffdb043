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
# # A guided tour: ordered deployment and headless-service DNS
#
# This notebook follows one StatefulSet through its life in the simulator: creation under the
# default `OrderedReady` policy, a DNS lookup of a pod name that is not there yet (and so lands in
# CoreDNS's negative cache), a rolling update to a new image, and a scale-down.
#
# The manifest is the nginx StatefulSet of the Kubernetes StatefulSet tutorial
# (`scenarios/manifests/web.yaml`): a headless Service `nginx` (`clusterIP: None`) and a
# StatefulSet `web` whose readiness probe is an HTTP GET every second.

# %%

import statefulsim
from statefulsim.analysis.dns import dns_visibility

# The bundled scenarios and manifests (package data): found from any directory, also after pip install.
SCENARIOS = statefulsim.notebook.examples_dir()

# %% [markdown]
# ## The scenario
#
# A scenario is YAML: the manifests, unchanged, plus what happens to them and when. It can live in a
# file under `scenarios/` or, as here, in a string. `file:` paths resolve against `base_dir`.
#
# * at 1 s the set is scaled from 1 to 3 replicas;
# * from 2 s a client looks up `web-2.nginx` every 2 s, long before `web-2` exists;
# * at 90 s the image changes (`kubectl set image`): a new revision and a rolling update;
# * at 210 s the set is scaled down to 1.
#
# The cluster DNS uses the `kubeadm-legacy` Corefile, whose `cache 30` also caches NXDOMAIN for
# 30 s, on two CoreDNS replicas.

# %%
TOUR = """
apiVersion: statefulsim/v1
kind: Scenario
metadata: {name: tour, description: "create, look up, update, scale down"}
seed: 7
until: 5m
cluster:
  nodes: 3
  dns: {preset: kubeadm-legacy, replicas: 2}
manifests:
  - file: manifests/web.yaml
actions:
  - {at: 1s, scale: {statefulset: web, replicas: 3}}
  - {at: 2s, dnsQuery: {name: web-2.nginx, from: client, every: 2s, until: 80s}}
  - {at: 90s, setImage: {statefulset: web, container: nginx, image: "registry.k8s.io/nginx-slim:0.26"}}
  - {at: 210s, scale: {statefulset: web, replicas: 1}}
expect:
  - order: {event: PodCreated, pods: [web-0, web-1, web-2]}
  - before: {first: {event: PodReady, pod: web-0}, then: {event: PodCreated, pod: web-1}}
  - before: {first: {event: PodReady, pod: web-1}, then: {event: PodCreated, pod: web-2}}
  - order: {event: PodTerminating, pods: [web-2, web-1, web-0]}
"""
scenario = statefulsim.io.scenario.load_scenario_text(TOUR, base_dir=str(SCENARIOS))
result = statefulsim.run(scenario)
assert result.ok, [e for e in result.expectations if not e.ok]
[(e.description, e.detail) for e in result.expectations]

# %% [markdown]
# `result.records()` is the whole trace as plain dicts (time `t` in seconds, `event`, and the
# event's fields). `statefulsim.notebook.records_table` gives it as a `pandas.DataFrame` when pandas is
# installed (and a list of dicts when it is not), optionally only some events and columns.

# %%
try:
    import pandas  # noqa: F401
    HAVE_PANDAS = True
except ImportError:
    HAVE_PANDAS = False

records = result.records()
print(f"{len(records)} trace records; pandas {'is' if HAVE_PANDAS else 'is not'} installed")
lifecycle = statefulsim.notebook.records_table(
    result, events={"PodCreated", "PodReady", "PodTerminating", "PodDeleted", "ControllerWaiting"},
    columns=["pod", "revision", "reason"])
lifecycle if HAVE_PANDAS else lifecycle[:12]

# %% [markdown]
# ## 1. Ordered creation
#
# Under `OrderedReady` the controller creates `web-0`, and creates `web-1` only once `web-0` is
# Running and Ready; meanwhile it records `ControllerWaiting ... PredecessorNotReady`. The same for
# `web-2`. This is the StatefulSet guarantee "deployment and scaling are ordered": pods are created
# sequentially, in order from 0 to N-1, each after its predecessor is Running and Ready.

# %%
def first(event: str, pod: str, nth: int = 1) -> float:
    times = [r["t"] for r in records if r["event"] == event and r.get("pod") == pod]
    return times[nth - 1]

for pod in ["web-0", "web-1", "web-2"]:
    print(f"{pod}: created {first('PodCreated', pod):6.1f}s   ready {first('PodReady', pod):6.1f}s")
assert first("PodReady", "web-0") < first("PodCreated", "web-1") < first("PodReady", "web-1") < first("PodCreated", "web-2")
print(f"all 3 ready {statefulsim.notebook.time_to_all_ready(result):.1f}s after the StatefulSet was created")

# %% [markdown]
# ## 2. A DNS lookup that hits the negative cache
#
# The headless Service gives each pod a stable name, `web-2.nginx` (in full
# `web-2.nginx.default.svc.cluster.local`). The name is published only once the pod is a *ready*
# endpoint of the Service. The client starts asking at 2 s: every answer is NXDOMAIN, and CoreDNS's
# `cache 30` keeps that NXDOMAIN for up to 30 s (`cached: True`, the TTL counting down). So when
# `web-2` becomes Ready, clients can keep getting NXDOMAIN until the cached negative answer of the
# replica they reach expires. Each CoreDNS replica has its own cache, so answers may flip between an
# address and NXDOMAIN for a while.

# %%
vis = dns_visibility(result.trace, "web-2.nginx", "web-2")
print(f"web-2 Ready at {vis.ready_at:.1f}s; first address at {vis.first_answer_at:.1f}s "
      f"({vis.delay:.1f}s later) after {vis.negative_answers_before} NXDOMAIN answers")
assert vis.delay is not None and vis.delay >= 0
statefulsim.notebook.records_table(result, events={"DNSAnswer"}, columns=["rcode", "answers", "server", "cached", "ttl"],
                          pandas=HAVE_PANDAS)[12:24]

# %% [markdown]
# With the `kubeadm` Corefile (no negative caching; `scenarios/dns-kubeadm.yaml`) the same question
# gets an address a fraction of a second after Ready. The bundled pair of scenarios asks it for
# `web-3.nginx`:

# %%
for name in ["dns-kubeadm-legacy", "dns-kubeadm"]:
    r = statefulsim.run(SCENARIOS / f"{name}.yaml")
    v = dns_visibility(r.trace, "web-3.nginx", "web-3")
    print(f"{name:20s} first address {v.delay:5.1f}s after Ready ({v.negative_answers_before} NXDOMAIN before)")

# %% [markdown]
# ## 3. The rolling update
#
# At 90 s the image changes. The default `RollingUpdate` strategy replaces pods **in reverse ordinal
# order**, one at a time: `web-2` is terminated and recreated at the new revision, and the
# controller waits for it to be Running and Ready before it terminates `web-1`, then `web-0`.

# %%
updates = [r for r in records if r["event"] in ("PodTerminating", "PodCreated") and 90 <= r["t"] < 200]
for r in updates:
    print(f"{r['t']:7.1f}s  {r['event']:15s} {r['pod']}  {r.get('revision', '')}")
assert [r["pod"] for r in updates if r["event"] == "PodTerminating"] == ["web-2", "web-1", "web-0"]

# %% [markdown]
# ## 4. Scale-down
#
# At 210 s the set goes to 1 replica. Pods are removed in reverse order too, and under
# `OrderedReady` one at a time: `web-1` is terminated only after `web-2` is fully gone.

# %%
down = [r for r in records if r["event"] in ("PodTerminating", "PodDeleted") and r["t"] >= 210]
for r in down:
    print(f"{r['t']:7.1f}s  {r['event']:15s} {r['pod']}")
assert first("PodDeleted", "web-2", 2) < first("PodTerminating", "web-1", 2)

# %% [markdown]
# ## The pictures
#
# `statefulsim.notebook.show_run(result)` displays (and returns) two matplotlib figures: the timeline of every
# pod (coloured states, revision changes `▼`, numbered scenario actions, and the thin DNS bar under
# each row: what lookups of that pod's name got), and the ready/available replicas against the
# desired count, here with the time below a quorum of 2 shaded. In a script,
# `statefulsim.present.plots.timeline_figure(result)` and `replicas_figure(result)` return the same
# figures.

# %%
timeline, replicas = statefulsim.notebook.show_run(result, quorum=2)

# %% [markdown]
# Nothing is stuck at the end, and every StatefulSet guarantee that applies to this trace holds:

# %%
print("stuck:", result.stuck(), " waiting:", result.waiting())
violations = statefulsim.check_invariants(result.trace)
assert not violations, violations
print("invariants: all hold")

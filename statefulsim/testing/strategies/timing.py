"""The ``timing:`` section (:func:`timing_models`)."""

from __future__ import annotations

from typing import Any, Sequence

from hypothesis import strategies as st

from statefulsim.sim.timing import CLUSTER_KEYS, POD_KEYS, VOLUME_KEYS
from statefulsim.testing.strategies.delays import delay_models
from statefulsim.testing.strategies.manifests import CONTAINER, DEFAULT_IMAGES

#: The largest value (seconds) generated per timing key: small enough that runs stay short,
#: and for the control plane small enough that the informer lag stays far below pod lifetimes
#: (docs/invariants.md, "What the checks can see").
TIMING_MAX: dict[str, float] = {
    "apiLatency": 0.2,
    "watchLatency": 0.1,
    "scheduling": 0.1,
    "plegRelist": 1.0,
    "endpointSlice": 0.5,
    "dnsQuery": 0.01,
    "provisioning": 20.0,
    "volumeAttach": 20.0,
    "volumeDetach": 20.0,
    "volumeMount": 5.0,
    "volumeUnmount": 3.0,
    "sandbox": 5.0,
    "imagePull": 30.0,
    "imagePullCached": 1.0,
    "containerStart": 3.0,
    "initContainerRun": 10.0,
    "appReady": 30.0,
    "appCrash": 300.0,
    "probeDuration": 0.5,  # below the smallest timeoutSeconds (1 s); bounded models only when converging
    "preStop": 3.0,
    "appShutdown": 15.0,
}
#: Without ``allow_never``, ``probeDuration`` is constant or uniform and at most this long (s):
#: below the smallest ``timeoutSeconds`` (1 s), so no probe of a healthy app times out.
PROBE_DURATION_MAX = 0.9
#: Per-pod keys an override may set (``appCrash`` only when scenarios need not converge).
_OVERRIDE_KEYS = ("sandbox", "imagePull", "containerStart", "appReady", "appShutdown", "preStop")


@st.composite
def _timing_models(draw: st.DrawFn, statefulset: str, images: Sequence[str], container: str, max_ordinal: int,
                   keys: Sequence[str], scale: float, allow_never: bool, max_overrides: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in keys:
        if key == "appCrash" and not allow_never:
            continue  # a finite appCrash crash-loops every container: the set never settles
        if draw(st.booleans(), label=f"timing.{key}"):
            if key == "probeDuration" and not allow_never:
                # Bounded below the smallest timeoutSeconds (1 s): an exponential or log-normal
                # tail times a probe out now and then, and a liveness probe with
                # failureThreshold 1 then kills a healthy container again and again.
                out[key] = draw(delay_models(min(TIMING_MAX[key] * scale, PROBE_DURATION_MAX),
                                             kinds=("constant", "uniform")), label=f"timing.{key}")
                continue
            out[key] = draw(delay_models(TIMING_MAX[key] * scale), label=f"timing.{key}")
    if draw(st.booleans(), label="timing.podWorkerJitter"):
        out["podWorkerJitter"] = draw(st.booleans(), label="podWorkerJitter")
    matches: list[st.SearchStrategy[dict[str, Any]]] = [
        st.just({"statefulset": statefulset}),
        st.integers(0, max_ordinal).map(lambda n: {"statefulset": statefulset, "ordinal": n}),
        st.integers(0, max_ordinal).map(lambda n: {"pod": f"{statefulset}-{n}"}),
        st.just({"container": container}),
    ]
    if images:
        matches.append(st.sampled_from(list(images)).map(lambda i: {"image": i}))
    override_keys = [k for k in _OVERRIDE_KEYS if k in keys]
    overrides: list[dict[str, Any]] = []
    if override_keys:
        for _ in range(draw(st.integers(0, max_overrides), label="overrides")):
            key = draw(st.sampled_from(override_keys), label="override key")
            ov = {"match": draw(st.one_of(matches), label="override match"),
                  key: draw(delay_models(TIMING_MAX[key] * scale), label=f"override {key}")}
            overrides.append(ov)
    if allow_never and draw(st.booleans(), label="never ready"):
        # "an image that never becomes ready" (or one pod that never does)
        never = [matches[1]] + ([st.just({"image": images[-1]})] if images else [])
        match = draw(st.one_of(never), label="never-ready match")
        overrides.append({"match": match, "appReady": "never"})
    if overrides:
        out["overrides"] = overrides
    return out


def timing_models(*, statefulset: str = "web", images: Sequence[str] = DEFAULT_IMAGES, container: str = CONTAINER,
                  max_ordinal: int = 5, keys: Sequence[str] | None = None, scale: float = 1.0,
                  allow_never: bool = False, max_overrides: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """The ``timing:`` section: for a subset of ``keys`` (default: every key of docs/timing.md) a
    constant, uniform, exponential or log-normal model up to ``TIMING_MAX[key] * scale`` seconds,
    maybe ``podWorkerJitter``, and up to ``max_overrides`` per-pod overrides matching the set, an
    ordinal, a pod, the container or one of ``images``.

    ``allow_never=True`` also draws what makes a set stick on purpose: a finite ``appCrash``, an
    override ``appReady: never`` for the last of ``images`` (an image that never becomes ready)
    or for one ordinal, and a ``probeDuration`` with an unbounded tail (probes that time out now
    and then).  Without it ``probeDuration`` is a constant or uniform model below 1 s (the
    smallest ``timeoutSeconds``), so probes of a healthy app never fail."""
    chosen = list(CLUSTER_KEYS) + list(VOLUME_KEYS) + list(POD_KEYS) if keys is None else list(keys)
    unknown = [k for k in chosen if k not in TIMING_MAX]
    if unknown:
        raise ValueError(f"unknown timing keys {unknown}; known: {', '.join(TIMING_MAX)}")
    return _timing_models(statefulset, tuple(images), container, max_ordinal, tuple(chosen), scale, allow_never,
                          max_overrides)

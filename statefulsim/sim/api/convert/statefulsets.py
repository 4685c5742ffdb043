"""Manifest conversion: statefulsets (part of :mod:`statefulsim.sim.api.convert`)."""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from statefulsim.limits import INT32_MAX
from statefulsim.problems import Path, Problems, get_int, get_mapping, get_str, shown
from statefulsim.sim.api.convert._helpers import (
    _POD_RESTART_POLICIES,
    _RETENTION,
    _SELECTOR_REQUIRED_VERSIONS,
    _STRATEGY_TYPES,
    STATEFULSET_API_VERSIONS,
    _count,
    _mappings,
    _present,
    to_plain,
)
from statefulsim.sim.api.convert.metadata import _selector_text, parse_label_selector, parse_metadata
from statefulsim.sim.api.convert.pods import parse_pod_template
from statefulsim.sim.api.objects import (
    ON_DELETE,
    ORDERED_READY,
    PARALLEL,
    ROLLING_UPDATE,
    LabelSelector,
    ObjectMeta,
    PodTemplate,
    RetentionPolicy,
    RollingUpdateStrategy,
    StatefulSet,
    StatefulSetSpec,
    UpdateStrategy,
)


def _parse_update_strategy(spec: Mapping[str, Any], api_version: str, path: Path, problems: Problems) -> UpdateStrategy:
    """updateStrategy with the per-version defaults and the §1.4 ``rollingUpdate`` quirk."""
    us = get_mapping(spec, "updateStrategy", path, problems)
    upath = path + ("updateStrategy",)
    version_default = ON_DELETE if api_version == "apps/v1beta1" else ROLLING_UPDATE
    defaulted = not _present(us, "type")
    before = _count(problems)
    if defaulted:
        type_ = version_default
    elif us["type"] == "Recreate":
        problems.add(
            upath + ("type",),
            f"expected one of {', '.join(_STRATEGY_TYPES)}, found 'Recreate' "
            "(Recreate is alpha in Kubernetes 1.37 and not simulated)",
        )
        type_ = version_default
    else:
        type_ = get_str(us, "type", upath, problems, version_default, choices=_STRATEGY_TYPES)
    type_ok = _count(problems) == before

    rolling: RollingUpdateStrategy | None = None
    if _present(us, "rollingUpdate"):
        ru = get_mapping(us, "rollingUpdate", upath, problems)
        rpath = upath + ("rollingUpdate",)
        partition = get_int(ru, "partition", rpath, problems, 0, minimum=0, maximum=INT32_MAX)
        max_unavailable = _parse_max_unavailable(ru, rpath, problems)
        rolling = RollingUpdateStrategy(partition=partition, max_unavailable=max_unavailable)
        if type_ != ROLLING_UPDATE:
            if type_ok:
                problems.add(rpath, f"only allowed for updateStrategy type {ROLLING_UPDATE}, found {type_}")
            rolling = None
    elif defaulted and type_ == ROLLING_UPDATE:
        rolling = RollingUpdateStrategy(partition=0)
    return UpdateStrategy(type=type_, rolling_update=rolling)


_PERCENT = re.compile(r"^[0-9]{1,10}%$")


def _parse_max_unavailable(ru: Mapping[str, Any], path: Path, problems: Problems) -> int | str | None:
    """rollingUpdate.maxUnavailable: an int >= 1 or a percentage "1%".."100%"; None when absent."""
    if not _present(ru, "maxUnavailable"):
        return None
    value = ru["maxUnavailable"]
    vpath = path + ("maxUnavailable",)
    if isinstance(value, str):
        if not _PERCENT.match(value):
            problems.add(vpath, f"expected an integer or a percentage such as '25%', found {shown(value)}")
            return None
        percent = int(value[:-1])
        if not 1 <= percent <= 100:
            problems.add(vpath, f"expected a percentage between 1% and 100%, found {value!r}")
            return None
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        problems.expected(vpath, "an integer or a percentage string such as '25%'", value)
        return None
    if value < 1:
        problems.add(vpath, f"expected an integer >= 1, found {value}")
        return None
    if value > INT32_MAX:
        problems.add(vpath, f"expected an integer <= {INT32_MAX} (an int32, as the API server stores it), "
                            f"found {shown(value)}")
        return None
    return value


def parse_statefulset_spec(
    spec: Mapping[str, Any],
    api_version: str,
    path: Path,
    problems: Problems,
    *,
    metadata_labels: Mapping[str, str],
    known_policies: Sequence[str] = (ORDERED_READY, PARALLEL),
) -> StatefulSetSpec | None:
    """A StatefulSet ``spec`` at ``path`` with the defaults and validation of ``api_version``.

    Used at load time and again after a merge patch.  Returns None when any problem was found
    in this spec.  ``metadata_labels`` are the set's own labels; they do not influence the spec
    today and are accepted so callers need not change if a default comes to depend on them.
    """
    if api_version not in STATEFULSET_API_VERSIONS:
        raise ValueError(f"unsupported StatefulSet apiVersion {api_version!r}")
    del metadata_labels  # see the docstring
    before = _count(problems)

    replicas = get_int(spec, "replicas", path, problems, 1, minimum=0, maximum=INT32_MAX)
    policy = get_str(spec, "podManagementPolicy", path, problems, ORDERED_READY, choices=tuple(known_policies),
                     plugin="policy")
    history = get_int(spec, "revisionHistoryLimit", path, problems, 10, minimum=0, maximum=INT32_MAX)
    min_ready = get_int(spec, "minReadySeconds", path, problems, 0, minimum=0)
    service_name = get_str(spec, "serviceName", path, problems)
    update_strategy = _parse_update_strategy(spec, api_version, path, problems)

    ordinals_start: int | None = None
    if _present(spec, "ordinals"):
        ordinals = get_mapping(spec, "ordinals", path, problems)
        ordinals_start = get_int(ordinals, "start", path + ("ordinals",), problems, 0, minimum=0, maximum=INT32_MAX)

    claim_templates: list[Mapping[str, Any]] = []
    for cpath, ct in _mappings(spec, "volumeClaimTemplates", path, problems):
        ct_meta = get_mapping(ct, "metadata", cpath, problems, required=True)
        if isinstance(ct.get("metadata"), Mapping):
            get_str(ct_meta, "name", cpath + ("metadata",), problems, required=True)
        claim_templates.append(to_plain(ct))

    retention = RetentionPolicy()
    if _present(spec, "persistentVolumeClaimRetentionPolicy"):
        rp = get_mapping(spec, "persistentVolumeClaimRetentionPolicy", path, problems)
        rpath = path + ("persistentVolumeClaimRetentionPolicy",)
        retention = RetentionPolicy(
            when_deleted=get_str(rp, "whenDeleted", rpath, problems, "Retain", choices=_RETENTION),
            when_scaled=get_str(rp, "whenScaled", rpath, problems, "Retain", choices=_RETENTION),
        )

    tmpl = get_mapping(spec, "template", path, problems, required=True)
    tpath = path + ("template",)
    template = parse_pod_template(tmpl, tpath, problems)
    tspec = tmpl.get("spec")
    if isinstance(tspec, Mapping) and isinstance(tspec.get("restartPolicy"), str) and tspec["restartPolicy"] != "Always":
        if tspec["restartPolicy"] in _POD_RESTART_POLICIES:
            problems.add(
                tpath + ("spec", "restartPolicy"),
                f"expected 'Always' (the only restartPolicy a StatefulSet supports), found {tspec['restartPolicy']!r}",
            )

    selector = _parse_set_selector(spec, api_version, path, problems, template)
    if _count(problems) != before or selector is None:
        return None
    return StatefulSetSpec(
        replicas=replicas,
        selector=selector,
        service_name=service_name,
        template=template,
        template_raw=to_plain(tmpl),
        pod_management_policy=policy,
        update_strategy=update_strategy,
        revision_history_limit=history,
        min_ready_seconds=float(min_ready),
        ordinals_start=ordinals_start,
        volume_claim_templates=tuple(claim_templates),
        retention_policy=retention,
    )


def _parse_set_selector(
    spec: Mapping[str, Any], api_version: str, path: Path, problems: Problems, template: PodTemplate
) -> LabelSelector | None:
    """spec.selector: required in apps/v1 and v1beta2, defaulted from the template in v1beta1."""
    spath = path + ("selector",)
    if not _present(spec, "selector"):
        if api_version in _SELECTOR_REQUIRED_VERSIONS:
            problems.add(spath, f"required key is missing (required for {api_version}; "
                                "write matchLabels equal to the template labels)")
            return None
        if not template.labels:
            problems.add(spath, f"required key is missing ({api_version} defaults it from the template labels, which are empty)")
            return None
        return LabelSelector(match_labels=dict(template.labels))
    if not isinstance(spec["selector"], Mapping):
        problems.expected(spath, "a mapping", spec["selector"])
        return None
    before = _count(problems)
    selector = parse_label_selector(spec["selector"], spath, problems)
    if _count(problems) != before:
        return None
    if selector.is_empty():
        problems.add(spath, "empty selector is invalid for a StatefulSet")
        return None
    if not selector.matches(template.labels):
        problems.add(
            path + ("template", "metadata", "labels"),
            f"selector does not match template labels (selector: {_selector_text(selector)})",
        )
        return None
    return selector


def parse_statefulset(doc: Mapping[str, Any], api_version: str, path: Path, problems: Problems, *,
                      known_policies: Sequence[str] = (ORDERED_READY, PARALLEL)) -> StatefulSet | None:
    """A StatefulSet manifest; apps/v1beta1 also copies template labels to empty metadata labels."""
    before = _count(problems)
    meta = parse_metadata(doc, path, problems)
    spec_m = get_mapping(doc, "spec", path, problems, required=True)
    if not isinstance(doc.get("spec"), Mapping):
        return None
    spec = parse_statefulset_spec(
        spec_m, api_version, path + ("spec",), problems, metadata_labels=meta.labels, known_policies=known_policies
    )
    if spec is None or _count(problems) != before:
        return None
    if api_version == "apps/v1beta1" and not meta.labels and spec.template.labels:
        meta = ObjectMeta(
            name=meta.name, namespace=meta.namespace, labels=dict(spec.template.labels), annotations=meta.annotations
        )
    return StatefulSet(metadata=meta, spec=spec, spec_raw=to_plain(spec_m), api_version=api_version)

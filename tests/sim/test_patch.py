"""statefulsim.sim.api.patch: the three patch types as the API server applies them.

The strategic-merge cases follow the behaviours upstream's ``strategicpatch/patch_test.go``
tests (merging lists by key, directives, ordering, retainKeys, setElementOrder, primitive
lists), written here on StatefulSet fields.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statefulsim.sim.api.patch import PatchError, apply_patch, check_patch, flow, json_patch, merge_patch, strategic_merge_patch
from statefulsim.sim.api.schema import field_path, field_schema, unknown_fields

PROBE = {"httpGet": {"path": "/index.html", "port": 80}, "initialDelaySeconds": 15, "periodSeconds": 1}


def pod_spec(**spec: Any) -> dict[str, Any]:
    return {"spec": {"template": {"spec": spec}}}


def sts(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
            "spec": {"replicas": 3, "template": {"spec": {"containers": list(containers), **spec}}}}


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = doc["spec"]["template"]["spec"]["containers"]
    return result


NGINX = {"name": "nginx", "image": "nginx:1", "ports": [{"containerPort": 80, "name": "web"}],
         "readinessProbe": PROBE, "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]}
SIDECAR = {"name": "log", "image": "busybox"}


def test_the_schema_has_upstreams_patch_tags() -> None:
    containers_field = field_schema("PodSpec", "containers")
    assert containers_field is not None and containers_field.merges and containers_field.merge_key == "name"
    ports = field_schema("Container", "ports")
    assert ports is not None and ports.merge_key == "containerPort"
    volumes = field_schema("PodSpec", "volumes")
    assert volumes is not None and volumes.strategies == ("merge", "retainKeys")
    for no_strategy in (("PodSpec", "tolerations"), ("StatefulSetSpec", "volumeClaimTemplates"), ("Container", "command")):
        f = field_schema(*no_strategy)
        assert f is not None and not f.merges, no_strategy
    finalizers = field_schema("ObjectMeta", "finalizers")
    assert finalizers is not None and finalizers.merges and finalizers.merge_key == ""
    # inlined structs (ProbeHandler in Probe, VolumeSource in Volume) contribute their fields
    assert field_schema("Probe", "httpGet") is not None and field_schema("Volume", "emptyDir") is not None


def test_one_containers_image_by_name_keeps_the_rest_of_it() -> None:
    out = strategic_merge_patch(sts(NGINX, SIDECAR), pod_spec(containers=[{"name": "nginx", "image": "nginx:2"}]))
    assert containers(out) == [dict(NGINX, image="nginx:2"), SIDECAR]
    # the merge patch of the same body replaces the list: the probe, ports and mounts are gone
    merged = merge_patch(sts(NGINX, SIDECAR), pod_spec(containers=[{"name": "nginx", "image": "nginx:2"}]))
    assert containers(merged) == [{"name": "nginx", "image": "nginx:2"}]


def test_inputs_are_not_changed() -> None:
    doc, patch = sts(NGINX), pod_spec(containers=[{"name": "nginx", "image": "nginx:2", "env": [{"name": "A"}]}])
    before = copy.deepcopy((doc, patch))
    strategic_merge_patch(doc, patch)
    assert (doc, patch) == before


def test_merged_list_order_is_patch_order_with_live_only_items_by_live_order() -> None:
    live = sts({"name": "a"}, {"name": "b"}, {"name": "c"})
    out = strategic_merge_patch(live, pod_spec(containers=[{"name": "c", "image": "x"}, {"name": "d"}]))
    assert [c["name"] for c in containers(out)] == ["a", "b", "c", "d"]
    out = strategic_merge_patch(live, pod_spec(containers=[{"name": "d"}, {"name": "a", "image": "x"}]))
    assert [c["name"] for c in containers(out)] == ["d", "a", "b", "c"]


def test_set_element_order_orders_the_merged_list() -> None:
    live = sts({"name": "a"}, {"name": "b"}, {"name": "c"})
    patch = pod_spec(**{"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}],
                        "containers": [{"name": "a", "image": "x"}]})
    assert [(c["name"], c.get("image")) for c in containers(strategic_merge_patch(live, patch))] == [
        ("c", None), ("a", "x"), ("b", None)]
    wrong = pod_spec(**{"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                        "containers": [{"name": "b"}, {"name": "a"}]})
    with pytest.raises(PatchError, match="doesn't match"):
        strategic_merge_patch(live, wrong)


def test_delete_directive_removes_items_by_merge_key_and_empties_maps() -> None:
    live = sts(dict(NGINX, env=[{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "A", "value": "3"}]))
    out = strategic_merge_patch(live, pod_spec(containers=[{"name": "nginx", "env": [{"name": "A", "$patch": "delete"}]}]))
    assert containers(out)[0]["env"] == [{"name": "B", "value": "2"}]
    out = strategic_merge_patch(live, pod_spec(containers=[{"name": "nginx", "readinessProbe": {"$patch": "delete"}}]))
    assert containers(out)[0]["readinessProbe"] == {}
    with pytest.raises(PatchError, match="does not contain declared merge key: name"):
        strategic_merge_patch(live, pod_spec(containers=[{"$patch": "delete"}]))


def test_replace_directive_in_a_list_and_in_a_map() -> None:
    live = sts(NGINX, SIDECAR)
    out = strategic_merge_patch(live, pod_spec(containers=[{"name": "only"}, {"$patch": "replace"}]))
    assert containers(out) == [{"name": "only"}]
    out = strategic_merge_patch(live, {"spec": {"template": {"spec": {"$patch": "replace", "containers": [SIDECAR]}}}})
    assert out["spec"]["template"]["spec"] == {"containers": [SIDECAR]}


def test_merge_directive_and_unknown_directives_are_refused() -> None:
    with pytest.raises(PatchError, match="merging lists cannot yet be specified in the patch"):
        strategic_merge_patch(sts(NGINX), pod_spec(containers=[{"$patch": "merge"}]))
    with pytest.raises(PatchError, match="unknown patch type"):
        strategic_merge_patch(sts(NGINX), pod_spec(**{"$patch": "frob"}))


def test_a_patch_item_without_its_merge_key_is_refused() -> None:
    with pytest.raises(PatchError, match="does not contain declared merge key: name"):
        strategic_merge_patch(sts(NGINX), pod_spec(containers=[{"image": "nginx:2"}]))
    with pytest.raises(PatchError, match="containerPort"):
        strategic_merge_patch(sts(NGINX), pod_spec(containers=[{"name": "nginx", "ports": [{"name": "web"}]}]))


def test_lists_without_a_strategy_are_replaced() -> None:
    live = sts(NGINX, tolerations=[{"key": "a", "operator": "Exists"}])
    out = strategic_merge_patch(live, pod_spec(tolerations=[{"key": "b", "operator": "Exists"}]))
    assert out["spec"]["template"]["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]
    live["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "www"}}]
    out = strategic_merge_patch(live, {"spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}}]}})
    assert out["spec"]["volumeClaimTemplates"] == [{"metadata": {"name": "data"}}]
    out = strategic_merge_patch(sts(dict(NGINX, command=["a", "b"])), pod_spec(containers=[{"name": "nginx", "command": ["c"]}]))
    assert containers(out)[0]["command"] == ["c"]


def test_ports_merge_by_container_port_only() -> None:
    # upstream's quirk: the merge key is containerPort alone, so a UDP port with the same number
    # merges into the TCP one
    live = sts(dict(NGINX, ports=[{"containerPort": 53, "protocol": "TCP"}]))
    out = strategic_merge_patch(
        live, pod_spec(containers=[{"name": "nginx", "ports": [{"containerPort": 53, "protocol": "UDP"}]}])
    )
    assert containers(out)[0]["ports"] == [{"containerPort": 53, "protocol": "UDP"}]


def test_primitive_merge_lists_are_sets_and_delete_from_primitive_list() -> None:
    live = {"metadata": {"name": "web", "finalizers": ["a", "b"]}}
    assert strategic_merge_patch(live, {"metadata": {"finalizers": ["b", "c"]}})["metadata"]["finalizers"] == ["a", "b", "c"]
    out = strategic_merge_patch(live, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})
    assert out["metadata"]["finalizers"] == ["b"]


def test_retain_keys_clears_the_fields_not_listed() -> None:
    live = sts(NGINX, volumes=[{"name": "www", "emptyDir": {}}])
    patch = pod_spec(volumes=[{"name": "www", "hostPath": {"path": "/srv"}, "$retainKeys": ["name", "hostPath"]}])
    assert strategic_merge_patch(live, patch)["spec"]["template"]["spec"]["volumes"] == [
        {"name": "www", "hostPath": {"path": "/srv"}}]
    bad = pod_spec(volumes=[{"name": "www", "hostPath": {"path": "/srv"}, "$retainKeys": ["name"]}])
    with pytest.raises(PatchError, match="retainKeys"):
        strategic_merge_patch(live, bad)


def test_null_deletes_and_new_subtrees_lose_their_nulls() -> None:
    live = {"metadata": {"name": "web", "labels": {"app": "nginx", "tier": "web"}}}
    out = strategic_merge_patch(live, {"metadata": {"labels": {"tier": None, "new": "x"}, "annotations": {"a": None, "b": "1"}}})
    assert out["metadata"] == {"name": "web", "labels": {"app": "nginx", "new": "x"}, "annotations": {"b": "1"}}


def test_merge_patch_is_rfc_7386() -> None:
    assert merge_patch({"a": {"b": 1, "c": 2}, "l": [1, 2]}, {"a": {"b": None, "d": 3}, "l": [3]}) == {
        "a": {"c": 2, "d": 3}, "l": [3]}
    assert merge_patch({"a": 1}, [1]) == [1]


def test_json_patch_operations() -> None:
    doc = sts(NGINX)
    out = json_patch(doc, [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:2"},
                           {"op": "add", "path": "/spec/template/spec/containers/-", "value": SIDECAR},
                           {"op": "add", "path": "/metadata/annotations", "value": {}},
                           {"op": "add", "path": "/metadata/annotations/example.com~1owner", "value": "me"},
                           {"op": "copy", "from": "/spec/replicas", "path": "/spec/minReadySeconds"}])
    assert containers(out) == [dict(NGINX, image="nginx:2"), SIDECAR]
    assert out["metadata"]["annotations"] == {"example.com/owner": "me"} and out["spec"]["minReadySeconds"] == 3
    with pytest.raises(PatchError, match=r"testing value /spec/replicas failed \(operation 1\)"):
        json_patch(
            doc, [{"op": "replace", "path": "/spec/replicas", "value": 5}, {"op": "test", "path": "/spec/replicas", "value": 4}]
        )
    with pytest.raises(PatchError, match="cannot be applied"):
        json_patch(doc, [{"op": "remove", "path": "/spec/minReadySeconds"}])
    assert doc == sts(NGINX)  # all or nothing, on a copy


def test_apply_patch_dispatches_on_the_type() -> None:
    assert apply_patch(sts(NGINX), {"spec": {"replicas": 1}}, "merge")["spec"]["replicas"] == 1
    with pytest.raises(PatchError, match="--type must be one of"):
        apply_patch(sts(NGINX), {}, "apply")
    with pytest.raises(PatchError, match="must be a JSON object"):
        apply_patch(sts(NGINX), [], "strategic")


# --------------------------------------------------------------------------- checks before the run


def test_check_patch_names_unknown_fields_with_their_path() -> None:
    out = check_patch(pod_spec(containers=[{"name": "nginx", "imagee": "x"}]), "strategic")
    assert out == [(("spec", "template", "spec", "containers", 0, "imagee"),
                    'unknown field "spec.template.spec.containers[0].imagee" (did you mean "image"?): the API server '
                    "refuses unknown fields (strict field validation, kubectl's default)")]
    # directives are no unknown fields of a strategic patch, but are of a merge patch
    directives = pod_spec(**{"$patch": "replace", "$setElementOrder/containers": [], "containers": []})
    assert check_patch(directives, "strategic") == []
    assert [p for p, _ in check_patch(directives, "merge")] == [("spec", "template", "spec", "$patch"),
                                                                ("spec", "template", "spec", "$setElementOrder/containers")]
    assert [p for p, _ in check_patch(pod_spec(**{"$setElementOrder/containerz": []}), "strategic")] == [
        ("spec", "template", "spec", "containerz")]


def test_check_patch_rewrites_the_spec_relative_form() -> None:
    assert check_patch({"replicas": 3, "metadata": {"labels": {"a": "b"}}}, "strategic") == [
        ((), "unknown field 'replicas' of a StatefulSet: a patch is of the whole object, as kubectl patch -p "
             "takes it; write patch: {metadata: {labels: {a: b}}, spec: {replicas: 3}}")]
    out = check_patch([{"op": "replace", "path": "/minReadySeconds", "value": 3}], "json")
    assert out == [((0, "path"), 'unknown field "minReadySeconds" of a StatefulSet: a patch is of the whole object; '
                                 "write path: /spec/minReadySeconds")]


def test_check_json_patch_shape_and_values() -> None:
    out = check_patch([{"op": "add", "path": "/spec/template/spec/containers/0/readinessProbe",
                        "value": {"httpGet": {"port": 80}, "periodSecond": 1}},
                       {"op": "replace", "path": "spec/replicas", "value": 1},
                       {"op": "move", "path": "/spec/replicas"},
                       {"op": "remove", "path": "/spec/replicas", "vaule": 1},
                       {"op": "frob"}, 3], "json")
    assert [p for p, _ in out] == [(0, "value", "periodSecond"), (1, "path"), (2,), (3, "vaule"), (4, "op"), (5,)]
    assert 'unknown field "spec.template.spec.containers[0].readinessProbe.periodSecond"' in out[0][1]
    assert check_patch({"op": "add"}, "json")[0][1].startswith("expected a list of operations")


def test_unknown_fields_of_an_object() -> None:
    doc = sts(dict(NGINX, foo=1), volumes=[{"name": "v", "emptyDir": {"medium": "Memory", "bar": 2}}])
    doc["metadata"]["labels"] = {"any": "key"}
    assert [field_path(p) for p in unknown_fields(doc, "StatefulSet")] == [
        "spec.template.spec.containers[0].foo", "spec.template.spec.volumes[0].emptyDir.bar"]


def test_flow_writes_yaml_flow_style() -> None:
    assert flow({"spec": {"replicas": 3, "ordinals": None, "x": True, "image": "a:b", "s": "yes", "l": [1.5]}}) == \
        '{spec: {replicas: 3, ordinals: null, x: true, image: "a:b", s: "yes", l: [1.5]}}'


# --------------------------------------------------------------------------- properties

_names = st.sampled_from(["a", "b", "c", "d"])
_container = st.fixed_dictionaries(
    {"image": st.sampled_from(["nginx:1", "nginx:2"])},
    optional={"ports": st.lists(st.integers(1, 5), unique=True).map(lambda ps: [{"containerPort": p} for p in ps]),
              "env": st.lists(_names, unique=True).map(lambda ns: [{"name": n, "value": n} for n in ns]),
              "command": st.lists(st.sampled_from(["x", "y"]), max_size=2)})
_containers = st.lists(st.tuples(_names, _container), unique_by=lambda t: t[0], min_size=1, max_size=3).map(
    lambda items: [dict(c, name=n) for n, c in items])
documents = st.builds(lambda cs, tol, labels, fin: {
    "apiVersion": "apps/v1", "kind": "StatefulSet",
    "metadata": {"name": "web", "labels": labels, "finalizers": fin},
    "spec": {"replicas": 1, "template": {"spec": {"containers": cs, "tolerations": tol}}}},
    _containers, st.lists(st.fixed_dictionaries({"key": _names}), max_size=2),
    st.dictionaries(_names, _names, max_size=2), st.lists(_names, unique=True, max_size=2))
patches = st.builds(lambda cs, labels: {"metadata": {"labels": labels}, "spec": {"template": {"spec": {"containers": cs}}}},
                    _containers, st.dictionaries(_names, st.one_of(st.none(), _names), max_size=2))


@given(documents)
def test_an_empty_patch_is_the_identity(doc: dict[str, Any]) -> None:
    assert strategic_merge_patch(doc, {}) == doc
    assert merge_patch(doc, {}) == doc
    assert json_patch(doc, []) == doc


@given(documents)
def test_patching_an_object_with_itself_changes_nothing(doc: dict[str, Any]) -> None:
    assert strategic_merge_patch(doc, doc) == doc
    assert merge_patch(doc, doc) == doc


@given(documents, patches)
def test_a_strategic_patch_is_idempotent_and_keeps_unnamed_containers(doc: dict[str, Any], patch: dict[str, Any]) -> None:
    once = strategic_merge_patch(doc, patch)
    assert strategic_merge_patch(once, patch) == once
    named = {c["name"] for c in containers(patch)}
    for c in containers(doc):
        if c["name"] not in named:
            assert c in containers(once)
    for c in containers(patch):  # every field the patch sets is in the result; the others are kept
        merged = next(m for m in containers(once) if m["name"] == c["name"])
        old = next((m for m in containers(doc) if m["name"] == c["name"]), {})
        assert merged["image"] == c["image"]
        assert set(old) | set(c) == set(merged)


_maybe_unknown = st.sampled_from(["image", "imagePullPolicy", "imagee", "tty", "ttyy"])
checked_patches = st.builds(
    lambda names, keys, top: {**({"spec": {"template": {"spec": {"containers": [
        {"name": n, k: "x"} for n, k in zip(names, keys)]}}}}), **({top: {}} if top else {})},
    st.lists(_names, unique=True, min_size=1, max_size=3), st.lists(_maybe_unknown, min_size=3, max_size=3),
    st.sampled_from(["", "metadata", "status", "spek"]))


@given(documents, checked_patches)
def test_check_patch_finds_exactly_the_unknown_fields_the_patched_object_gains(doc: dict[str, Any],
                                                                               patch: dict[str, Any]) -> None:
    before = set(map(field_path, unknown_fields(doc, "StatefulSet")))
    gained = [p for p in map(field_path, unknown_fields(strategic_merge_patch(doc, patch), "StatefulSet")) if p not in before]
    reported = check_patch(patch, "strategic")
    assert len(reported) == len(gained)
    assert sorted(p[-1] for p, _ in reported) == sorted(g.rsplit(".", 1)[-1] for g in gained)

"""Every rendered manifest of every kustomization against the Kubernetes API schemas that
kubernetes-validate ships (strict: an unknown field is an error), offline.

KEDA's ScaledObject is not a Kubernetes kind and has no schema there: it is skipped here by
name and its fields are checked by tests/deploy/test_k8s_keda.py.
"""

from __future__ import annotations

import copy
from pathlib import Path

import kubernetes_validate
import pytest

from .k8s import KUSTOMIZATIONS, Obj, Rendered, deployments, render

# A version current clusters run; kubernetes-validate ships the schemas of each release.
KUBERNETES_VERSION = "1.32.0"
NOT_KUBERNETES = {"ScaledObject"}  # keda.sh/v1alpha1: test_k8s_keda.py


def manifests(rendered: Rendered) -> list[Obj]:
    """The rendered objects and the generated ConfigMaps, as the API server would get them."""
    config_maps: list[Obj] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}
        for name, data in rendered.config_maps.items()
    ]
    return rendered.objects + config_maps


def errors(obj: Obj) -> list[str]:
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{obj['kind']}/{obj['metadata']['name']}: {error.message}"]
    return []


@pytest.mark.parametrize("directory", KUSTOMIZATIONS.values(), ids=KUSTOMIZATIONS.keys())
def test_every_manifest_follows_the_kubernetes_schemas(directory: Path) -> None:
    rendered = render(directory)
    objects = manifests(rendered)
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Service", "PodDisruptionBudget", "Job", "ConfigMap"} <= kinds
    checked = [o for o in objects if o["kind"] not in NOT_KUBERNETES]
    assert [e for o in checked for e in errors(o)] == []
    skipped = {o["kind"] for o in objects} - {o["kind"] for o in checked}
    assert skipped <= NOT_KUBERNETES


def test_the_schema_check_catches_a_misplaced_field(base: Rendered) -> None:
    deployment = copy.deepcopy(deployments(base)["gate"])
    deployment["spec"]["replica"] = deployment["spec"].pop("replicas")
    assert errors(deployment), "an unknown field passed"
    deployment = copy.deepcopy(deployments(base)["gate"])
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["ports"][0]["containerPort"] = "8003"
    assert errors(deployment), "a port as a string passed"

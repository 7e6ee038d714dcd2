"""The rendered kustomizations, shared by the manifest tests of this folder."""

from __future__ import annotations

import pytest

from .k8s import K8S, SANDBOX_OVERLAY, Rendered, render


@pytest.fixture(scope="session")
def base() -> Rendered:
    return render(K8S)


@pytest.fixture(scope="session")
def sandbox() -> Rendered:
    return render(SANDBOX_OVERLAY)

"""The rendered kustomizations, shared by the manifest tests of this folder."""

from __future__ import annotations

import pytest

from .k8s import DEV_OVERLAY, K8S, PROD_OVERLAY, SANDBOX_OVERLAY, Rendered, render


@pytest.fixture(scope="session")
def base() -> Rendered:
    return render(K8S)


@pytest.fixture(scope="session")
def sandbox() -> Rendered:
    return render(SANDBOX_OVERLAY)


@pytest.fixture(scope="session")
def dev() -> Rendered:
    return render(DEV_OVERLAY)


@pytest.fixture(scope="session")
def prod() -> Rendered:
    return render(PROD_OVERLAY)

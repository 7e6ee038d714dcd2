"""The rendered kustomizations, shared by the manifest tests of this folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from .k8s import DEV_OVERLAY, K8S, PROD_OVERLAY, SANDBOX_OVERLAY, Rendered, render


def _rendered(directory: Path) -> object:
    """A fixture, named by the attribute it is bound to, rendering `directory` once a session."""

    def rendered() -> Rendered:
        return render(directory)

    return pytest.fixture(scope="session")(rendered)


base = _rendered(K8S)
sandbox = _rendered(SANDBOX_OVERLAY)
dev = _rendered(DEV_OVERLAY)
prod = _rendered(PROD_OVERLAY)

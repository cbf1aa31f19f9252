from __future__ import annotations

import pytest

from xlfunding.settings import Settings, load_settings
from xlfunding.write.libreoffice import find_soffice


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """LibreOffice tests are skipped only when soffice is missing and CI is not set."""
    import os

    if find_soffice() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason="LibreOffice (soffice) absent")
    for item in items:
        if "libreoffice" in item.keywords:
            item.add_marker(skip)

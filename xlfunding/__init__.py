"""xlfunding: the politique de la ville funding programme, from sponsors' Excel templates to the
council's annex.

Heavy modules (pandas, pandera, openpyxl) are imported only when their function is first used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_settings": "xlfunding.settings",
    "Settings": "xlfunding.settings",
    "Funder": "xlfunding.settings",
    "Action": "xlfunding.model",
    "Programme": "xlfunding.model",
    "Location": "xlfunding.model",
    "parse_amount": "xlfunding.money",
    "format_euros": "xlfunding.money",
    "write_template": "xlfunding.write.template",
    "write_all_sponsors": "xlfunding.write.template",
    "XlfundingError": "xlfunding.errors",
    "Problem": "xlfunding.problems",
    "Report": "xlfunding.problems",
    "Severity": "xlfunding.problems",
    "read_template": "xlfunding.read.template",
    "validate_file": "xlfunding.validate",
    "validate_files": "xlfunding.validate",
    "write_corrections": "xlfunding.write.corrections",
    "write_annex": "xlfunding.write.annex",
    "export_pdf": "xlfunding.write.annex",
    "read_annex": "xlfunding.read.annex",
    "consolidate": "xlfunding.month.consolidate",
    "import_annex": "xlfunding.year.importer",
    "write_import": "xlfunding.year.prefilled",
    "renew": "xlfunding.year.renew",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'xlfunding' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

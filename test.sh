#!/usr/bin/env bash
# Lint, type-check and test xlfunding. Installs LibreOffice (Debian) when missing and we are
# root, because the tests let a real spreadsheet engine recompute every formula we write.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui poppler-utils >/dev/null
  else
    echo "LibreOffice absent : les tests qui recalculent les formules seront ignorés." >&2
  fi
fi
# The drop zone's browser tests drive Debian's headless chromium through its chromedriver.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  else
    echo "Chromium absent : les tests du site dans un navigateur seront ignorés." >&2
  fi
fi
PY=${PYTHON:-.venv/bin/python}
if [ ! -x "$PY" ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q -e '.[test]'
fi
"$PY" -m ruff check xlfunding tests benchmarks examples
"$PY" -m mypy
"$PY" -m pytest -q "$@"

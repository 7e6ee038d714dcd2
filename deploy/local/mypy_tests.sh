#!/usr/bin/env bash
# mypy (strict, the project's config) over each package's own tests: services/*/tests,
# libs/*/tests, apps/*/tests. One run per folder: they have no __init__.py and share module
# names (conftest, factories ...), which one run cannot hold ("Duplicate module named
# conftest"). `uv run mypy` alone still checks what pyproject.toml lists; the cache is shared.
# Every folder is checked; the script fails if any has an error.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
failed=()
folders=(services/*/tests libs/*/tests apps/*/tests)
for dir in "${folders[@]}"; do
  if ! out=$(uv run mypy "$dir" 2>&1); then
    printf '%s\n' "$out"
    failed+=("$dir")
  fi
done
if ((${#failed[@]})); then
  echo "mypy: type errors in ${failed[*]}" >&2
  exit 1
fi
echo "mypy: the packages' tests type-check (${#folders[@]} folders)"

#!/usr/bin/env bash
# Checks that every tracked C++ file is formatted as .clang-format says (clang-format-14).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format-14 >/dev/null || { echo "clang-format-14 not installed"; exit 1; }
out=$(git ls-files '*.cpp' '*.hpp' | xargs clang-format-14 --dry-run 2>&1 | grep 'warning:' || true)
if [ -n "$out" ]; then
  echo "$out" | cut -d: -f1 | sort -u | sed 's/^/not formatted: /'
  echo "fix with: git ls-files '*.cpp' '*.hpp' | xargs clang-format-14 -i"
  exit 1
fi
echo "format: all files formatted"

#!/usr/bin/env bash
# The long fuzz target: builds Release, then runs only the tests in Category=Fuzz with many more iterations than the
# default test run (each honours HIBARI_FUZZ_ITERATIONS; the default suite uses 5,000). Binds no fixed ports (the
# live-port API fuzz test starts an in-process node on free ones), so it is safe next to other worktrees' runs.
#   scripts/fuzz.sh                              # 100,000 iterations per fuzz test
#   HIBARI_FUZZ_ITERATIONS=1000000 scripts/fuzz.sh
# Extra arguments go to dotnet test (the filter is fixed; e.g. --blame-hang-timeout 30m).
set -euo pipefail
cd "$(dirname "$0")/.."

export HIBARI_FUZZ_ITERATIONS=${HIBARI_FUZZ_ITERATIONS:-100000}

dotnet build tests/Hibari.Tests/Hibari.Tests.csproj -c Release -nologo -v quiet

log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
set +e
dotnet test tests/Hibari.Tests -c Release --no-build -nologo --filter "Category=Fuzz" \
  --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
elapsed=$(( $(date +%s) - start ))

# Summary: each test with its outcome and duration, then one closing line.
echo
echo "== fuzz summary (HIBARI_FUZZ_ITERATIONS=$HIBARI_FUZZ_ITERATIONS) =="
grep -E '^\s+(Passed|Failed|Skipped) ' "$log" | sed -E 's/^\s+/  /' || true
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
echo "fuzz: $passed passed, $failed failed in ${elapsed}s (exit $status)"
exit "$status"

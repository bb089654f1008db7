#!/usr/bin/env bash
# pgpreflight in any CI: lint what changed since the base branch, then check it on a scratch
# PostgreSQL that pgpreflight starts itself, and keep the reports.
#
#   BASE_REF=origin/main OUT_DIR=pgpreflight-out examples/ci/pgpreflight-ci.sh
#
# Exit code: 0 when ready to deploy, 1 when a finding or the database check fails, 2 on misuse.
#
# pgpreflight must be installed first. It is not on PyPI yet: install it from its repository,
# pinned to a commit you reviewed (replace <owner> and <commit>; a tag once releases exist):
#   pip install "pgpreflight @ git+https://github.com/<owner>/pgpreflight@<commit>"
set -euo pipefail

BASE_REF="${BASE_REF:-origin/main}"
OUT_DIR="${OUT_DIR:-pgpreflight-out}"
mkdir -p "$OUT_DIR"

status=0
# JUnit for the CI's test view (never fails the step), then the human-readable run that does.
pgpreflight lint --changed-since "$BASE_REF" --format junit --output "$OUT_DIR/lint-junit.xml" --exit-zero
pgpreflight lint --changed-since "$BASE_REF" || status=$?
if [ "$status" -ge 2 ]; then exit "$status"; fi

pgpreflight check --changed-since "$BASE_REF" --scratch --quiet \
    --report "$OUT_DIR/report.html" --markdown "$OUT_DIR/comment.md" --json "$OUT_DIR/result.json" || status=$?
echo "pgpreflight: report in $OUT_DIR/report.html"
exit "$status"

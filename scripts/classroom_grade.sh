#!/usr/bin/env bash
# Grade a GitHub Classroom submission with the course's pinned grader, never the student's copy of it.
#
# The instructor records the course repository and the version the class started from once, in
# .github/workflows/classroom.yml (COURSE_REPOSITORY, COURSE_VERSION). This script fetches exactly that
# version into a private folder, runs `course grade` from it, and lets the notebooks import only the
# student's copy of the library, with the student's checks hidden from them. Arguments go to `course grade`.
#
#   COURSE_REPOSITORY=https://github.com/OWNER/REPO.git COURSE_VERSION=v0.2.0 \
#     scripts/classroom_grade.sh exercises/*.ipynb --json grades.json
set -euo pipefail

: "${COURSE_REPOSITORY:?set COURSE_REPOSITORY to the course repository the class uses (recorded by the instructor)}"
: "${COURSE_VERSION:?set COURSE_VERSION to the tag or commit the class started from (recorded by the instructor)}"
PYTHON=${PYTHON:-python}
STUDENT=$(pwd)

grader=$(mktemp -d "${TMPDIR:-/tmp}/course-grader-XXXXXXXX")
trap 'rm -rf "$grader"' EXIT
chmod 700 "$grader"
git init -q "$grader/src"
if ! git -C "$grader/src" fetch -q --depth 1 "$COURSE_REPOSITORY" "$COURSE_VERSION" 2>"$grader/fetch.log"; then
  echo "::error title=Grader not found::cannot fetch $COURSE_VERSION from $COURSE_REPOSITORY: $(tail -1 "$grader/fetch.log")" >&2
  exit 2
fi
git -C "$grader/src" -c advice.detachedHead=false checkout -q FETCH_HEAD
commit=$(git -C "$grader/src" rev-parse HEAD)
echo "graded by $COURSE_REPOSITORY at $COURSE_VERSION (commit $commit)"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  echo "Graded by \`$COURSE_REPOSITORY\` at \`$COURSE_VERSION\` (commit \`$commit\`)." >> "$GITHUB_STEP_SUMMARY"
fi

set +e
PYTHONPATH="$grader/src" COURSE_GRADER_REFERENCE="$COURSE_REPOSITORY@$COURSE_VERSION ($commit)" \
  "$PYTHON" -P -m course_lib.grading.cli "$@" \
  --learner-python "$(command -v "$PYTHON")" \
  --learner-path "$STUDENT" \
  --hide "$STUDENT/course_lib/grading/checks"
code=$?
set -e
exit $code

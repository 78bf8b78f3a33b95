#!/usr/bin/env bash
# require-ci-success.sh lets a deploy go ahead only when the CI workflow succeeded for the very
# commit being deployed (waiting while it still runs), and prod only from main.
#
# Environment:
#   SHA                the commit to deploy
#   DEPLOY_ENV         dev, qa or prod
#   GITHUB_REF         the ref the deploy was started from (prod: refs/heads/main only)
#   GITHUB_REPOSITORY  owner/repo; GH_TOKEN a token with actions:read
#   CI_WORKFLOW        the CI workflow file (default ci.yml)
#   CI_WAIT_SECONDS    how long to wait for a running CI (default 5400, CI's own cap)
#   CI_POLL_SECONDS    between two looks (default 30)
set -euo pipefail

if [[ "$DEPLOY_ENV" == prod && "$GITHUB_REF" != refs/heads/main ]]; then
  echo "::error::prod deploys only from main; this run is on $GITHUB_REF"
  exit 1
fi

workflow=${CI_WORKFLOW:-ci.yml}
deadline=$((SECONDS + ${CI_WAIT_SECONDS:-5400}))
while true; do
  runs=$(gh api "repos/$GITHUB_REPOSITORY/actions/workflows/$workflow/runs?head_sha=$SHA&per_page=100" \
    --jq '[.workflow_runs[] | {status, conclusion}]')
  if jq -e 'any(.[]; .conclusion == "success")' <<<"$runs" > /dev/null; then
    echo "CI ($workflow) succeeded for $SHA"
    exit 0
  fi
  running=$(jq '[.[] | select(.status != "completed")] | length' <<<"$runs")
  finished=$(jq '[.[] | select(.status == "completed")] | length' <<<"$runs")
  if ((running == 0 && finished > 0)); then
    echo "::error::CI ($workflow) did not succeed for $SHA ($(jq -r '[.[].conclusion] | unique | join(", ")' <<<"$runs")): not deploying"
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "::error::no successful CI ($workflow) run for $SHA within the wait: not deploying"
    exit 1
  fi
  echo "CI for $SHA: $running running, waiting"
  sleep "${CI_POLL_SECONDS:-30}"
done

#!/usr/bin/env bash
# notify-failure.sh posts to Slack which jobs of this run failed (e.g. "build and push the image",
# "roll <release>", "smoke check through the load balancer", "apply prod"), so the message says what
# broke without opening the run. Without SLACK_WEBHOOK_URL it prints the message and exits 0.
#
# Environment:
#   WHAT               what this run was doing, e.g. "deploy of 0123abcd to qa" or "terraform apply of prod"
#   SLACK_WEBHOOK_URL  optional incoming-webhook URL (a secret of the notifications environment)
#   GH_TOKEN           token with actions:read, for listing this run's jobs
#   GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_SERVER_URL, GITHUB_ACTOR  set by GitHub Actions
set -euo pipefail

run_url="$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"
failed=$(gh api --paginate "repos/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID/jobs?per_page=100" \
  --jq '.jobs[] | select(.conclusion == "failure") | .name' | paste -sd, - | sed 's/,/, /g') || failed=""
text=":rotating_light: ${WHAT} failed at: ${failed:-(see the run)}. Started by ${GITHUB_ACTOR:-?}. Run: $run_url"
echo "$text"
if [[ -z "${SLACK_WEBHOOK_URL:-}" ]]; then
  echo "No SLACK_WEBHOOK_URL secret: skipping Slack."
  exit 0
fi
jq -n --arg text "$text" '{text: $text}' > slack.json
curl -fsS --retry 3 --max-time 20 -H 'Content-Type: application/json' --data @slack.json "$SLACK_WEBHOOK_URL" \
  || echo "::warning::Slack did not accept the message"

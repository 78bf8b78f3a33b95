#!/usr/bin/env bash
# running-migrations.sh prints the --running argument of `migrate_safely --check-contract`:
# for each release in releases.json that is already installed, variant=app.migration for the
# newest migration of every app in the commit its image was built from (image tags are commit
# SHAs, so git knows what code each release runs). Needs a full clone (fetch-depth: 0).
set -euo pipefail
releases_file=${1:?usage: running-migrations.sh releases.json}

items=()
while read -r release; do
  name=$(jq -r '.name' <<<"$release")
  namespace=$(jq -r '.namespace' <<<"$release")
  variant=$(jq -r '.variant' <<<"$release")
  tag=$(helm get values "$name" --namespace "$namespace" -o json 2>/dev/null | jq -r '.image.tag // empty' || true)
  if [[ -z "$tag" ]]; then
    echo "$name: not installed yet, nothing running" >&2
    continue
  fi
  if ! git cat-file -e "${tag}^{commit}" 2>/dev/null; then
    echo "::error::$name runs image tag $tag, which is not a commit of this repository; cannot tell which migrations it knows" >&2
    exit 1
  fi
  echo "$name runs $tag" >&2
  # Newest migration per app in that commit: app/<app>/migrations/NNNN_name.py.
  while read -r leaf; do
    items+=("$variant=$leaf")
  done < <(git ls-tree -r --name-only "$tag" -- app \
    | sed -nE 's#^app/([^/]+)/migrations/([0-9]{4}_[A-Za-z0-9_]+)\.py$#\1 \2#p' \
    | sort -k1,1 -k2,2 | awk '{last[$1]=$2} END {for (a in last) print a "." last[a]}' | sort)
done < <(jq -c '.[]' "$releases_file")

(IFS=,; echo "${items[*]}")

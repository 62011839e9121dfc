#!/usr/bin/env bash
# A migration is never edited once it is on main: each file must read as it did in the first commit of main's
# first-parent history that contained it (so a branch may still amend its own migration before it merges).
# Migrations older than this rule are held to their content at the commit that introduced it.
set -euo pipefail
cd "$(dirname "$0")/.."
rule_introduced=32f0eb568c98e996306948abc53f0e41dae244c0
if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
  echo "shallow clone: cannot check that committed migrations are unchanged (fetch the full history)"
  exit 1
fi
status=0
for file in migrations/[0-9]*.ts; do
  first=$(git log --first-parent --format=%H -- "$file" | tail -n 1) # the oldest; tail reads all, so no SIGPIPE
  [ -n "$first" ] || continue # not committed yet
  if git merge-base --is-ancestor "$first" "$rule_introduced"; then first=$rule_introduced; fi
  if ! git diff --quiet "$first" -- "$file"; then
    echo "$file differs from its committed version (${first:0:12}): add a new migration instead of editing it"
    status=1
  fi
done
[ "$status" = 0 ] && echo "committed migrations are unchanged"
exit "$status"

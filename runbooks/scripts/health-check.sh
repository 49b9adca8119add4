#!/bin/bash
# Approved health check: reads a service's status snapshot (key=value lines)
# and fails if any component is not up. Usage: health-check.sh SERVICE
set -euo pipefail
service=${1:?usage: health-check.sh SERVICE}
file="health-check/${service}.status"
if [ ! -f "$file" ]; then
  echo "unknown service: $service" >&2
  exit 2
fi
down=0
while IFS='=' read -r component state; do
  [ -z "$component" ] && continue
  printf '%-10s %s\n' "$component" "$state"
  if [ "$state" != up ]; then
    down=$((down + 1))
  fi
done < "$file"
echo "$down down"
[ "$down" -eq 0 ]

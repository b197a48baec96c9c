#!/usr/bin/env bash
# Start rotel (PyPI `rotel`, binary in the wheel) with the llmobserve pricing processor.
#
#   collector-config/rotel/start-rotel.sh local-collector   # -> `llmobserve-otel collector --no-pricing --port 4320`
#   collector-config/rotel/start-rotel.sh clickhouse        # -> a ClickHouse server (prepared with `llmobserve-otel schema`)
#
# Settings come from <variant>.env beside this script; a ROTEL_* variable already set in the
# environment wins over the file. Extra arguments go to `rotel start` (flags win over both).
# PYTHON (default python3) must be the interpreter of the environment where llmobserve-otel and
# rotel are installed; its prefix becomes VIRTUAL_ENV, which the processor puts on rotel's sys.path.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
variant="${1:?usage: start-rotel.sh local-collector|clickhouse [rotel start flags...]}"
shift
env_file="$here/$variant.env"
if [[ ! -f "$env_file" ]]; then
  echo "start-rotel.sh: no such variant: $variant (expected local-collector or clickhouse)" >&2
  exit 2
fi

while IFS='=' read -r key value || [[ -n "$key" ]]; do
  [[ -z "$key" || "$key" == \#* ]] && continue
  if [[ -z "${!key+x}" ]]; then
    export "$key=$value"
  fi
done <"$env_file"

python="${PYTHON:-python3}"
if [[ -z "${VIRTUAL_ENV:-}" ]]; then
  VIRTUAL_ENV="$("$python" -c 'import sys; print(sys.prefix)')"
fi
export VIRTUAL_ENV
export ROTEL_OTLP_WITH_TRACE_PROCESSOR="${ROTEL_OTLP_WITH_TRACE_PROCESSOR:-$here/../../pricing_processor/llmobserve_pricing.py}"
rotel="${ROTEL_BIN:-$("$python" -c 'import pathlib, rotel; print(pathlib.Path(rotel.__file__).parent / "rotel-agent")')}"

exec "$rotel" start "$@"

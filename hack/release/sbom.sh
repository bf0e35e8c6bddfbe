#!/usr/bin/env bash
# sbom.sh <image> <output.json>: a CycloneDX SBOM (spec 1.6, JSON) of the Python environment
# inside <image> (/opt/venv), made by the image's own interpreter with the CycloneDX tool pinned
# in hack/release/sbom-requirements.txt (installed once under .local/release/sbom-tool).
# The tool is on that process's sys.path only, not PYTHONPATH, so the environment it inspects
# does not list it. Used by make release-local and by the release workflow.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
image="${1:?usage: sbom.sh <image> <output.json>}"
output="${2:?usage: sbom.sh <image> <output.json>}"
tool="$repo/.local/release/sbom-tool"
if [[ ! -f "$tool/.installed" ]] || ! cmp -s "$here/sbom-requirements.txt" "$tool/.installed"; then
  rm -rf "$tool"
  uv="$(command -v uv || echo "$repo/.venv/bin/uv")"
  python="$(command -v python3.11 || command -v python3)"
  [[ -x "$repo/.venv/bin/python" ]] && python="$repo/.venv/bin/python"
  "$uv" pip install -q --target "$tool" --require-hashes -r "$here/sbom-requirements.txt" \
    --python "$python"
  cp "$here/sbom-requirements.txt" "$tool/.installed"
fi
docker run --rm --network none --entrypoint /opt/venv/bin/python -v "$tool:/sbom:ro" "$image" -c \
  "import runpy, sys; sys.path.insert(0, '/sbom'); sys.argv = ['cyclonedx-py', 'environment', '--spec-version', '1.6', '--output-format', 'JSON', '--output-file', '-', '/opt/venv/bin/python']; runpy.run_module('cyclonedx_py', run_name='__main__')" \
  > "$output"
python3 - "$output" <<'PY'
import json, sys
names = {c["name"] for c in json.load(open(sys.argv[1]))["components"]}
missing = {"eks-oidc-operator", "kopf", "boto3"} - names
sys.exit(f"the SBOM lacks {sorted(missing)}" if missing else 0)
PY

#!/bin/sh
# The image's install step, shared with tests/image (which runs it in a clean directory): the
# operator and its runtime dependencies, exactly as pinned in uv.lock, into the virtualenv $1.
set -eu
UV_PROJECT_ENVIRONMENT="$1" "${UV:-uv}" sync --frozen --no-dev --no-editable --compile-bytecode

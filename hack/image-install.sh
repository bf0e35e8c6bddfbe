#!/bin/sh
# The image's install step, shared with tests/image (which runs it in a clean directory): the
# operator and its runtime dependencies, exactly as pinned in uv.lock, into the virtualenv $1.
set -eu
# The interpreter is the one at hand (the base image's), never one uv would download.
UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT="$1" "${UV:-uv}" sync --frozen --no-dev --no-editable --compile-bytecode

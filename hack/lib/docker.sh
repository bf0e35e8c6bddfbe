# Shared by the scripts that talk to Docker (sourced, not run): the project's own daemon
# (hack/docker/dockerd.sh) unless the caller chose another DOCKER_HOST.
docker_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export DOCKER_HOST="${DOCKER_HOST:-unix://$docker_repo/.local/docker.sock}"

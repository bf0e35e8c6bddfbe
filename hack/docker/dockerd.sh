#!/usr/bin/env bash
# The project's own Docker daemon: up | down | status | install.
#
# Why a daemon of our own: kind needs a Docker engine, and these machines have none running.
# This one is Debian's dockerd (package docker.io, installed here when missing) with everything
# of its own, so it touches no other daemon on the machine:
#   socket      .local/docker.sock of this checkout (DOCKER_HOST=unix://$PWD/.local/docker.sock)
#   data root   $EKS_OIDC_CACHE/docker (images survive a fresh clone: the node image is built once)
#   exec root   /run/eks-oidc-docker, pid file /run/eks-oidc-docker.pid
#   containerd  one of its own (root in the data root, socket under /run/eks-oidc-containerd):
#               dockerd 20.10 would otherwise use a system containerd it finds running
#   networks    --bridge=none (no default bridge), its own address pool, iptables and ip6tables
#               off: no NAT and no forwarding rules, so no container reaches anything outside the
#               machine; ports are published to 127.0.0.1 by docker-proxy
#   runtime     eks-oidc-runc (hack/docker/runtime): runc minus the capabilities this machine's
#               bounding set lacks, which kind's privileged nodes would otherwise fail to get
# One data root serves one daemon: a second checkout reuses the running daemon's socket.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=../lib/gobuild.sh
source "$here/../lib/gobuild.sh"

socket="$repo/.local/docker.sock"
data_root="$cache/docker"
exec_root=/run/eks-oidc-docker
pidfile=/run/eks-oidc-docker.pid
log="$repo/.local/dockerd.log"
containerd_state=/run/eks-oidc-containerd
containerd_socket="$containerd_state/containerd.sock"
containerd_pidfile="$containerd_state.pid"
# A /16 split into /24s, away from the ranges Docker and kind default to.
address_pool="${EKS_OIDC_DOCKER_POOL:-base=10.213.0.0/16,size=24}"

running_pid() {  # running_pid [pid file]: the pid that file names, if that process still is
  # the program it was written for (a stale file's pid may belong to another process by now)
  local file="${1:-$pidfile}" pid program
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  program="$(basename "$file" .pid)"  # eks-oidc-docker -> dockerd, eks-oidc-containerd -> containerd
  program="${program#eks-oidc-}"
  [[ "$program" == docker ]] && program=dockerd
  [[ -n "$pid" ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$program" ]] && echo "$pid"
}

stop() {  # stop <pid file>: SIGTERM, SIGKILL after 60 s; the pid file goes either way
  local file="$1" pid deadline=$((SECONDS + 60))
  if pid="$(running_pid "$file")"; then
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
      (( SECONDS < deadline )) || { kill -9 "$pid"; break; }
      sleep 0.5
    done
  fi
  rm -f "$file"
}

start_containerd() {
  running_pid "$containerd_pidfile" >/dev/null && [[ -S "$containerd_socket" ]] && return
  mkdir -p "$containerd_state" "$data_root/containerd"
  # Only what dockerd needs of it: no CRI (that is the kind nodes' own containerd's job).
  printf 'version = 2\nroot = "%s"\nstate = "%s"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "%s"\n' \
    "$data_root/containerd" "$containerd_state" "$containerd_socket" > "$containerd_state.toml"
  setsid nohup containerd --config "$containerd_state.toml" >"$repo/.local/containerd.log" 2>&1 < /dev/null &
  echo $! > "$containerd_pidfile"
  local deadline=$((SECONDS + 30))
  until [[ -S "$containerd_socket" ]]; do
    if (( SECONDS > deadline )); then
      echo "dockerd.sh: containerd did not start; its log:" >&2
      tail -n 20 "$repo/.local/containerd.log" >&2
      stop "$containerd_pidfile"
      exit 1
    fi
    sleep 0.2
  done
}

answers() { DOCKER_HOST="unix://$1" docker version >/dev/null 2>&1; }

install() {
  if command -v dockerd >/dev/null && command -v containerd >/dev/null && [[ -x /usr/sbin/runc ]] &&
      command -v docker-proxy >/dev/null; then
    return
  fi
  [[ $EUID -eq 0 ]] || { echo "dockerd.sh: installing docker.io needs root (apt-get)" >&2; exit 1; }
  echo "installing Debian's docker.io (dockerd, runc, docker-proxy)" >&2
  # The package would start the system's own docker service; this project never wants that
  # daemon, so a policy-rc.d forbids service starts for the length of the install.
  local policy=/usr/sbin/policy-rc.d made_policy=""
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
  fi
  (apt-get install -y -q --no-install-recommends docker.io runc >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends docker.io runc >/dev/null; }) ||
    { [[ -z "$made_policy" ]] || rm -f "$policy"; echo "dockerd.sh: apt-get install docker.io failed" >&2; exit 1; }
  [[ -z "$made_policy" ]] || rm -f "$policy"
  # Nor at the next boot of a systemd host: the package enables its units.
  if [[ -n "$made_policy" ]] && command -v systemctl >/dev/null; then
    systemctl disable docker.service docker.socket containerd.service >/dev/null 2>&1 || true
  fi
}

up() {
  mkdir -p "$repo/.local"
  if [[ -n "${DOCKER_HOST:-}" && "$DOCKER_HOST" != "unix://$socket" ]]; then
    # The caller named another daemon (a laptop's Docker, say): use it, start nothing.
    docker version >/dev/null 2>&1 || { echo "dockerd.sh: DOCKER_HOST=$DOCKER_HOST does not answer" >&2; exit 1; }
    return
  fi
  if answers "$socket"; then
    return
  fi
  local pid
  if pid="$(running_pid)"; then
    # Another checkout's daemon owns the data root: share it through a link to its socket.
    local other
    other="$(tr '\0' '\n' < "/proc/$pid/cmdline" | sed -n 's|^unix://||p' | head -n 1)"
    if [[ -n "$other" && "$other" != "$socket" ]] && answers "$other"; then
      ln -sfn "$other" "$socket"
      echo "using the project's Docker daemon of another checkout ($other)" >&2
      return
    fi
    echo "dockerd.sh: a daemon (pid $pid) holds $pidfile but does not answer; run make docker-down" >&2
    exit 1
  fi
  install
  # Keyed by its source, so an edit of the wrapper rebuilds it.
  gobuild "$here/runtime" eks-oidc-runc "$(cat "$here/runtime/main.go" "$here/runtime/go.mod" | sha256sum | cut -c1-8)" \
    . "-s -w" CGO_ENABLED=0
  local runc_wrapper="$built"
  rm -f "$socket"
  # An empty daemon.json: nothing of the machine's /etc/docker/daemon.json applies to this one.
  echo '{}' > "$repo/.local/dockerd.json"
  mkdir -p "$data_root"
  echo "starting the project's Docker daemon (socket $socket, data root $data_root)" >&2
  start_containerd
  setsid nohup dockerd \
    --config-file "$repo/.local/dockerd.json" \
    --host "unix://$socket" \
    --containerd "$containerd_socket" \
    --data-root "$data_root" \
    --exec-root "$exec_root" \
    --pidfile "$pidfile" \
    --iptables=false --ip6tables=false --ip-masq=false --bridge=none \
    --default-address-pool "$address_pool" \
    --add-runtime "eks-oidc-runc=$runc_wrapper" --default-runtime eks-oidc-runc \
    --storage-driver overlay2 \
    >"$log" 2>&1 < /dev/null &
  local deadline=$((SECONDS + 60))
  until answers "$socket"; do
    if (( SECONDS > deadline )); then
      echo "dockerd.sh: the daemon did not answer within 60 s; its log:" >&2
      tail -n 30 "$log" >&2
      stop "$pidfile"
      stop "$containerd_pidfile"
      exit 1
    fi
    sleep 0.5
  done
}

down() {
  if [[ -L "$socket" ]]; then
    rm -f "$socket"  # another checkout's daemon: not ours to stop
    return
  fi
  # dockerd stops its containers first (kind's nodes shut systemd down: a few seconds).
  stop "$pidfile"
  stop "$containerd_pidfile"
  rm -f "$socket"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  install) install ;;
  status)
    if answers "$socket"; then
      echo "running: DOCKER_HOST=unix://$socket (data root $data_root)"
    else
      echo "not running"; exit 1
    fi ;;
  *) echo "usage: $0 up|down|status|install" >&2; exit 2 ;;
esac

# Shared by the image scripts (sourced, not run): Debian root filesystems as Docker images,
# made with debootstrap from this machine's own Debian mirror, since no image can be pulled.
#
# debian_image <name> <package> ... ensures the image eks-oidc/<name>:bookworm-<key> exists in
# the daemon at $DOCKER_HOST (key: the package list and this file), and sets $image to it. A
# second call with the same list costs a `docker image inspect`.

debian_suite=bookworm

debian_mirror() {
  # A Debian host is assumed (the images are Debian 12, made by debootstrap from a Debian mirror;
  # elsewhere set EKS_OIDC_DEBIAN_MIRROR). The first Debian archive this machine's apt uses (deb822 or one-line sources), so a build
  # follows whatever mirror the machine is set up with.
  if [[ -n "${EKS_OIDC_DEBIAN_MIRROR:-}" ]]; then echo "$EKS_OIDC_DEBIAN_MIRROR"; return; fi
  local uri
  uri="$(grep -h -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1)"
  [[ -n "$uri" ]] || uri="$(grep -h -E '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1)"
  [[ -n "$uri" ]] || { echo "no Debian mirror in /etc/apt (set EKS_OIDC_DEBIAN_MIRROR)" >&2; return 1; }
  echo "$uri"
}

debian_image() {  # debian_image <name> <package> ...
  local name="$1"
  shift
  local key
  key="$(printf '%s\n' "$debian_suite" "$@" | cat - "${BASH_SOURCE[0]}" | sha256sum | cut -c1-10)"
  image="eks-oidc/$name:$debian_suite-$key"
  if docker image inspect "$image" >/dev/null 2>&1; then
    return
  fi
  command -v debootstrap >/dev/null || {
    [[ $EUID -eq 0 ]] || { echo "debootstrap is needed (apt-get install debootstrap)" >&2; return 1; }
    apt-get install -y -q --no-install-recommends debootstrap >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends debootstrap >/dev/null; }
  }
  local root start=$SECONDS mirror
  mirror="$(debian_mirror)"
  root="$(mktemp -d "${TMPDIR:-/tmp}/eks-oidc-rootfs.XXXXXX")"
  echo "debootstrap $debian_suite for $image (first time only)" >&2
  local includes
  includes="$(IFS=,; echo "$*")"
  if ! debootstrap --variant=minbase ${includes:+--include="$includes"} \
      "$debian_suite" "$root" "$mirror" >"$root.log" 2>&1; then
    tail -n 20 "$root.log" >&2
    rm -rf "$root" "$root.log"
    return 1
  fi
  # What only the build needed: package lists, caches, logs.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/log/* "$root"/tmp/* "$root.log"
  if ! tar -C "$root" --numeric-owner -c . | docker import - "$image" >/dev/null; then
    rm -rf "$root"
    return 1
  fi
  rm -rf "$root"
  echo "built $image in $((SECONDS - start))s" >&2
  # The same name's rootfs of an earlier package list or recipe: superseded (images built on it
  # keep its layers).
  local old
  for old in $(docker images "eks-oidc/$name" --format '{{.Repository}}:{{.Tag}}'); do
    [[ "$old" == "$image" ]] || docker rmi "$old" >/dev/null 2>&1 || true
  done
}

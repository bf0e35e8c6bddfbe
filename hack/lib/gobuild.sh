# Shared by the scripts that build tools from published Go modules (sourced, not run).
#
# Each tool is pinned by a small Go module (a go.mod + tools.go) under hack/; its binary is
# cached by tool, version and recipe (package, ldflags, environment), so a rebuild -- also from
# a fresh clone -- costs nothing until one of those changes.
#
# Cache: ${EKS_OIDC_CACHE:-$HOME/.cache/eks-oidc-operator}/bin/<tool>-<version>-<recipe>/<tool>

cache="${EKS_OIDC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/eks-oidc-operator}"
mkdir -p "$cache/bin"

need_go() {
  command -v go >/dev/null || { echo "the Go toolchain is needed (go >= 1.26)" >&2; return 1; }
}

modver() {  # modver <module dir> <module path>: the version that module pins
  need_go || return 1
  (cd "$1" && go list -m -f '{{.Version}}' "$2")
}

gobuild() {  # gobuild <module dir> <tool> <version> <package> <ldflags> [NAME=VALUE ...]
  local dir="$1" tool="$2" version="$3" pkg="$4" ldflags="$5"
  shift 5
  # The recipe is part of the key: changing it rebuilds instead of reusing a stale binary.
  local recipe
  recipe="$(printf '%s' "$pkg $ldflags${*:+ $*}" | sha256sum | cut -c1-8)"
  local dest="$cache/bin/$tool-$version-$recipe/$tool"
  if [[ ! -x "$dest" ]]; then
    echo "building $tool $version (first time only; cached in $cache)" >&2
    local start=$SECONDS
    need_go || return 1
    # `|| return 1`: a caller may run this where set -e is off (in `if`, `&&`, `$(...)`).
    (cd "$dir" && env "$@" go build -buildvcs=false -trimpath -ldflags "$ldflags" -o "$dest.tmp.$$" "$pkg") ||
      { rm -f "$dest.tmp.$$"; return 1; }
    mv "$dest.tmp.$$" "$dest" || return 1  # atomic: an interrupted build leaves no half binary
    echo "built $tool in $((SECONDS - start))s" >&2
  fi
  built="$dest"
}

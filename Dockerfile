# Multi-stage, non-root image of the operator (and of the EKS simulator, `--entrypoint
# eks-simulator`). Built by hack/image/build.sh; what it holds and why: docs/image.md.
#
# Written for the legacy builder as well as BuildKit: no COPY --chmod, no RUN --mount, no
# heredocs.

# One base for both stages: the virtualenv's interpreter is a link to the build stage's Python,
# so the runtime stage must have the same one at the same path. The official python:3.11-slim
# or a Debian 12 root filesystem with python3 (hack/lib/debian-image.sh) both work.
ARG PYTHON_IMAGE=python:3.11-slim

# ------------------------------------------------------------------------------------ build
FROM ${PYTHON_IMAGE} AS build
LABEL eksoidc.io/image=build
# Trust for a TLS-intercepting proxy on the way to the package index, if the build needs one:
# PEM text, added to the base's bundle for this stage's downloads only. Nothing of this stage
# but /opt/venv reaches the runtime stage, so neither the bundle nor this argument ships.
ARG EXTRA_CA_CERTS=""
RUN set -eu; \
    cat /etc/ssl/certs/ca-certificates.crt > /build-ca-bundle.pem; \
    if [ -n "$EXTRA_CA_CERTS" ]; then printf '%s\n' "$EXTRA_CA_CERTS" >> /build-ca-bundle.pem; fi
ENV PIP_CERT=/build-ca-bundle.pem \
    SSL_CERT_FILE=/build-ca-bundle.pem \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_BREAK_SYSTEM_PACKAGES=1 \
    PIP_ROOT_USER_ACTION=ignore \
    UV_NO_CACHE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
# The uv of the dev environment (pyproject's dev group; a test keeps the two pins equal), so
# uv.lock is read by the version that wrote it. Debian's pip refuses a system install without
# PIP_BREAK_SYSTEM_PACKAGES; this stage is thrown away, so the system site is no concern.
RUN pip install "uv==0.13.8"
WORKDIR /src
# The dependencies first, in a layer of their own: a change of the operator's code reinstalls
# the operator only.
COPY pyproject.toml uv.lock README.md ./
RUN UV_PROJECT_ENVIRONMENT=/opt/venv uv sync --frozen --no-dev --no-install-project --compile-bytecode
COPY operator ./operator
COPY hack/image-install.sh ./hack/image-install.sh
RUN sh hack/image-install.sh /opt/venv

# ---------------------------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE}
LABEL eksoidc.io/image=operator
# A fixed numeric uid, so runAsNonRoot can verify it without /etc/passwd lookups; a group of
# its own with the same id (Debian's base-passwd already has a group "operator", gid 37).
RUN groupadd --gid 10001 eks-oidc \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin --no-log-init eks-oidc
COPY --from=build /opt/venv /opt/venv
# PATH in full: an imported root filesystem (the Debian base) sets no PATH to extend.
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001
EXPOSE 8080 9090
ENTRYPOINT ["eks-oidc-operator"]
CMD ["run", "--all-namespaces"]
# Last, so a new revision changes the image's metadata and no layer.
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=""
LABEL org.opencontainers.image.title="eks-oidc-operator" \
      org.opencontainers.image.description="Declarative OIDC identity providers for Amazon EKS clusters" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
# What `eks-oidc-operator version` and the eks_oidc_build_info metric report as the revision.
ENV EKS_OIDC_OPERATOR_REVISION="${REVISION}"

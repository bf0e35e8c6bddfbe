# syntax=docker/dockerfile:1
# Multi-stage, non-root image of the operator. The install step is hack/image-install.sh, the
# same script tests/image runs in a clean directory, so what the tests prove is what ships.

# One base for both stages: the virtualenv's interpreter links to the build stage's Python.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
# The uv of the dev environment (pyproject's dev group; a test keeps the two pins equal).
RUN pip install --no-cache-dir "uv==0.13.8"
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY operator ./operator
COPY hack/image-install.sh ./hack/image-install.sh
RUN sh hack/image-install.sh /opt/venv

FROM ${PYTHON_IMAGE}
# A fixed numeric uid, so runAsNonRoot can verify it without /etc/passwd lookups.
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin operator
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001
EXPOSE 8080 9090
ENTRYPOINT ["eks-oidc-operator"]
CMD ["run", "--all-namespaces"]

# Task index. `make help` lists the targets; `make test` is what CI runs (.ci/run).
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

UV_VERSION ?= 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
CRD := crds/oidcidentityproviders.eksoidc.io.yaml
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
CONTROLPLANE := $(PY) -m eks_oidc_testing.controlplane
# pytest-xdist workers for `make test`, each with a control plane of its own, test files dealt
# out whole (a module's operator and simulator stay on one worker). The e2e tests mostly wait on
# simulated EKS time, so two workers on two cores halve the wall time; TEST_WORKERS=0 runs them
# in one process.
TEST_WORKERS ?= 2
export PATH := $(CURDIR)/.local/bin:$(PATH)
# The project's own Docker daemon (hack/docker/dockerd.sh), unless DOCKER_HOST names another:
# every docker and kind call goes there.
DOCKER_HOST ?= unix://$(CURDIR)/.local/docker.sock
export DOCKER_HOST
IMAGE ?= eks-oidc-operator:dev

.PHONY: help
help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-17s %s\n", $$1, $$2}'

$(UV):
	python3 -m pip install --quiet --user "uv==$(UV_VERSION)" || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	@# pip may find uv installed already, with its binary elsewhere than $(UV): link it there.
	@[ -x "$(UV)" ] || { mkdir -p "$(dir $(UV))" && ln -sf "$$(python3 -c 'import uv; print(uv.find_uv_bin())')" "$(UV)"; }

.PHONY: init
init: $(VENV)/.synced ## Create .venv with every dependency (from uv.lock)

$(VENV)/.synced: pyproject.toml hack/testing/pyproject.toml uv.lock | $(UV)
	"$(UV)" sync --frozen
	touch $@

.PHONY: controlplane
controlplane: ## Build kube-apiserver, etcd, kubectl and helm from Go modules (cached by version)
	bash hack/controlplane/build.sh

.PHONY: lint
lint: init ## ruff (style, complexity), the import contracts, crds/, the chart's CRD and the generated docs current, actionlint on .github/workflows
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(PY) -m eks_oidc_operator crd | diff -u $(CRD) - >/dev/null || { echo "$(CRD) is stale: run make crds"; exit 1; }
	$(PY) hack/chart_crd.py --check
	$(PY) hack/errors_doc.py --check
	$(PY) hack/chart_readme.py --check
	bash hack/release/tools.sh actionlint
	.local/bin/actionlint

.PHONY: fmt
fmt: init ## Format and auto-fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

.PHONY: typecheck
typecheck: init ## mypy --strict
	$(BIN)/mypy

# Generated files, by what they need: `crds` and `docs` only the venv; `deploy-manifests` needs
# helm, which `controlplane` builds from Go modules, so it is a target of its own.
.PHONY: crds
crds: init ## Regenerate crds/ and the chart's copy of the CRD from the models (no Go build; deploy/ is make deploy-manifests)
	$(PY) -m eks_oidc_operator crd > $(CRD)
	$(PY) hack/chart_crd.py

.PHONY: deploy-manifests
deploy-manifests: init controlplane ## Render deploy/ (operator manifests and its CRD copy) from the chart with helm: after make crds or a chart change
	HELM=$(CURDIR)/.local/bin/helm bash hack/render-deploy.sh

.PHONY: docs
docs: init ## Regenerate every generated doc: docs/errors.md's table (from error_policy.py), the chart README's values table
	$(PY) hack/errors_doc.py
	$(PY) hack/chart_readme.py

.PHONY: chart-readme
chart-readme: init ## Regenerate only the chart README's values table (part of make docs)
	$(PY) hack/chart_readme.py

.PHONY: test
test: init controlplane lint typecheck ## Everything: lint, types, then the local tier and the kind tier (hack/test.sh)
	TEST_WORKERS=$(TEST_WORKERS) bash hack/test.sh

.PHONY: test-local
test-local: init controlplane image ## Only the local tier: unit, simulator, image and e2e tests on the local control plane
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

.PHONY: test-kind
test-kind: init controlplane image kind-image ## Only the kind tier: publish to a local registry, then pytest --cluster=kind (the operator as pods, from that registry)
	bash hack/release/publish-for-tests.sh
	$(BIN)/pytest --cluster=kind -m kind tests/kind tests/e2e

.PHONY: test-unit
test-unit: init ## Only the tests that need no control plane and no Docker daemon
	$(BIN)/pytest -m "not e2e and not docker"

.PHONY: demo
demo: init controlplane ## Control plane + EKS simulator + chart + operator + deploy/examples, live (DEMO_ONESHOT=1: exit when done)
	$(PY) hack/demo.py

.PHONY: cluster-up
cluster-up: init controlplane ## Start the local control plane; kubeconfigs in .local/
	$(CONTROLPLANE) up

.PHONY: cluster-down
cluster-down: init ## Stop the local control plane
	$(CONTROLPLANE) down

.PHONY: docker-up
docker-up: ## Start the project's own Docker daemon (socket .local/docker.sock; installs docker.io if missing)
	bash hack/docker/dockerd.sh up

.PHONY: docker-down
docker-down: ## Stop the project's Docker daemon (its containers stop with it)
	bash hack/docker/dockerd.sh down

.PHONY: image
image: docker-up ## Build the operator image into the project's daemon: $(IMAGE) and the chart's appVersion
	bash hack/image/build.sh

.PHONY: kind-image
kind-image: docker-up ## Build kind and its node image here, from Go modules and Debian packages (cached)
	bash hack/kind/build.sh

.PHONY: kind-up
kind-up: init controlplane image kind-image ## kind cluster `eks-oidc` (.local/kind.kubeconfig): image loaded, EKS simulator running
	bash hack/kind/up.sh

.PHONY: release-tools
release-tools: ## Build the release tools from Go modules: distribution registry, cosign, actionlint
	bash hack/release/tools.sh

.PHONY: release-local
release-local: init controlplane image kind-up ## The release workflow against a local OCI registry, then install from it into kind
	@# A fresh registry each time: a version is never published twice to the same one.
	bash hack/release/registry.sh down
	bash hack/release/local.sh --install

.PHONY: registry-down
registry-down: ## Stop the local OCI registry (what it stored goes with it)
	bash hack/release/registry.sh down

.PHONY: kind-down
kind-down: ## Delete the project's kind clusters
	bash hack/kind/down.sh

.PHONY: clean-kind
clean-kind: ## kind-down, stop the Docker daemon, remove the kind tier's caches (data root, node binaries)
	bash hack/kind/down.sh --caches

.PHONY: clean
clean: cluster-down registry-down kind-down docker-down ## Remove .local/ and caches (not the binary cache in ~/.cache)
	rm -rf .local .mypy_cache .ruff_cache .pytest_cache

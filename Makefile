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

.PHONY: help
help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(UV):
	python3 -m pip install --quiet --user "uv==$(UV_VERSION)" || python3 -m pip install --quiet "uv==$(UV_VERSION)"

.PHONY: init
init: $(VENV)/.synced ## Create .venv with every dependency (from uv.lock)

$(VENV)/.synced: pyproject.toml hack/testing/pyproject.toml uv.lock | $(UV)
	"$(UV)" sync --frozen
	touch $@

.PHONY: controlplane
controlplane: ## Build kube-apiserver, etcd, kubectl and helm from Go modules (cached by version)
	bash hack/controlplane/build.sh

.PHONY: lint
lint: init ## ruff (style, complexity), the import contracts, and crds/ and the chart's CRD template match the models
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(PY) -m eks_oidc_operator crd | diff -u $(CRD) - >/dev/null || { echo "$(CRD) is stale: run make crds"; exit 1; }
	$(PY) hack/chart_crd.py --check

.PHONY: fmt
fmt: init ## Format and auto-fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

.PHONY: typecheck
typecheck: init ## mypy --strict
	$(BIN)/mypy

.PHONY: crds
crds: init controlplane ## Regenerate crds/, the chart's CRD template and deploy/ from the models and chart
	$(PY) -m eks_oidc_operator crd > $(CRD)
	$(PY) hack/chart_crd.py
	HELM=$(CURDIR)/.local/bin/helm bash hack/render-deploy.sh
	$(PY) hack/chart_readme.py

.PHONY: chart-readme
chart-readme: init ## Regenerate the chart README's values table from the comments in values.yaml
	$(PY) hack/chart_readme.py

.PHONY: test
test: init controlplane lint typecheck ## Everything: lint, types, unit, simulator and e2e tests
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

.PHONY: test-unit
test-unit: init ## Only the tests that need no control plane
	$(BIN)/pytest -m "not e2e"

.PHONY: demo
demo: init controlplane ## Control plane + EKS simulator + chart + operator + deploy/examples, live (DEMO_ONESHOT=1: exit when done)
	$(PY) hack/demo.py

.PHONY: cluster-up
cluster-up: init controlplane ## Start the local control plane; kubeconfigs in .local/
	$(CONTROLPLANE) up

.PHONY: cluster-down
cluster-down: init ## Stop the local control plane
	$(CONTROLPLANE) down

.PHONY: clean
clean: cluster-down ## Remove .local/ and caches (not the binary cache in ~/.cache)
	rm -rf .local .mypy_cache .ruff_cache .pytest_cache

##@ Cluster (kind, helmfile, skaffold)

KIND_CLUSTER ?= stockwatch
KUBECONFIG_KIND := $(SCRATCH)/kind-kubeconfig
HELMFILE_ENV ?= kind
IMAGE_TAG ?= dev
# What `make e2e` runs: every cluster suite (k8s-tests/test_cluster.py checks the cluster alone).
E2E ?= k8s-tests
K8S_BIN = $(shell bash scripts/k8s-tools.sh kubectl)
HELMFILE = $(shell bash tools/helmfile/build.sh)
KIND = $(STOCKWATCH_CACHE)/kind-tools/bin/kind
# The images of the deployment: <name> is built from images/<name>/Dockerfile with the repo root as context
# (scripts/images/stockwatch.sh; the platform's images for a cluster with no registry: scripts/images/*.sh).
IMAGES := pipeline operator dbt airflow

.PHONY: helmfile
helmfile: ## Build helmfile from the Go module proxy into the cache (tools/helmfile)
	@bash tools/helmfile/build.sh >/dev/null

# The chart tests render helmfile.yaml with the real helmfile: have it before pytest.
test-py: helmfile

$(KIND):
	@bash scripts/kind/tools.sh >/dev/null

.PHONY: kind-up
kind-up: ## Create the kind cluster `stockwatch` (idempotent; offline node image when kindest/node cannot be pulled)
	@KIND_CLUSTER=$(KIND_CLUSTER) KUBECONFIG_KIND=$(KUBECONFIG_KIND) bash scripts/kind/up.sh >/dev/null
	@echo ">> export KUBECONFIG=$(KUBECONFIG_KIND)"

.PHONY: kind-node-image
kind-node-image: ## Build the kind node image here (Debian + Go module proxy; no registry needed)
	@bash scripts/kind/node-image.sh

.PHONY: images
images: $(KIND) ## Build the four images (tag IMAGE_TAG=dev; bases built here when none can be pulled) and load them into kind
	@export DOCKER_HOST="$$(bash scripts/docker-engine.sh)"; \
	refs="$$(IMAGE_TAG=$(IMAGE_TAG) bash scripts/images/stockwatch.sh $(IMAGES))"; \
	for ref in $$refs; do \
	  echo ">> kind load $$ref"; \
	  $(KIND) load docker-image --name $(KIND_CLUSTER) "$$ref"; \
	done

.PHONY: deploy
deploy: helmfile ## helmfile sync (HELMFILE_ENV=kind|production); on kind run `make kind-up images` first
	@export PATH="$(K8S_BIN):$$PATH"; \
	if [ "$(HELMFILE_ENV)" = kind ]; then export KUBECONFIG=$(KUBECONFIG_KIND); fi; \
	for ns in stockwatch airflow; do \
	  kubectl create namespace $$ns --dry-run=client -o yaml | kubectl apply -f - >/dev/null; \
	  if [ -n "$${SNOWFLAKE_ACCOUNT:-}" ]; then \
	    kubectl -n $$ns create secret generic stockwatch-snowflake --dry-run=client -o yaml \
	      --from-literal=account="$$SNOWFLAKE_ACCOUNT" --from-literal=user="$${SNOWFLAKE_USER:-}" \
	      --from-literal=password="$${SNOWFLAKE_PASSWORD:-}" | kubectl apply -f - >/dev/null; \
	  elif [ "$(HELMFILE_ENV)" = kind ]; then \
	    echo ">> no SNOWFLAKE_ACCOUNT: kind uses the in-cluster warehouse (placeholder credentials in $$ns/stockwatch-snowflake)"; \
	    kubectl -n $$ns create secret generic stockwatch-snowflake --dry-run=client -o yaml \
	      --from-literal=account=fakesnow --from-literal=user=stockwatch --from-literal=password=fakesnow \
	      | kubectl apply -f - >/dev/null; \
	  fi; \
	done; \
	$(HELMFILE) --helm-binary "$(K8S_BIN)/helm" -e $(HELMFILE_ENV) sync

.PHONY: dev
dev: ## skaffold dev on kind: rebuild images on change, load them into kind, redeploy charts/stockwatch
	@command -v skaffold >/dev/null || { echo "error: install skaffold v2 (https://skaffold.dev/docs/install/)" >&2; exit 1; }
	@KUBECONFIG=$(KUBECONFIG_KIND) PATH="$(K8S_BIN):$$PATH" skaffold dev -p kind

.PHONY: e2e
e2e: setup ## End-to-end tests on the kind cluster (k8s-tests/; E2E=k8s-tests/test_cluster.py for the cluster alone)
	@KUBECONFIG=$(KUBECONFIG_KIND) KIND_CLUSTER=$(KIND_CLUSTER) PATH="$(K8S_BIN):$$PATH" \
	  $(PY) -m pytest $(E2E) -p no:cacheprovider $(PYTEST_ARGS)

.PHONY: kind-down
kind-down: $(KIND) ## Delete the kind cluster (the Docker engine scripts/docker-engine.sh started keeps running)
	@DOCKER_HOST="$$(bash scripts/docker-engine.sh)" $(KIND) delete cluster --name $(KIND_CLUSTER) --kubeconfig $(KUBECONFIG_KIND)
	@rm -f $(KUBECONFIG_KIND)

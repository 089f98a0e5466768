##@ Cluster (kind, helmfile, skaffold)

KIND_VERSION ?= v0.33.0
KIND_CLUSTER ?= stockwatch
KUBECONFIG_KIND := $(SCRATCH)/kind-kubeconfig
HELMFILE_ENV ?= kind
IMAGE_TAG ?= dev
K8S_BIN = $(shell bash scripts/k8s-tools.sh kubectl)
HELMFILE = $(shell bash tools/helmfile/build.sh)
KIND = $(STOCKWATCH_CACHE)/kind-$(KIND_VERSION)/bin/kind
# The images of the deployment: <name> is built from images/<name>/Dockerfile with the repo root as context.
IMAGES := pipeline operator dbt airflow

.PHONY: helmfile
helmfile: ## Build helmfile from the Go module proxy into the cache (tools/helmfile)
	@bash tools/helmfile/build.sh >/dev/null

# The chart tests render helmfile.yaml with the real helmfile: have it before pytest.
test-py: helmfile

$(KIND):
	@mkdir -p $(dir $@)
	@echo ">> building kind $(KIND_VERSION) from the Go module proxy"
	@GOBIN=$(dir $@) CGO_ENABLED=0 go install sigs.k8s.io/kind@$(KIND_VERSION)

.PHONY: kind-up
kind-up: $(KIND) ## Create the kind cluster `stockwatch` (idempotent; needs Docker); kubeconfig in .scratch/
	@command -v docker >/dev/null || { echo "error: kind needs Docker (or Podman: KIND_EXPERIMENTAL_PROVIDER=podman)" >&2; exit 1; }
	@mkdir -p $(SCRATCH)
	@if $(KIND) get clusters 2>/dev/null | grep -qx '$(KIND_CLUSTER)'; then \
	  echo ">> kind cluster $(KIND_CLUSTER) already exists"; \
	  $(KIND) export kubeconfig --name $(KIND_CLUSTER) --kubeconfig $(KUBECONFIG_KIND); \
	else \
	  $(KIND) create cluster --name $(KIND_CLUSTER) --config deploy/kind-config.yaml --kubeconfig $(KUBECONFIG_KIND) --wait 120s; \
	fi
	@echo ">> export KUBECONFIG=$(KUBECONFIG_KIND)"

.PHONY: images
images: $(KIND) ## Build the four images (tag IMAGE_TAG=dev) and load them into the kind cluster
	@for image in $(IMAGES); do \
	  echo ">> docker build stockwatch/$$image:$(IMAGE_TAG)"; \
	  DOCKER_BUILDKIT=1 docker build -f images/$$image/Dockerfile -t stockwatch/$$image:$(IMAGE_TAG) . ; \
	  $(KIND) load docker-image --name $(KIND_CLUSTER) stockwatch/$$image:$(IMAGE_TAG); \
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
e2e: setup ## End-to-end tests on the kind cluster (k8s-tests/; they skip with a reason when no cluster answers)
	@KUBECONFIG=$(KUBECONFIG_KIND) PATH="$(K8S_BIN):$$PATH" $(PY) -m pytest k8s-tests -p no:cacheprovider $(PYTEST_ARGS)

.PHONY: kind-down
kind-down: $(KIND) ## Delete the kind cluster
	@$(KIND) delete cluster --name $(KIND_CLUSTER) --kubeconfig $(KUBECONFIG_KIND)
	@rm -f $(KUBECONFIG_KIND)

##@ Operator (StockWatchlist -> producer Deployments)

OPERATOR_ARGS ?= --standalone --all-namespaces
OPERATOR_CRDS := charts/stockwatch-crds/templates

.PHONY: operator-crds
operator-crds: ## Install the StockWatchlist + kopf peering CRDs into the current kubeconfig's cluster
	kubectl apply --server-side -f $(OPERATOR_CRDS)

.PHONY: operator-run
operator-run: setup ## Run the operator locally against the current kubeconfig (OPERATOR_ARGS="-n team-a --standalone")
	@$(VENV)/bin/kopf run -m stockwatch_operator.main $(OPERATOR_ARGS) --liveness=http://127.0.0.1:8081/healthz

.PHONY: operator-examples
operator-examples: ## Apply the example watchlists (seed REST, websocket, synthetic) to the current namespace
	kubectl apply -f operator/examples/

.PHONY: test-operator
test-operator: setup k8s-tools ## Operator tests only: unit + CRD validation + integration against a real API server
	@$(PY) -m pytest operator/tests $(PYTEST_ARGS)

.PHONY: bench-operator
bench-operator: setup k8s-tools ## Operator bench: 1/100/500 watchlists -> Deployments; JSON in bench/results/operator.json
	@$(PY) bench/operator_bench.py $(ARGS)

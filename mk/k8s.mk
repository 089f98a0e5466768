##@ Kubernetes tools

K8S_TOOLS := bash scripts/k8s-tools.sh

.PHONY: k8s-tools
k8s-tools: ## Build or fetch helm, kubectl, kube-apiserver, kube-controller-manager, etcd into the cache
	@$(K8S_TOOLS) all >/dev/null

# The k8s tests start a real kube-apiserver + etcd and run real helm: have the binaries before pytest.
test-py: k8s-tools

.PHONY: k8s-apiserver
k8s-apiserver: setup k8s-tools ## Run the tests' etcd + kube-apiserver (+ CRDs, kube-controller-manager) until Ctrl-C
	@rm -rf $(SCRATCH)/k8s
	@$(PY) -m stockwatch.testing.k8s --workdir $(SCRATCH)/k8s --controller-manager

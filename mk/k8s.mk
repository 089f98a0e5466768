##@ Kubernetes tools

K8S_TOOLS := bash scripts/k8s-tools.sh

.PHONY: k8s-tools
k8s-tools: ## Build or fetch helm, kubectl, kube-apiserver, kube-controller-manager, etcd into the cache
	@$(K8S_TOOLS) all >/dev/null

# The k8s tests start a real kube-apiserver + etcd and run real helm: have the binaries before pytest.
test-py: k8s-tools

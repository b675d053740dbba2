//go:build tools

// Package cluster pins the Kubernetes binaries that the e2e tests run
// (kube-apiserver, kube-controller-manager, kubectl, and for the e2e node
// kube-scheduler and kubelet). Nothing here is compiled: scripts/e2e-tools.sh
// builds the commands with `go build` from this module so that they resolve
// against the versions recorded in go.mod.
package cluster

import (
	_ "k8s.io/kubectl/pkg/cmd"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)

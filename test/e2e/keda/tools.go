//go:build tools

// Package keda pins the KEDA operator used by the e2e control plane.
// scripts/e2e-tools.sh builds github.com/kedacore/keda/v2/cmd/operator from
// this module; KEDA's CRDs are read from the module cache at run time.
package keda

import (
	_ "github.com/kedacore/keda/v2/cmd/adapter"
	_ "github.com/kedacore/keda/v2/cmd/operator"
)

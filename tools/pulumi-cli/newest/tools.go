//go:build tools

// Package tools records the commands that scripts/pulumi-cli.mjs builds, so
// that `go mod tidy` keeps their dependencies in go.mod and go.sum.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
	// The official Node.js language host belongs here too, once the module
	// proxy serves it (see README.md):
	// _ "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3"
)

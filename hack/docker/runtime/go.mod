// A runc wrapper for the project's Docker daemon: see main.go.
module github.com/eks-oidc-operator/hack/docker/runtime

go 1.25.0

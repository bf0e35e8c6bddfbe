// Command eks-oidc-runc is the OCI runtime of the project's own Docker daemon: it removes from
// a container's spec every capability this machine's bounding set lacks, then execs runc.
//
// Why: kind runs its nodes --privileged, and a privileged container asks for every capability.
// On hosts whose bounding set lacks one (CAP_SYS_RESOURCE on the machines this project is
// built on), runc then fails with "unable to apply caps: operation not permitted" and no node
// starts. A capability missing from the bounding set can never be granted anyway, so dropping it
// from the request changes nothing the container could have had. On a host with the full set
// the spec passes through unchanged.
//
// runc is told what to run in two places: `create`/`run` read <bundle>/config.json, `exec`
// reads the file given with --process. Both are rewritten in place before runc starts.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Linux capability numbers (include/uapi/linux/capability.h).
var capNumbers = map[string]uint{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
	"CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
	"CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
	"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
	"CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
	"CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
	"CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
	"CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
	"CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
	"CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
	"CAP_CHECKPOINT_RESTORE": 40,
}

// boundingSet reads CapBnd of this process (the daemon's, inherited) from /proc.
func boundingSet() (uint64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if value, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			return strconv.ParseUint(strings.TrimSpace(value), 16, 64)
		}
	}
	return 0, fmt.Errorf("no CapBnd line in /proc/self/status")
}

// keep filters one capability list down to what the bounding set holds.
func keep(names []any, bounding uint64) []any {
	kept := make([]any, 0, len(names))
	for _, name := range names {
		number, known := capNumbers[fmt.Sprint(name)]
		if !known || bounding&(1<<number) != 0 {
			kept = append(kept, name)
		}
	}
	return kept
}

// trimCapabilities rewrites a JSON file whose capabilities sit at the given path of keys.
func trimCapabilities(file string, bounding uint64, path ...string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	node := doc
	for _, key := range path {
		next, ok := node[key].(map[string]any)
		if !ok {
			return nil // no capabilities asked for: nothing to trim
		}
		node = next
	}
	for set, names := range node {
		if list, ok := names.([]any); ok {
			node[set] = keep(list, bounding)
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(file, out, 0o600)
}

// argValue returns the value of --name (as "--name v" or "--name=v"), or "".
func argValue(args []string, name string) string {
	for i, arg := range args {
		if arg == name && i+1 < len(args) {
			return args[i+1]
		}
		if value, ok := strings.CutPrefix(arg, name+"="); ok {
			return value
		}
	}
	return ""
}

func command(args []string) string {
	for _, arg := range args {
		switch arg {
		case "create", "run", "exec":
			return arg
		}
	}
	return ""
}

func rewrite(args []string) error {
	bounding, err := boundingSet()
	if err != nil {
		return err
	}
	switch command(args) {
	case "create", "run":
		bundle := argValue(args, "--bundle")
		if bundle == "" {
			bundle = argValue(args, "-b")
		}
		if bundle == "" {
			bundle = "."
		}
		return trimCapabilities(filepath.Join(bundle, "config.json"), bounding, "process", "capabilities")
	case "exec":
		if process := argValue(args, "--process"); process != "" {
			return trimCapabilities(process, bounding, "capabilities")
		}
	}
	return nil
}

func main() {
	runc := os.Getenv("EKS_OIDC_RUNC")
	if runc == "" {
		runc = "/usr/sbin/runc" // Debian's runc, a dependency of its docker.io package
	}
	if err := rewrite(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "eks-oidc-runc: %v\n", err)
		os.Exit(1)
	}
	args := append([]string{runc}, os.Args[1:]...)
	if err := syscall.Exec(runc, args, os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "eks-oidc-runc: exec %s: %v\n", runc, err)
		os.Exit(1)
	}
}

package main

// psm: a `docker` command for the simulator's container-backed VMs, on a machine without a
// Docker engine. govmomi 0.24.2 runs `docker run/start/stop/rm/inspect/cp` for a VM whose
// extraConfig has RUN.container, and psm's guest-operation handlers (guestops.go) run
// `docker exec` as later govmomi releases do. This binary answers those calls when it is
// started under the name "docker" (the test set-up puts a symlink to psm-vcsim on the
// simulator's PATH). A "container" is a directory tree (a root file system holding the host's
// static busybox) that programs run in through chroot(2) as root: real processes, real files,
// real modes, owners and exit codes, but no namespaces and no resource limits. It is a test
// guest, not a sandbox. State lives under $PSM_VCSIM_DOCKER_ROOT.
//
// Besides the calls the simulator makes, it has `checkpoint create ID NAME` and
// `start --checkpoint NAME ID` (docker's checkpoint verbs) to save and restore a guest's files
// when the simulated VM is snapshotted or reverted.

import (
	"archive/tar"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

const busyboxSource = "/usr/bin/busybox"

var guestApplets = []string{
	"sh", "cat", "printf", "sleep", "stat", "mv", "chmod", "chown", "rm", "ls", "echo",
	"mkdir", "id", "true", "false", "env", "kill", "ps", "head", "wc", "mktemp", "rmdir",
}

type containerState struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
}

func dockerRoot() string {
	root := os.Getenv("PSM_VCSIM_DOCKER_ROOT")
	if root == "" || !filepath.IsAbs(root) {
		dockerFail("PSM_VCSIM_DOCKER_ROOT must be an absolute path")
	}
	return root
}

func dockerFail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "docker (psm-vcsim): "+format+"\n", args...)
	os.Exit(1)
}

func runDocker(args []string) {
	if len(args) == 0 {
		dockerFail("no command")
	}
	switch args[0] {
	case "run":
		dockerRun(args[1:])
	case "inspect":
		// No address: psm's Tools model (tools.go) reports the guest's IP, as before.
		fmt.Println(`[{"NetworkSettings":{"IPAddress":""}}]`)
	case "start":
		if len(args) == 4 && args[1] == "--checkpoint" {
			restoreCheckpoint(containerDir(args[3]), args[2])
		}
	case "unpause", "pause", "volume":
	case "stop":
		if len(args) == 2 {
			killGuestProcesses(rootfsOf(args[1]))
		}
	case "rm":
		dockerRemove(args[len(args)-1])
	case "exec":
		dockerExec(args[1:])
	case "cp":
		dockerCopy(args[1:])
	case "checkpoint":
		if len(args) != 4 || args[1] != "create" {
			dockerFail("usage: checkpoint create ID NAME")
		}
		saveCheckpoint(containerDir(args[2]), args[3])
	case "ps":
		dockerPs(args[1:])
	default:
		dockerFail("unsupported command %q", args[0])
	}
}

func containerDir(id string) string {
	if len(id) != 12 || strings.Trim(id, "0123456789abcdef") != "" {
		dockerFail("no such container: %q", id)
	}
	dir := filepath.Join(dockerRoot(), id)
	if _, err := os.Stat(dir); err != nil {
		dockerFail("no such container: %s", id)
	}
	return dir
}

func rootfsOf(id string) string { return filepath.Join(containerDir(id), "rootfs") }

func dockerRun(args []string) {
	state := containerState{Labels: map[string]string{}}
	remove := false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		flag := args[0]
		switch flag {
		case "--rm":
			remove = true
			args = args[1:]
		case "-d", "-i":
			args = args[1:]
		case "--name", "--env", "-e", "-v", "--label":
			if len(args) < 2 {
				dockerFail("%s needs a value", flag)
			}
			if flag == "--name" {
				state.Name = args[1]
			}
			if flag == "--label" {
				kv := strings.SplitN(args[1], "=", 2)
				state.Labels[kv[0]] = kv[len(kv)-1]
			}
			args = args[2:]
		default:
			dockerFail("unsupported run flag %q", flag)
		}
	}
	if remove {
		// The simulator's DMI volume (`run --rm -i ... tar -xf -`): nothing reads it here.
		_, _ = io.Copy(io.Discard, os.Stdin)
		return
	}
	id := make([]byte, 6)
	if _, err := rand.Read(id); err != nil {
		dockerFail("%v", err)
	}
	state.ID = hex.EncodeToString(id)
	dir := filepath.Join(dockerRoot(), state.ID)
	root := filepath.Join(dir, "rootfs")
	for _, sub := range []string{"bin", "persist", "tmp", "proc", "root", "home/user", "etc", "dev"} {
		if err := os.MkdirAll(filepath.Join(root, sub), 0o755); err != nil {
			dockerFail("%v", err)
		}
	}
	must(os.Chmod(filepath.Join(root, "tmp"), 0o777|os.ModeSticky))
	must(os.Chown(filepath.Join(root, "home/user"), 1000, 1000))
	must(copyFile(busyboxSource, filepath.Join(root, "bin/busybox"), 0o755, 0, 0))
	// Debian's static busybox has no pgrep: the guest's is this binary (see runPgrep).
	self, err := os.Executable()
	must(err)
	must(os.Link(self, filepath.Join(root, "bin/pgrep")))
	for _, applet := range guestApplets {
		must(os.Symlink("busybox", filepath.Join(root, "bin", applet)))
	}
	must(os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nuser:x:1000:\n"), 0o644))
	for name, minor := range map[string]int{"null": 3, "zero": 5, "urandom": 9} {
		must(syscall.Mknod(filepath.Join(root, "dev", name), syscall.S_IFCHR|0o666, 1<<8|minor))
		must(os.Chmod(filepath.Join(root, "dev", name), 0o666))
	}
	// The guest's /proc, so that ps and pgrep in it see processes (no PID namespace: all of them).
	must(syscall.Mount("proc", filepath.Join(root, "proc"), "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""))
	data, _ := json.Marshal(state)
	must(os.WriteFile(filepath.Join(dir, "state.json"), data, 0o600))
	fmt.Println(state.ID)
}

func must(err error) {
	if err != nil {
		dockerFail("%v", err)
	}
}

func dockerRemove(id string) {
	dir := containerDir(id)
	root := filepath.Join(dir, "rootfs")
	killGuestProcesses(root)
	_ = syscall.Unmount(filepath.Join(root, "proc"), syscall.MNT_DETACH)
	must(os.RemoveAll(dir))
}

// killGuestProcesses ends every process whose root directory is the guest's (a VM power-off).
func killGuestProcesses(root string) {
	entries, _ := os.ReadDir("/proc")
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		if target, err := os.Readlink(filepath.Join("/proc", entry.Name(), "root")); err == nil && target == root {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func dockerPs(args []string) {
	want := ""
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--filter" && strings.HasPrefix(args[i+1], "label=") {
			want = strings.TrimPrefix(args[i+1], "label=")
		}
	}
	kv := strings.SplitN(want, "=", 2)
	entries, _ := os.ReadDir(dockerRoot())
	for _, entry := range entries {
		data, err := os.ReadFile(filepath.Join(dockerRoot(), entry.Name(), "state.json"))
		if err != nil {
			continue
		}
		var state containerState
		if json.Unmarshal(data, &state) == nil && len(kv) == 2 && state.Labels[kv[0]] == kv[1] {
			fmt.Println(state.ID)
		}
	}
}

// dockerExec: `exec [-w DIR] [-e NAME=VALUE]... ID PATH ARGS...`, run as root in the guest.
func dockerExec(args []string) {
	dir := "/"
	env := []string{"PATH=/bin", "HOME=/root"}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if len(args) < 2 {
			dockerFail("%s needs a value", args[0])
		}
		switch args[0] {
		case "-w":
			dir = args[1]
		case "-e":
			env = append(env, args[1])
		default:
			dockerFail("unsupported exec flag %q", args[0])
		}
		args = args[2:]
	}
	if len(args) < 2 {
		dockerFail("usage: exec [-w DIR] [-e NAME=VALUE]... ID PATH ARGS...")
	}
	root := rootfsOf(args[0])
	must(syscall.Chroot(root))
	if err := syscall.Chdir(dir); err != nil {
		dockerFail("chdir %s: %v", dir, err)
	}
	err := syscall.Exec(args[1], args[1:], env)
	fmt.Fprintf(os.Stderr, "docker (psm-vcsim): exec %s: %v\n", args[1], err)
	if errors.Is(err, syscall.ENOENT) {
		os.Exit(127)
	}
	os.Exit(126)
}

// guestPath is a path inside the guest's root; ".." cannot climb out of it (Clean of "/"+p).
func guestPath(root, path string) string {
	return filepath.Join(root, filepath.Clean("/"+path))
}

// dockerCopy: `cp - ID:DIR` (a tar on stdin) or `cp ID:FILE -` (a tar on stdout).
func dockerCopy(args []string) {
	if len(args) != 2 {
		dockerFail("usage: cp - ID:DIR | cp ID:FILE -")
	}
	if args[0] == "-" {
		id, dir := splitTarget(args[1])
		tr := tar.NewReader(os.Stdin)
		for {
			header, err := tr.Next()
			if err == io.EOF {
				return
			}
			must(err)
			target := guestPath(rootfsOf(id), filepath.Join(dir, header.Name))
			if info, err := os.Lstat(filepath.Dir(target)); err != nil || !info.IsDir() {
				dockerFail("no such directory in the guest: %s", filepath.Dir(header.Name))
			}
			_ = os.Remove(target)
			out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, os.FileMode(header.Mode)&0o7777)
			must(err)
			_, err = io.Copy(out, tr)
			must(err)
			must(out.Close())
		}
	}
	id, file := splitTarget(args[0])
	source := guestPath(rootfsOf(id), file)
	info, err := os.Lstat(source)
	if err != nil || !info.Mode().IsRegular() {
		dockerFail("no such file in the guest: %s", file)
	}
	in, err := os.Open(source)
	must(err)
	st := info.Sys().(*syscall.Stat_t)
	tw := tar.NewWriter(os.Stdout)
	must(tw.WriteHeader(&tar.Header{
		Name: filepath.Base(file), Size: info.Size(), Mode: int64(info.Mode().Perm()),
		Uid: int(st.Uid), Gid: int(st.Gid), ModTime: info.ModTime(), Typeflag: tar.TypeReg,
	}))
	// The simulator stops reading after the file's bytes and closes the pipe: the tar padding
	// and trailer may find no reader, which is not a failure of the copy.
	signal.Ignore(syscall.SIGPIPE)
	_, err = io.Copy(tw, in)
	must(err)
	_ = tw.Close()
}

func splitTarget(target string) (string, string) {
	at := strings.IndexByte(target, ':')
	if at < 0 {
		dockerFail("expected ID:PATH, not %q", target)
	}
	return target[:at], target[at+1:]
}

func saveCheckpoint(dir, name string) {
	target := filepath.Join(dir, "checkpoints", checkpointName(name))
	must(os.RemoveAll(target))
	must(os.MkdirAll(target, 0o700))
	must(copyTree(filepath.Join(dir, "rootfs"), target))
}

func restoreCheckpoint(dir, name string) {
	source := filepath.Join(dir, "checkpoints", checkpointName(name))
	if _, err := os.Stat(source); err != nil {
		dockerFail("no checkpoint %s", name)
	}
	root := filepath.Join(dir, "rootfs")
	// What ran after the snapshot is gone with it, as in a VM reverted to a memory snapshot.
	killGuestProcesses(root)
	entries, err := os.ReadDir(root)
	must(err)
	for _, entry := range entries {
		if entry.Name() != "proc" {
			must(os.RemoveAll(filepath.Join(root, entry.Name())))
		}
	}
	must(copyTree(source, root))
}

func checkpointName(name string) string {
	if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		dockerFail("bad checkpoint name %q", name)
	}
	return name
}

// copyTree copies a guest's files (regular files, directories, symlinks, character devices)
// with modes and owners,
// skipping its /proc.
func copyTree(from, to string) error {
	return filepath.Walk(from, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if rel == "proc" {
			return filepath.SkipDir
		}
		target := filepath.Join(to, rel)
		st := info.Sys().(*syscall.Stat_t)
		switch {
		case info.IsDir():
			if rel != "." {
				if err := os.Mkdir(target, info.Mode().Perm()); err != nil && !os.IsExist(err) {
					return err
				}
			}
			if err := os.Chmod(target, info.Mode()&(os.ModePerm|os.ModeSticky)); err != nil {
				return err
			}
			return os.Lchown(target, int(st.Uid), int(st.Gid))
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case rel == "bin/pgrep":
			return os.Link(path, target) // psm-vcsim itself: shared, never written
		case info.Mode().IsRegular():
			return copyFile(path, target, info.Mode().Perm(), int(st.Uid), int(st.Gid))
		case info.Mode()&os.ModeCharDevice != 0:
			if err := syscall.Mknod(target, syscall.S_IFCHR|uint32(info.Mode().Perm()), int(st.Rdev)); err != nil {
				return err
			}
			return os.Chmod(target, info.Mode().Perm())
		}
		return nil
	})
}

func copyFile(from, to string, mode os.FileMode, uid, gid int) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Chmod(to, mode); err != nil {
		return err
	}
	return os.Lchown(to, uid, gid)
}

// runPgrep is the guest's `pgrep -f PATTERN` (Debian's static busybox has none): it prints the
// pids of the guest's processes (those sharing its root directory) whose command line, with
// spaces between the arguments, matches the extended regular expression; exit 0 when any
// matched, 1 when none did, 2 on bad usage, as procps pgrep does.
func runPgrep(args []string) {
	if len(args) != 2 || args[0] != "-f" {
		fmt.Fprintln(os.Stderr, "usage: pgrep -f PATTERN")
		os.Exit(2)
	}
	pattern, err := regexp.CompilePOSIX(args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgrep: %v\n", err)
		os.Exit(2)
	}
	// The same root directory (device and inode through the /proc/PID/root link; the link's
	// text says "/" for every root a chroot cannot reach).
	var ownRoot syscall.Stat_t
	must(syscall.Stat("/", &ownRoot))
	self := strconv.Itoa(os.Getpid())
	found := false
	entries, _ := os.ReadDir("/proc")
	for _, entry := range entries {
		if _, err := strconv.Atoi(entry.Name()); err != nil || entry.Name() == self {
			continue
		}
		var root syscall.Stat_t
		if syscall.Stat(filepath.Join("/proc", entry.Name(), "root"), &root) != nil || root.Dev != ownRoot.Dev || root.Ino != ownRoot.Ino {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", entry.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		line := strings.TrimRight(strings.ReplaceAll(string(cmdline), "\x00", " "), " ")
		if pattern.MatchString(line) {
			fmt.Println(entry.Name())
			found = true
		}
	}
	if !found {
		os.Exit(1)
	}
}

package main

// psm: guest operations for container-backed VMs. govmomi 0.24.2 has only the two file-transfer
// calls (whose URLs its own /guestFile handler serves through `docker cp`); it has no
// StartProgramInGuest, ListProcessesInGuest, TerminateProcessInGuest, ChangeFileAttributesInGuest,
// MoveFileInGuest, DeleteFileInGuest, CreateTemporaryDirectoryInGuest or DeleteDirectoryInGuest,
// and it checks neither VMware Tools nor the guest
// password. These handlers follow later govmomi releases (each call is a `docker exec` in the
// VM's container) and what VMware Tools does in a real guest:
//   - every call needs the VM powered on (InvalidPowerState), Tools running
//     (GuestOperationsUnavailable) and the guest login given on stdin (InvalidGuestLogin);
//   - StartProgramInGuest runs `/bin/sh -c '"PATH" ARGUMENTS'` in the guest, as open-vm-tools
//     does on POSIX guests, and returns the guest pid at once; ListProcessesInGuest reports the
//     exit code and end time once it ended; TerminateProcessInGuest sends SIGKILL;
//   - InitiateFileTransferFromGuest also reports the file's size, permissions and owner.
// The snapshot hook saves and restores the container's files with the VM's snapshots.

import (
	"crypto/subtle"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type guestLogin struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

const containerLabel = "psm.vm"

func containerOf(vm types.ManagedObjectReference) string {
	out, err := exec.Command("docker", "ps", "-q", "--filter", "label="+containerLabel+"="+vm.Value).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func guestExec(id string, argv ...string) ([]byte, error) {
	return exec.Command("docker", append([]string{"exec", id}, argv...)...).Output()
}

type guestChecker struct {
	login guestLogin
}

// ready checks power, Tools and the guest login, and returns the VM's container.
func (g *guestChecker) ready(ctx *simulator.Context, ref types.ManagedObjectReference, auth types.BaseGuestAuthentication) (string, types.BaseMethodFault) {
	vm, ok := ctx.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return "", &types.ManagedObjectNotFound{Obj: ref}
	}
	var power types.VirtualMachinePowerState
	var tools string
	ctx.Map.WithLock(vm, func() {
		power = vm.Runtime.PowerState
		if vm.Guest != nil {
			tools = vm.Guest.ToolsRunningStatus
		}
	})
	if power != types.VirtualMachinePowerStatePoweredOn {
		return "", &types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOn, ExistingState: power}
	}
	if tools != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) {
		return "", new(types.GuestOperationsUnavailable)
	}
	creds, ok := auth.(*types.NamePasswordAuthentication)
	if !ok || subtle.ConstantTimeCompare([]byte(creds.Username), []byte(g.login.User)) != 1 ||
		subtle.ConstantTimeCompare([]byte(creds.Password), []byte(g.login.Password)) != 1 {
		return "", new(types.InvalidGuestLogin)
	}
	id := containerOf(ref)
	if id == "" {
		return "", new(types.GuestOperationsUnavailable)
	}
	return id, nil
}

type guestProcess struct {
	name, cmdLine string
	start         time.Time
	end           *time.Time
	exitCode      int32
}

type processManager struct {
	*simulator.GuestProcessManager
	check *guestChecker
	mu    sync.Mutex
	procs map[string]map[int64]*guestProcess // by VM
}

func (m *processManager) StartProgramInGuest(ctx *simulator.Context, req *types.StartProgramInGuest) soap.HasFault {
	body := new(methods.StartProgramInGuestBody)
	id, fault := m.check.ready(ctx, req.Vm, req.Auth)
	if fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	spec := req.Spec.GetGuestProgramSpec()
	if !strings.HasPrefix(spec.ProgramPath, "/") {
		body.Fault_ = simulator.Fault("", &types.InvalidArgument{InvalidProperty: "spec.programPath"})
		return body
	}
	args := []string{"exec"}
	if spec.WorkingDirectory != "" {
		args = append(args, "-w", spec.WorkingDirectory)
	}
	for _, e := range spec.EnvVariables {
		args = append(args, "-e", e)
	}
	cmdLine := fmt.Sprintf("%q %s", spec.ProgramPath, spec.Arguments)
	cmd := exec.Command("docker", append(args, id, "/bin/sh", "-c", fmt.Sprintf("\"%s\" %s", spec.ProgramPath, spec.Arguments))...)
	if err := cmd.Start(); err != nil {
		body.Fault_ = simulator.Fault("", &types.SystemError{Reason: err.Error()})
		return body
	}
	pid := int64(cmd.Process.Pid)
	proc := &guestProcess{name: spec.ProgramPath, cmdLine: cmdLine, start: time.Now()}
	m.mu.Lock()
	if m.procs[req.Vm.Value] == nil {
		m.procs[req.Vm.Value] = map[int64]*guestProcess{}
	}
	m.procs[req.Vm.Value][pid] = proc
	m.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		code := int32(cmd.ProcessState.ExitCode())
		if status, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && status.Signaled() {
			code = 128 + int32(status.Signal())
		}
		now := time.Now()
		m.mu.Lock()
		proc.end, proc.exitCode = &now, code
		m.mu.Unlock()
	}()
	body.Res = &types.StartProgramInGuestResponse{Returnval: pid}
	return body
}

func (m *processManager) ListProcessesInGuest(ctx *simulator.Context, req *types.ListProcessesInGuest) soap.HasFault {
	body := new(methods.ListProcessesInGuestBody)
	if _, fault := m.check.ready(ctx, req.Vm, req.Auth); fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []types.GuestProcessInfo
	for pid, p := range m.procs[req.Vm.Value] {
		wanted := len(req.Pids) == 0
		for _, want := range req.Pids {
			wanted = wanted || want == pid
		}
		if wanted {
			out = append(out, types.GuestProcessInfo{
				Name: p.name, Pid: pid, Owner: "root", CmdLine: p.cmdLine, StartTime: p.start,
				EndTime: p.end, ExitCode: p.exitCode,
			})
		}
	}
	body.Res = &types.ListProcessesInGuestResponse{Returnval: out}
	return body
}

func (m *processManager) TerminateProcessInGuest(ctx *simulator.Context, req *types.TerminateProcessInGuest) soap.HasFault {
	body := new(methods.TerminateProcessInGuestBody)
	if _, fault := m.check.ready(ctx, req.Vm, req.Auth); fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	m.mu.Lock()
	proc := m.procs[req.Vm.Value][req.Pid]
	running := proc != nil && proc.end == nil
	m.mu.Unlock()
	if !running {
		body.Fault_ = simulator.Fault("", &types.GuestProcessNotFound{Pid: req.Pid})
		return body
	}
	_ = syscall.Kill(int(req.Pid), syscall.SIGKILL)
	body.Res = new(types.TerminateProcessInGuestResponse)
	return body
}

type fileManager struct {
	*simulator.GuestFileManager
	check *guestChecker
}

// stat gives size, permission bits, uid and gid of a regular file in the guest.
func guestStat(id, path string) ([4]int64, types.BaseMethodFault) {
	var st [4]int64
	out, err := guestExec(id, "/bin/busybox", "stat", "-c", "%s %a %u %g %F", path)
	if err != nil {
		return st, &types.FileNotFound{FileFault: types.FileFault{File: path}}
	}
	fields := strings.Fields(string(out))
	if len(fields) < 5 || strings.Join(fields[4:], " ") != "regular file" && strings.Join(fields[4:], " ") != "regular empty file" {
		return st, &types.NotAFile{FileFault: types.FileFault{File: path}}
	}
	for i := 0; i < 4; i++ {
		base := 10
		if i == 1 {
			base = 8
		}
		v, err := strconv.ParseInt(fields[i], base, 64)
		if err != nil {
			return st, &types.SystemError{Reason: "stat"}
		}
		st[i] = v
	}
	return st, nil
}

func (m *fileManager) InitiateFileTransferToGuest(ctx *simulator.Context, req *types.InitiateFileTransferToGuest) soap.HasFault {
	id, fault := m.check.ready(ctx, req.Vm, req.Auth)
	if fault == nil && !req.Overwrite {
		if _, err := guestExec(id, "/bin/busybox", "stat", req.GuestFilePath); err == nil {
			fault = &types.FileAlreadyExists{FileFault: types.FileFault{File: req.GuestFilePath}}
		}
	}
	if fault != nil {
		return &methods.InitiateFileTransferToGuestBody{Fault_: simulator.Fault("", fault)}
	}
	return m.GuestFileManager.InitiateFileTransferToGuest(ctx, req)
}

func (m *fileManager) InitiateFileTransferFromGuest(ctx *simulator.Context, req *types.InitiateFileTransferFromGuest) soap.HasFault {
	id, fault := m.check.ready(ctx, req.Vm, req.Auth)
	var st [4]int64
	if fault == nil {
		st, fault = guestStat(id, req.GuestFilePath)
	}
	if fault != nil {
		return &methods.InitiateFileTransferFromGuestBody{Fault_: simulator.Fault("", fault)}
	}
	res := m.GuestFileManager.InitiateFileTransferFromGuest(ctx, req)
	if body, ok := res.(*methods.InitiateFileTransferFromGuestBody); ok && body.Res != nil {
		uid, gid := int32(st[2]), int32(st[3])
		body.Res.Returnval.Size = st[0]
		body.Res.Returnval.Attributes = &types.GuestPosixFileAttributes{OwnerId: &uid, GroupId: &gid, Permissions: st[1]}
	}
	return res
}

func (m *fileManager) ChangeFileAttributesInGuest(ctx *simulator.Context, req *types.ChangeFileAttributesInGuest) soap.HasFault {
	body := new(methods.ChangeFileAttributesInGuestBody)
	id, fault := m.check.ready(ctx, req.Vm, req.Auth)
	if fault == nil {
		_, fault = guestStat(id, req.GuestFilePath)
	}
	if fault == nil {
		if attrs, ok := req.FileAttributes.(*types.GuestPosixFileAttributes); ok {
			if attrs.OwnerId != nil || attrs.GroupId != nil {
				owner := ""
				if attrs.OwnerId != nil {
					owner = strconv.Itoa(int(*attrs.OwnerId))
				}
				if attrs.GroupId != nil {
					owner += ":" + strconv.Itoa(int(*attrs.GroupId))
				}
				if _, err := guestExec(id, "/bin/busybox", "chown", owner, req.GuestFilePath); err != nil {
					fault = &types.GuestPermissionDenied{}
				}
			}
			if fault == nil && attrs.Permissions != 0 {
				if _, err := guestExec(id, "/bin/busybox", "chmod", strconv.FormatInt(attrs.Permissions&0o7777, 8), req.GuestFilePath); err != nil {
					fault = &types.GuestPermissionDenied{}
				}
			}
		}
	}
	if fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	body.Res = new(types.ChangeFileAttributesInGuestResponse)
	return body
}

func (m *fileManager) MoveFileInGuest(ctx *simulator.Context, req *types.MoveFileInGuest) soap.HasFault {
	body := new(methods.MoveFileInGuestBody)
	id, fault := m.check.ready(ctx, req.Vm, req.Auth)
	if fault == nil {
		_, fault = guestStat(id, req.SrcFilePath)
	}
	if fault == nil && !req.Overwrite {
		if _, err := guestExec(id, "/bin/busybox", "stat", req.DstFilePath); err == nil {
			fault = &types.FileAlreadyExists{FileFault: types.FileFault{File: req.DstFilePath}}
		}
	}
	if fault == nil {
		// rename(2) in the guest: mv within one file system.
		if _, err := guestExec(id, "/bin/busybox", "mv", "-f", req.SrcFilePath, req.DstFilePath); err != nil {
			fault = &types.GuestPermissionDenied{}
		}
	}
	if fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	body.Res = new(types.MoveFileInGuestResponse)
	return body
}

func (m *fileManager) DeleteFileInGuest(ctx *simulator.Context, req *types.DeleteFileInGuest) soap.HasFault {
	body := new(methods.DeleteFileInGuestBody)
	id, fault := m.check.ready(ctx, req.Vm, req.Auth)
	if fault == nil {
		_, fault = guestStat(id, req.FilePath)
	}
	if fault == nil {
		if _, err := guestExec(id, "/bin/busybox", "rm", "-f", req.FilePath); err != nil {
			fault = &types.GuestPermissionDenied{}
		}
	}
	if fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	body.Res = new(types.DeleteFileInGuestResponse)
	return body
}

// guestModel gives psm's workers a container (RUN.container) and follows their snapshots.
type guestModel struct {
	registry  *simulator.Registry
	mu        sync.Mutex
	snapshots map[types.ManagedObjectReference]bool
}

func (g *guestModel) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "PsmGuestModel", Value: "psm-guest"}
}

func (g *guestModel) PutObject(mo.Reference) {}

// giveContainer adds RUN.container to a new psm worker. Its config is filled only after the
// registry's Put, so this runs when the folder's CreateVM task (inside CloneVM_Task) succeeds:
// before the clone task itself completes, so before psm can power the worker on.
func (g *guestModel) giveContainer(task *mo.Task) {
	if task.Info.State != types.TaskInfoStateSuccess {
		return
	}
	ref, ok := task.Info.Result.(types.ManagedObjectReference)
	if !ok || ref.Type != "VirtualMachine" {
		return
	}
	vm, ok := g.registry.Get(ref).(*simulator.VirtualMachine)
	if !ok || vm.Config == nil {
		return
	}
	worker := false
	for _, opt := range vm.Config.ExtraConfig {
		switch opt.GetOptionValue().Key {
		case "RUN.container":
			return
		case "psm.worker":
			worker = true
		}
	}
	if worker {
		run := fmt.Sprintf(`["--label","%s=%s","psm-guest"]`, containerLabel, ref.Value)
		vm.Config.ExtraConfig = append(vm.Config.ExtraConfig, &types.OptionValue{Key: "RUN.container", Value: run})
	}
}

func (g *guestModel) RemoveObject(types.ManagedObjectReference) {}

func (g *guestModel) UpdateObject(obj mo.Reference, changes []types.PropertyChange) {
	if task, ok := obj.(*mo.Task); ok {
		g.giveContainer(task)
		return
	}
	vm, ok := obj.(*mo.VirtualMachine)
	if !ok {
		return
	}
	// A removal changes the snapshot tree too (and makes the parent current): not a revert.
	treeChanged := false
	for _, change := range changes {
		treeChanged = treeChanged || change.Name == "snapshot.rootSnapshotList"
	}
	for _, change := range changes {
		if change.Name != "snapshot.currentSnapshot" {
			continue
		}
		var snap types.ManagedObjectReference
		switch v := change.Val.(type) {
		case types.ManagedObjectReference:
			snap = v
		case *types.ManagedObjectReference:
			snap = *v
		default:
			continue
		}
		id := containerOf(vm.Self)
		if id == "" {
			continue
		}
		g.mu.Lock()
		known := g.snapshots[snap]
		g.snapshots[snap] = true
		g.mu.Unlock()
		if known && treeChanged {
			continue
		}
		name := strings.ToLower(strings.ReplaceAll(snap.Value, "_", "-"))
		// Synchronous: the snapshot or revert task completes only once the guest's files match.
		if known {
			_ = exec.Command("docker", "start", "--checkpoint", name, id).Run()
		} else {
			_ = exec.Command("docker", "checkpoint", "create", id, name).Run()
		}
	}
}

func installGuestOperations(registry *simulator.Registry, login guestLogin) {
	check := &guestChecker{login: login}
	fm, ok := registry.Get(types.ManagedObjectReference{Type: "GuestFileManager", Value: "guestOperationsFileManager"}).(*simulator.GuestFileManager)
	pm, ok2 := registry.Get(types.ManagedObjectReference{Type: "GuestProcessManager", Value: "guestOperationsProcessManager"}).(*simulator.GuestProcessManager)
	if !ok || !ok2 {
		panic("psm-vcsim: the model has no guest operations managers")
	}
	registry.Put(&fileManager{GuestFileManager: fm, check: check})
	registry.Put(&processManager{GuestProcessManager: pm, check: check, procs: map[string]map[int64]*guestProcess{}})
	registry.AddHandler(&guestModel{registry: registry, snapshots: map[types.ManagedObjectReference]bool{}})
}

// CreateTemporaryDirectoryInGuest: a fresh 0700 directory (mktemp -d) in DirectoryPath.
func (m *fileManager) CreateTemporaryDirectoryInGuest(ctx *simulator.Context, req *types.CreateTemporaryDirectoryInGuest) soap.HasFault {
	body := new(methods.CreateTemporaryDirectoryInGuestBody)
	id, fault := m.check.ready(ctx, req.Vm, req.Auth)
	dir := req.DirectoryPath
	if dir == "" {
		dir = "/tmp"
	}
	var out []byte
	if fault == nil {
		var err error
		out, err = guestExec(id, "/bin/busybox", "mktemp", "-d", "-p", dir, req.Prefix+"XXXXXX"+req.Suffix)
		if err != nil {
			fault = &types.FileNotFound{FileFault: types.FileFault{File: dir}}
		}
	}
	if fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	body.Res = &types.CreateTemporaryDirectoryInGuestResponse{Returnval: strings.TrimSpace(string(out))}
	return body
}

// DeleteDirectoryInGuest: rmdir, or rm -r when recursive.
func (m *fileManager) DeleteDirectoryInGuest(ctx *simulator.Context, req *types.DeleteDirectoryInGuest) soap.HasFault {
	body := new(methods.DeleteDirectoryInGuestBody)
	id, fault := m.check.ready(ctx, req.Vm, req.Auth)
	if fault == nil {
		argv := []string{"/bin/busybox", "rmdir", req.DirectoryPath}
		if req.Recursive {
			argv = []string{"/bin/busybox", "rm", "-r", req.DirectoryPath}
		}
		if _, err := guestExec(id, argv...); err != nil {
			fault = &types.FileNotFound{FileFault: types.FileFault{File: req.DirectoryPath}}
		}
	}
	if fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	body.Res = new(types.DeleteDirectoryInGuestResponse)
	return body
}

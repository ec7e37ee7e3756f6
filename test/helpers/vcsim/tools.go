package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// psm: a model of VMware Tools. govmomi 0.24.2 never reports Tools running (unless a VM is
// backed by a docker container), so WaitForToolsInGuest and "ip" could not be exercised.
// Real Tools start some time after power-on, report the guest's addresses, and stop at power
// off; this handler does the same, with one fixed address per VM (10.88.0.N/24).
const toolsBootDelay = 300 * time.Millisecond

type toolsModel struct {
	registry *simulator.Registry
	mu       sync.Mutex
	next     int
	address  map[types.ManagedObjectReference]string
}

func installTools(registry *simulator.Registry) {
	registry.AddHandler(&toolsModel{registry: registry, next: 10, address: map[types.ManagedObjectReference]string{}})
}

func (t *toolsModel) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "PsmToolsModel", Value: "psm-tools"}
}

func (t *toolsModel) PutObject(mo.Reference) {}

func (t *toolsModel) RemoveObject(ref types.ManagedObjectReference) {
	t.mu.Lock()
	delete(t.address, ref)
	t.mu.Unlock()
}

func (t *toolsModel) UpdateObject(obj mo.Reference, changes []types.PropertyChange) {
	vm, ok := obj.(*mo.VirtualMachine)
	if !ok {
		return
	}
	for _, change := range changes {
		if change.Name != "runtime.powerState" {
			continue
		}
		state, _ := change.Val.(types.VirtualMachinePowerState)
		ref := vm.Self
		// Not under the caller's lock: the power task holds the VM's lock while it runs.
		go t.follow(ref, state)
	}
}

func (t *toolsModel) addressOf(ref types.ManagedObjectReference) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a, ok := t.address[ref]; ok {
		return a
	}
	a := fmt.Sprintf("10.88.0.%d", t.next)
	t.next++
	t.address[ref] = a
	return a
}

func (t *toolsModel) follow(ref types.ManagedObjectReference, state types.VirtualMachinePowerState) {
	if state == types.VirtualMachinePowerStatePoweredOn {
		time.Sleep(toolsBootDelay)
	}
	obj, ok := t.registry.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	t.registry.WithLock(obj, func() {
		if obj.Runtime.PowerState != state {
			return // changed again meanwhile; that change has its own follower
		}
		if state == types.VirtualMachinePowerStatePoweredOn {
			t.registry.Update(obj, toolsUp(obj, t.addressOf(ref)))
		} else {
			t.registry.Update(obj, toolsDown())
		}
	})
}

func toolsUp(vm *simulator.VirtualMachine, address string) []types.PropertyChange {
	mac := ""
	for _, device := range vm.Config.Hardware.Device {
		if nic, ok := device.(types.BaseVirtualEthernetCard); ok {
			mac = nic.GetVirtualEthernetCard().MacAddress
			break
		}
	}
	net := []types.GuestNicInfo{{
		Network:        "VM Network",
		IpAddress:      []string{address},
		MacAddress:     mac,
		Connected:      true,
		DeviceConfigId: 4000,
		IpConfig: &types.NetIpConfigInfo{IpAddress: []types.NetIpConfigInfoIpAddress{{
			IpAddress: address, PrefixLength: 24, State: "preferred",
		}}},
	}}
	return []types.PropertyChange{
		{Name: "guest.toolsRunningStatus", Val: string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)},
		{Name: "guest.toolsStatus", Val: types.VirtualMachineToolsStatusToolsOk},
		{Name: "guest.toolsVersionStatus2", Val: "guestToolsCurrent"},
		{Name: "guest.guestState", Val: "running"},
		{Name: "guest.ipAddress", Val: address},
		{Name: "guest.net", Val: net},
		{Name: "summary.guest.toolsRunningStatus", Val: string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)},
		{Name: "summary.guest.toolsStatus", Val: types.VirtualMachineToolsStatusToolsOk},
		{Name: "summary.guest.ipAddress", Val: address},
	}
}

func toolsDown() []types.PropertyChange {
	return []types.PropertyChange{
		{Name: "guest.toolsRunningStatus", Val: string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning)},
		{Name: "guest.toolsStatus", Val: types.VirtualMachineToolsStatusToolsNotRunning},
		{Name: "guest.guestState", Val: "notRunning"},
		{Name: "guest.ipAddress", Val: ""},
		{Name: "guest.net", Val: []types.GuestNicInfo{}},
		{Name: "summary.guest.toolsRunningStatus", Val: string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning)},
		{Name: "summary.guest.toolsStatus", Val: types.VirtualMachineToolsStatusToolsNotRunning},
		{Name: "summary.guest.ipAddress", Val: ""},
	}
}

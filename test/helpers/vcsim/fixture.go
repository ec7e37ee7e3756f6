package main

import (
	"context"
	"fmt"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/types"
)

// Names the tests' virtual.conf refers to.
const (
	templateName     = "psm-template"
	templateSnapshot = "psm-base"
)

// cloneTemplate makes DC0/vm/psm-template (a full clone of the model's DC0_H0_VM0, powered
// off) and takes its snapshot psm-base.
func cloneTemplate(ctx context.Context, c *vim25.Client) error {
	finder := find.NewFinder(c, false)
	dc, err := finder.Datacenter(ctx, "DC0")
	if err != nil {
		return fmt.Errorf("%w: %v", errFixture, err)
	}
	finder.SetDatacenter(dc)
	source, err := finder.VirtualMachine(ctx, "DC0_H0_VM0")
	if err != nil {
		return fmt.Errorf("%w: %v", errFixture, err)
	}
	folders, err := dc.Folders(ctx)
	if err != nil {
		return fmt.Errorf("%w: %v", errFixture, err)
	}
	task, err := source.Clone(ctx, folders.VmFolder, templateName, types.VirtualMachineCloneSpec{})
	if err != nil {
		return fmt.Errorf("%w: clone: %v", errFixture, err)
	}
	info, err := task.WaitForResult(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: clone: %v", errFixture, err)
	}
	template := object.NewVirtualMachine(c, info.Result.(types.ManagedObjectReference))
	snap, err := template.CreateSnapshot(ctx, templateSnapshot, "psm linked-clone base", false, false)
	if err != nil {
		return fmt.Errorf("%w: snapshot: %v", errFixture, err)
	}
	if err := snap.Wait(ctx); err != nil {
		return fmt.Errorf("%w: snapshot: %v", errFixture, err)
	}
	return nil
}

package main

import (
	"net/url"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/vpx"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// psm: 0.24.2's FetchUserPrivilegeOnEntities answers every user with the Admin role. With a
// privilege list on stdin, the simulated user holds exactly that role instead, so psm's
// strict_role check can be seen to pass for psm's role and to refuse for anything wider.
type roleAuthorization struct {
	*simulator.AuthorizationManager
	privileges []string
}

func (a *roleAuthorization) FetchUserPrivilegeOnEntities(req *types.FetchUserPrivilegeOnEntities) soap.HasFault {
	var result []types.UserPrivilegeResult
	for _, entity := range req.Entities {
		result = append(result, types.UserPrivilegeResult{Entity: entity, Privileges: a.privileges})
	}
	return &methods.FetchUserPrivilegeOnEntitiesBody{
		Res: &types.FetchUserPrivilegeOnEntitiesResponse{Returnval: result},
	}
}

func installRole(registry *simulator.Registry, privileges []string) {
	manager, ok := registry.Get(*vpx.ServiceContent.AuthorizationManager).(*simulator.AuthorizationManager)
	if !ok {
		panic("psm-vcsim: the model has no AuthorizationManager")
	}
	// Same reference: the registry's dispatch finds the wrapper's method first.
	registry.Put(&roleAuthorization{AuthorizationManager: manager, privileges: privileges})
}

func datastorePaths(registry *simulator.Registry) []string {
	var paths []string
	for _, entity := range registry.All("Datastore") {
		ds, ok := entity.(*simulator.Datastore)
		if !ok {
			continue
		}
		info := ds.Info.GetDatastoreInfo()
		if u, err := url.Parse(info.Url); err == nil && u.Path != "" {
			paths = append(paths, u.Path)
		} else {
			paths = append(paths, info.Url)
		}
	}
	return paths
}

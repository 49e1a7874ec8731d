// Package access holds the catalogue of permissions, the roles that bundle
// them, and the grants of roles to users at a site or everywhere.
package access

import "sort"

// Permission is the right to take one kind of action. The catalogue is fixed
// in code, named after actions, so every route and every rule can name what
// it needs.
type Permission string

// Module groups permissions on the matrix page.
type Module string

// PermissionInfo describes one permission of the catalogue.
type PermissionInfo struct {
	Name        Permission
	Module      Module
	Description string
}

// The catalogue. Later modules add their permissions here, never elsewhere,
// so the role × permission matrix always shows all of them.
const (
	SiteView        Permission = "site.view"
	SiteManage      Permission = "site.manage"
	UserView        Permission = "user.view"
	UserManage      Permission = "user.manage"
	RoleView        Permission = "role.view"
	RoleManage      Permission = "role.manage"
	SettingsView    Permission = "settings.view"
	SettingsManage  Permission = "settings.manage"
	AuditView       Permission = "audit.view"
	AuditExport     Permission = "audit.export"
	VolunteerView   Permission = "volunteer.view"
	VolunteerEdit   Permission = "volunteer.edit"
	VolunteerPHI    Permission = "volunteer.view_phi"
	VolunteerImport Permission = "volunteer.import"
	VolunteerErase  Permission = "volunteer.privacy_remove"
	ConfigView      Permission = "config.view"
	ConfigManage    Permission = "config.manage"
	ConfigExport    Permission = "config.export"
	ConfigImport    Permission = "config.import"
	StudyView       Permission = "study.view"
	StudyDesign     Permission = "study.design"
	ODMExchange     Permission = "study.odm_exchange"
	// The lifecycle console's own permissions; they mean nothing inside an
	// instance.
	ConsoleView   Permission = "console.view"
	ConsoleManage Permission = "console.manage"
)

// Catalogue lists every permission, grouped by module.
var Catalogue = []PermissionInfo{
	{SiteView, "Sites", "See sites and their details"},
	{SiteManage, "Sites", "Create, edit and archive sites"},
	{UserView, "Users", "See user accounts"},
	{UserManage, "Users", "Create, edit, deactivate users, reset passwords and grant roles"},
	{RoleView, "Roles", "See roles and the permission matrix"},
	{RoleManage, "Roles", "Create and edit roles and their permissions"},
	{SettingsView, "Settings", "See general and system settings"},
	{SettingsManage, "Settings", "Change general and system settings"},
	{AuditView, "Audit trail", "View the audit trail"},
	{AuditExport, "Audit trail", "Export the audit trail as CSV"},
	{VolunteerView, "Volunteers", "Search and view volunteers (personal data masked)"},
	{VolunteerEdit, "Volunteers", "Register and edit volunteers"},
	{VolunteerPHI, "Volunteers", "See volunteers' unmasked personal health information"},
	{VolunteerImport, "Volunteers", "Import and export volunteers as CSV"},
	{VolunteerErase, "Volunteers", "Remove a volunteer's personal data on request (right to erasure)"},
	{ConfigView, "Configuration", "See dictionaries, devices, labs, labels and Configure lists"},
	{ConfigManage, "Configuration", "Change dictionaries, devices, labs, labels and Configure lists"},
	{ConfigExport, "Configuration", "Export configuration bundles (roles, sites, settings and configuration) to promote to another instance"},
	{ConfigImport, "Configuration", "Import configuration bundles: adds and changes roles, sites and settings in one step"},
	{StudyView, "Studies", "See studies and the CRF library"},
	{StudyDesign, "Studies", "Design studies and edit the CRF library"},
	{ODMExchange, "Studies", "Import and export CDISC ODM files"},
	{ConsoleView, "Lifecycle console", "Console only: see organisations, environments, instances, their timelines and logs"},
	{ConsoleManage, "Lifecycle console", "Console only: create, clone, start, stop and destroy environments and instances"},
}

// Known reports whether p is in the catalogue.
func Known(p Permission) bool {
	for _, info := range Catalogue {
		if info.Name == p {
			return true
		}
	}
	return false
}

// Modules returns the catalogue's modules in their catalogue order.
func Modules() []Module {
	var out []Module
	seen := map[Module]bool{}
	for _, info := range Catalogue {
		if !seen[info.Module] {
			seen[info.Module] = true
			out = append(out, info.Module)
		}
	}
	return out
}

// Set is a set of permissions.
type Set map[Permission]bool

// Has reports whether the set holds p.
func (s Set) Has(p Permission) bool { return s[p] }

// Sorted returns the permissions in name order.
func (s Set) Sorted() []Permission {
	out := make([]Permission, 0, len(s))
	for p := range s {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

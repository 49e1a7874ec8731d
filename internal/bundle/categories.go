package bundle

import "github.com/cohort-clinical/cohort/internal/setting"

// categories is every category this build knows, in the fixed order a
// bundle keeps them in and an import applies them in. Add a category at
// its place: roles, sites, general-settings, system-settings,
// medical-dictionaries, devices, labs, barcode-labels, configure-lists.
// A category must come after any category whose records it refers to.
var categories = []Category{
	roleCategory{},
	siteCategory{},
	settingCategory{name: "general-settings", scope: setting.General},
	settingCategory{name: "system-settings", scope: setting.System},
	dictionaryCategory{},
	deviceCategory{}, // after sites: devices name their site
	labCategory{},
	labelCategory{},
	configListCategory{},
}

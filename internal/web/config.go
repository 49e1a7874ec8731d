package web

import (
	"net/http"

	"github.com/cohort-clinical/cohort/internal/access"
)

// configIndex lists the configuration modules. Each module adds its own
// entry to config.html.
func (s *Server) configIndex(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "config.html", s.newPage(r, "Configuration", nil))
}

// registerConfigRoutes registers the configuration index, the volunteer
// Configure lists and the devices. Seeing needs config.view, changing
// config.manage.
func (s *Server) registerConfigRoutes() {
	view, manage := need(access.ConfigView), need(access.ConfigManage)
	s.handle("GET", "/config", view, s.configIndex)

	s.handle("GET", "/config/lists", view, s.configListKinds)
	s.handle("GET", "/config/lists/{list}", view, s.configListEntries)
	s.handle("GET", "/config/lists/{list}/new", manage, s.configListNew)
	s.handle("POST", "/config/lists/{list}", manage, s.configListCreate)
	s.handle("GET", "/config/lists/{list}/{code}", view, s.configListShow)
	s.handle("POST", "/config/lists/{list}/{code}", manage, s.configListUpdate)
	s.handle("POST", "/config/lists/{list}/{code}/active", manage, s.configListSetActive)
	s.handle("POST", "/config/lists/{list}/{code}/move", manage, s.configListMove)

	s.handle("GET", "/config/device-types", view, s.deviceTypeList)
	s.handle("GET", "/config/device-types/new", manage, s.deviceTypeNew)
	s.handle("POST", "/config/device-types", manage, s.deviceTypeCreate)
	s.handle("GET", "/config/device-types/{code}", view, s.deviceTypeShow)
	s.handle("POST", "/config/device-types/{code}", manage, s.deviceTypeUpdate)
	s.handle("POST", "/config/device-types/{code}/active", manage, s.deviceTypeSetActive)

	s.handle("GET", "/config/devices", view, s.deviceList)
	s.handle("GET", "/config/devices/new", manage, s.deviceNew)
	s.handle("POST", "/config/devices", manage, s.deviceCreate)
	s.handle("GET", "/config/devices/{tag}", view, s.deviceShow)
	s.handle("POST", "/config/devices/{tag}", manage, s.deviceUpdate)
	s.handle("POST", "/config/devices/{tag}/calibration", manage, s.deviceCalibrate)
}

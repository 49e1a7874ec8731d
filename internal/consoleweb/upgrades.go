package consoleweb

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/release"
)

func (s *Server) registerUpgradeRoutes() {
	s.handle("GET", "/o/{org}/{env}/{role}/upgrades", need(access.ConsoleView), s.upgradeList)
	s.handle("POST", "/o/{org}/{env}/{role}/upgrades", need(access.ConsoleManage), s.upgradeRequest)
	s.handle("POST", "/o/{org}/{env}/{role}/upgrades/{op}/cancel", need(access.ConsoleManage), s.upgradeCancel)
	s.handle("GET", "/o/{org}/upgrade-vals", need(access.ConsoleView), s.upgradeVALList)
	s.handle("POST", "/o/{org}/upgrade-vals", need(access.ConsoleManage), s.upgradeVALRequest)
	s.handle("POST", "/o/{org}/upgrade-vals/{env}/signoff", need(access.ConsoleManage), s.upgradeVALSignOff)
}

// buildChoice is one build the upgrade form offers.
type buildChoice struct {
	Ref   string // VERSION+NUMBER
	Label string
}

// upgradesPage is the data of an instance's upgrade page.
type upgradesPage struct {
	Key     string
	Org     string
	Running console.Build
	State   console.State
	Kind    console.Kind
	Builds  []buildChoice
	Zones   []string
	History []console.UpgradeRecord
	// Current is the unfinished upgrade, shown with its progress.
	Current *console.UpgradeRecord
	Step    string
	Percent int
	// BackupsKept is how many successful upgrades' backups are kept.
	BackupsKept int
}

// slotZones are the time zones the slot picker offers; the agreed slot is
// usually the customer's local evening.
var slotZones = []string{"UTC", "Europe/Amsterdam", "Europe/London", "Europe/Berlin", "Europe/Brussels", "Europe/Paris",
	"America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney"}

func (s *Server) buildChoices(r *http.Request, running console.Build) []buildChoice {
	var out []buildChoice
	seen := map[console.Build]bool{running: true}
	if own := s.Console.Build; !seen[own] {
		seen[own] = true
		out = append(out, buildChoice{Ref: own.Version + "+" + own.Number, Label: own.String() + " (the console's own)"})
	}
	list, err := release.List(r.Context(), s.Console.DB)
	if err == nil {
		for _, b := range list {
			if seen[b.Ref()] {
				continue
			}
			seen[b.Ref()] = true
			label := b.String()
			if b.SchemaVersion > 0 {
				label += " — schema " + strconv.FormatInt(b.SchemaVersion, 10)
			}
			out = append(out, buildChoice{Ref: b.Key(), Label: label})
		}
	}
	return out
}

func (s *Server) upgradesData(r *http.Request) (upgradesPage, error) {
	inst, err := console.GetInstance(r.Context(), s.Console.DB, keyOf(r))
	if err != nil {
		return upgradesPage{}, err
	}
	d := upgradesPage{Key: inst.Key(), Org: inst.Org, Running: inst.Build, State: inst.State, Kind: inst.Kind, Zones: slotZones}
	d.Builds = s.buildChoices(r, inst.Build)
	if d.History, err = console.UpgradesOf(r.Context(), s.Console.DB, inst.Key()); err != nil {
		return d, err
	}
	if d.BackupsKept, err = console.BackupsKeptSetting(r.Context(), s.Console.DB); err != nil {
		return d, err
	}
	for i := range d.History {
		if !d.History[i].Finished() {
			d.Current = &d.History[i]
			if op, err := console.GetOperation(r.Context(), s.Console.DB, d.Current.OperationID); err == nil {
				d.Step, d.Percent = op.Step, op.Progress
			}
			break
		}
	}
	return d, nil
}

func (s *Server) upgradeList(w http.ResponseWriter, r *http.Request) {
	d, err := s.upgradesData(r)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Upgrades", nil), err)
		return
	}
	p := s.newPage(r, "Upgrades of "+d.Key, d)
	p.Form = map[string][]string{"tz": {"UTC"}}
	switch r.URL.Query().Get("notice") {
	case "requested":
		p.Notice = "The upgrade was requested; this page follows its progress."
	case "scheduled":
		p.Notice = "The upgrade is scheduled for the agreed slot; the running console carries it out then."
	case "cancelled":
		p.Notice = "The scheduled upgrade was called off."
	}
	s.render(w, r, http.StatusOK, "upgrades.html", p)
}

// parseBuildRef reads VERSION+NUMBER as the build picker posts it.
func parseBuildRef(ref string) (console.Build, bool) {
	v, n, ok := strings.Cut(strings.TrimSpace(ref), "+")
	if !ok || v == "" || n == "" {
		return console.Build{}, false
	}
	return console.Build{Version: v, Number: n}, true
}

// parseSlotForm reads the slot picker: a local date and time in the
// chosen time zone; empty means now.
func parseSlotForm(at, tz string) (time.Time, error) {
	at = strings.TrimSpace(at)
	if at == "" {
		return time.Time{}, nil
	}
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.Time{}, check.FieldErrors{"tz": "Choose the time zone of the agreed slot."}
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", at, loc)
	if err != nil {
		return time.Time{}, check.FieldErrors{"at": "Give the agreed slot as a date and time, or leave it empty for now."}
	}
	if t.Before(time.Now().Add(-time.Minute)) {
		return time.Time{}, check.FieldErrors{"at": "The agreed slot is in the past; leave it empty to upgrade now."}
	}
	return t, nil
}

func (s *Server) upgradeRequest(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	key := keyOf(r)
	to, ok := parseBuildRef(r.PostFormValue("build"))
	var err error
	if !ok {
		err = check.FieldErrors{"build": "Choose the build to upgrade to."}
	}
	var at time.Time
	if err == nil {
		at, err = parseSlotForm(r.PostFormValue("at"), r.PostFormValue("tz"))
	}
	var op console.Operation
	if err == nil {
		op, err = s.Console.RequestUpgrade(r.Context(), visitOf(r).user.Actor(), key, to, at, r.PostFormValue("reason"))
	}
	if err != nil {
		s.upgradesProblem(w, r, key, err)
		return
	}
	notice := "requested"
	if op.State == console.OpScheduled {
		notice = "scheduled"
	}
	redirect(w, r, pathOf(key)+"/upgrades?notice="+notice)
}

// upgradesProblem answers a refused upgrade form with the instance's
// upgrade page and the sentence saying why.
func (s *Server) upgradesProblem(w http.ResponseWriter, r *http.Request, key string, err error) {
	d, derr := s.upgradesData(r)
	if derr != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Upgrades", nil), derr)
		return
	}
	s.formProblem(w, r, "upgrades.html", s.newPage(r, "Upgrades of "+key, d), err)
}

func (s *Server) upgradeCancel(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	key := keyOf(r)
	id, perr := strconv.ParseInt(r.PathValue("op"), 10, 64)
	err := check.ErrNotFound
	if perr == nil {
		err = s.Console.CancelUpgrade(r.Context(), visitOf(r).user.Actor(), id, r.PostFormValue("reason"))
	}
	if err != nil {
		s.upgradesProblem(w, r, key, err)
		return
	}
	redirect(w, r, pathOf(key)+"/upgrades?notice=cancelled")
}

// upgradeVALsPage is the data of an organisation's upgrade VAL page.
type upgradeVALsPage struct {
	Org    string
	Prod   *console.Instance
	Builds []buildChoice
	VALs   []console.UpgradeVAL
	// Obfuscates is false while the console cannot copy PROD safely.
	Obfuscates bool
}

func (s *Server) upgradeVALData(r *http.Request) (upgradeVALsPage, error) {
	org := r.PathValue("org")
	if _, err := console.GetOrganisation(r.Context(), s.Console.DB, org); err != nil {
		return upgradeVALsPage{}, err
	}
	d := upgradeVALsPage{Org: org, Obfuscates: s.Console.Obfuscate != nil}
	envs, err := console.Environments(r.Context(), s.Console.DB, org)
	if err != nil {
		return d, err
	}
	for _, e := range envs {
		if e.Kind != console.Prod || !e.Live() {
			continue
		}
		for i := range e.Instances {
			if e.Instances[i].Role == console.Main {
				d.Prod = &e.Instances[i]
			}
		}
	}
	running := console.Build{}
	if d.Prod != nil {
		running = d.Prod.Build
	}
	d.Builds = s.buildChoices(r, running)
	d.VALs, err = console.UpgradeVALs(r.Context(), s.Console.DB, org)
	return d, err
}

func (s *Server) upgradeVALList(w http.ResponseWriter, r *http.Request) {
	d, err := s.upgradeVALData(r)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Upgrade VALs", nil), err)
		return
	}
	p := s.newPage(r, "Upgrade VALs of "+d.Org, d)
	switch r.URL.Query().Get("notice") {
	case "requested":
		p.Notice = "The upgrade VAL was requested: PROD is copied, obfuscated, then upgraded to the new build."
	case "signed":
		p.Notice = "The sign-off was recorded."
	}
	s.render(w, r, http.StatusOK, "upgrade_vals.html", p)
}

func (s *Server) upgradeVALRequest(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	org := r.PathValue("org")
	to, ok := parseBuildRef(r.PostFormValue("build"))
	var err error
	if !ok {
		err = check.FieldErrors{"build": "Choose the build to validate."}
	} else {
		_, _, err = s.Console.RequestUpgradeVAL(r.Context(), visitOf(r).user.Actor(), org, to, r.PostFormValue("reason"))
	}
	if err != nil {
		s.upgradeVALProblem(w, r, err)
		return
	}
	redirect(w, r, "/o/"+org+"/upgrade-vals?notice=requested")
}

func (s *Server) upgradeVALSignOff(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	org, env := r.PathValue("org"), r.PathValue("env")
	var err error
	switch r.PostFormValue("verdict") {
	case console.SignedValidated, console.SignedRejected:
		err = s.Console.SignOffUpgradeVAL(r.Context(), visitOf(r).user.Actor(), org, env, r.PostFormValue("verdict") == console.SignedValidated, r.PostFormValue("reason"))
	default:
		err = check.FieldErrors{"verdict": "Choose validated or rejected."}
	}
	if err != nil {
		s.upgradeVALProblem(w, r, err)
		return
	}
	redirect(w, r, "/o/"+org+"/upgrade-vals?notice=signed")
}

func (s *Server) upgradeVALProblem(w http.ResponseWriter, r *http.Request, err error) {
	d, derr := s.upgradeVALData(r)
	if derr != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Upgrade VALs", nil), derr)
		return
	}
	s.formProblem(w, r, "upgrade_vals.html", s.newPage(r, "Upgrade VALs of "+d.Org, d), err)
}

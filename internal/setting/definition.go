// Package setting holds an instance's general settings (organisation,
// branding, locale, single sign-on …) and system settings (sessions,
// passwords, lockout, audit display …). Every key is declared once in code
// with its type, bounds and default, and with a flag saying whether it is
// integration-specific: such keys (SSO, external endpoints) belong to one
// instance and are never promoted to another.
package setting

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Scope separates what clinic administrators tune (general) from how the
// platform behaves (system).
type Scope string

// The two scopes.
const (
	General Scope = "general"
	System  Scope = "system"
)

// Kind is the type of a setting's value.
type Kind string

// The kinds of value a setting can hold.
const (
	Text     Kind = "text"
	Integer  Kind = "integer"
	Boolean  Kind = "boolean"
	Colour   Kind = "colour"
	TimeZone Kind = "timezone"
	Choice   Kind = "choice"
	URL      Kind = "url"
	Secret   Kind = "secret"
)

// Definition declares one setting.
type Definition struct {
	Key     string
	Scope   Scope
	Kind    Kind
	Label   string
	Help    string
	Default string
	Min     int
	Max     int
	Choices []string
	// IntegrationSpecific keys describe this instance's links to the outside
	// world (SSO, external endpoints); configuration promotion skips them.
	IntegrationSpecific bool
	// Optional lets a text, URL or secret stay empty.
	Optional bool
}

// DateFormats maps the date formats offered to Go layouts.
var DateFormats = map[string]string{
	"YYYY-MM-DD":  "2006-01-02",
	"DD/MM/YYYY":  "02/01/2006",
	"MM/DD/YYYY":  "01/02/2006",
	"DD-MMM-YYYY": "02-Jan-2006",
}

// Definitions is every setting an instance has.
var Definitions = []Definition{
	{Key: "org.name", Scope: General, Kind: Text, Label: "Organisation name", Default: "Demo Clinical Research Unit", Max: 120},
	{Key: "branding.colour", Scope: General, Kind: Colour, Label: "Brand colour", Help: "Shown in the header, as #RRGGBB.", Default: "#1f5f8b"},
	{Key: "branding.logo_url", Scope: General, Kind: URL, Label: "Logo address", Help: "An https address of the logo image.", Optional: true},
	{Key: "locale.time_zone", Scope: General, Kind: TimeZone, Label: "Default time zone", Default: "Europe/Amsterdam"},
	{Key: "locale.date_format", Scope: General, Kind: Choice, Label: "Date format", Default: "DD-MMM-YYYY",
		Choices: []string{"YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY", "DD-MMM-YYYY"}},
	{Key: "volunteer.number_pattern", Scope: General, Kind: Text, Label: "Volunteer number pattern", Help: "For example V{seq:6}.", Default: "V{seq:6}", Max: 40},
	{Key: "sso.enabled", Scope: General, Kind: Boolean, Label: "Single sign-on", Default: "false", IntegrationSpecific: true},
	{Key: "sso.issuer_url", Scope: General, Kind: URL, Label: "Identity provider (OIDC issuer)", Optional: true, IntegrationSpecific: true},
	{Key: "sso.client_id", Scope: General, Kind: Text, Label: "SSO client id", Optional: true, Max: 200, IntegrationSpecific: true},
	{Key: "sso.client_secret", Scope: General, Kind: Secret, Label: "SSO client secret", Optional: true, IntegrationSpecific: true},
	{Key: "lab.interface_url", Scope: General, Kind: URL, Label: "Lab interface endpoint", Help: "Where lab results are received from.", Optional: true, IntegrationSpecific: true},

	{Key: "session.idle_minutes", Scope: System, Kind: Integer, Label: "Session idle timeout (minutes)", Default: "30", Min: 1, Max: 480},
	{Key: "session.absolute_hours", Scope: System, Kind: Integer, Label: "Session absolute timeout (hours)", Default: "12", Min: 1, Max: 72},
	{Key: "password.min_length", Scope: System, Kind: Integer, Label: "Minimum password length", Default: "12", Min: 8, Max: 128},
	{Key: "password.min_classes", Scope: System, Kind: Integer, Label: "Character classes required",
		Help: "How many of lower case, upper case, digits and symbols a password must contain.", Default: "3", Min: 1, Max: 4},
	{Key: "lockout.threshold", Scope: System, Kind: Integer, Label: "Failed logins before lockout", Default: "5", Min: 1, Max: 20},
	{Key: "lockout.minutes", Scope: System, Kind: Integer, Label: "Lockout duration (minutes)", Default: "15", Min: 1, Max: 1440},
	{Key: "audit.retention_years", Scope: System, Kind: Integer, Label: "Audit trail retention shown to inspectors (years)", Default: "15", Min: 1, Max: 50},
	{Key: "audit.page_size", Scope: System, Kind: Integer, Label: "Audit viewer rows per page", Default: "50", Min: 10, Max: 500},
}

// Lookup returns the definition of key.
func Lookup(key string) (Definition, bool) {
	for _, d := range Definitions {
		if d.Key == key {
			return d, true
		}
	}
	return Definition{}, false
}

// InScope returns the definitions of one scope, in declaration order.
func InScope(s Scope) []Definition {
	var out []Definition
	for _, d := range Definitions {
		if d.Scope == s {
			out = append(out, d)
		}
	}
	return out
}

var colourPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Normalize trims the value and validates it against the definition,
// returning a sentence a user can act on.
func (d Definition) Normalize(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" && d.Kind != Boolean {
		if d.Optional {
			return "", nil
		}
		return "", fmt.Errorf("this setting is required")
	}
	switch d.Kind {
	case Text, Secret:
		if d.Max > 0 && len(v) > d.Max {
			return "", fmt.Errorf("keep it under %d characters", d.Max)
		}
	case Integer:
		n, err := strconv.Atoi(v)
		if err != nil {
			return "", fmt.Errorf("%q is not a whole number", v)
		}
		if n < d.Min || n > d.Max {
			return "", fmt.Errorf("use a number from %d to %d", d.Min, d.Max)
		}
		v = strconv.Itoa(n)
	case Boolean:
		switch strings.ToLower(v) {
		case "true", "on", "yes", "1":
			v = "true"
		case "", "false", "off", "no", "0":
			v = "false"
		default:
			return "", fmt.Errorf("%q is not yes or no", v)
		}
	case Colour:
		if !colourPattern.MatchString(v) {
			return "", fmt.Errorf("%q is not a colour; use #RRGGBB", v)
		}
		v = strings.ToLower(v)
	case TimeZone:
		if _, err := time.LoadLocation(v); err != nil || v == "Local" {
			return "", fmt.Errorf("%q is not a time zone; use an IANA name such as Europe/Amsterdam", v)
		}
	case Choice:
		if !slices.Contains(d.Choices, v) {
			return "", fmt.Errorf("choose one of %s", strings.Join(d.Choices, ", "))
		}
	case URL:
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return "", fmt.Errorf("%q is not a web address; use https://…", v)
		}
	}
	return v, nil
}

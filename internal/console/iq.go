package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/instance"
	"github.com/cohort-clinical/cohort/internal/store"
)

// IQCheck is one check of an Installation Qualification: what was
// expected, what the console found when it looked, and whether they agree.
type IQCheck struct {
	Name     string `json:"name"`
	Expected string `json:"expected"`
	Found    string `json:"found"`
	Passed   bool   `json:"passed"`
}

// IQBuild is the build an instance runs as the IQ document records it.
type IQBuild struct {
	Version       string `json:"version"`
	Number        string `json:"number"`
	SHA256        string `json:"sha256"`
	SchemaVersion int64  `json:"schema_version"`
}

// IQContent is what an IQ document says. It is stored as canonical JSON
// (this struct's field order, no indentation, no HTML escaping) and its
// SHA-256 is taken over exactly those bytes.
type IQContent struct {
	Number           string    `json:"number"`
	Title            string    `json:"title"`
	Organisation     string    `json:"organisation"`
	OrganisationName string    `json:"organisation_name"`
	Instance         string    `json:"instance"`
	Environment      string    `json:"environment"`
	Kind             string    `json:"kind"`
	Role             string    `json:"role"`
	URLPath          string    `json:"url_path"`
	Build            IQBuild   `json:"build"`
	Engine           string    `json:"engine"`
	SchemaVersion    int64     `json:"schema_version"`
	Checks           []IQCheck `json:"checks"`
	IssuedBy         string    `json:"issued_by"`
	IssuedAt         string    `json:"issued_at"`
}

// IQDocument is an issued Installation Qualification document.
type IQDocument struct {
	Number   string
	Org      string
	Instance string
	IssuedAt time.Time
	IssuedBy string
	// SHA256 is the hash of JSON recorded when the document was issued.
	SHA256  string
	JSON    []byte
	Content IQContent
}

// Intact reports whether the stored content still hashes to the stored
// SHA-256.
func (d IQDocument) Intact() bool { return sha256Hex(d.JSON) == d.SHA256 }

// IQFailed is an IQ that found what it checked not as expected: nothing
// was issued. Checks holds every check, so the failed ones can be shown.
type IQFailed struct {
	Instance string
	Checks   []IQCheck
}

// Error names every check that failed.
func (e *IQFailed) Error() string {
	var failed []string
	for _, c := range e.Checks {
		if !c.Passed {
			failed = append(failed, fmt.Sprintf("%s (expected %s, found %s)", c.Name, c.Expected, c.Found))
		}
	}
	return fmt.Sprintf("No IQ document was issued for %s: %s failed.", e.Instance, strings.Join(failed, "; "))
}

// BuildFingerprints is implemented by a release catalog that recorded each
// build's SHA-256 when it was registered; the IQ compares the binary the
// instance runs from with it.
type BuildFingerprints interface {
	BuildSHA256(ctx context.Context, b Build) (string, error)
}

// actionIssue and actionIssueFailed are the console trail's actions for an
// IQ document issued and an IQ whose checks failed.
const (
	actionIssue       audit.Action = "issue"
	actionIssueFailed audit.Action = "issue_failed"
)

// iqClient asks instances whether they are ready; it never follows a
// redirect, so a check sees the instance's own answer.
var iqClient = &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// IssueIQ checks a running VAL or PROD instance for real — its identity,
// the build it runs and that build's SHA-256 and schema version, its
// database's engine and schema version, its own audit trail, its
// readiness and what it holds — and, when every check passes, issues the
// next IQ document of its organisation, stored with its SHA-256 and
// audited in the console's trail. A kind without IQ is refused with the
// rule's sentence; a failed check issues nothing (IQFailed).
func (c *Console) IssueIQ(ctx context.Context, by audit.Actor, key string) (IQDocument, error) {
	inst, err := GetInstance(ctx, c.DB, key)
	if err != nil {
		return IQDocument{}, err
	}
	if err := CheckIQ(inst.Kind); err != nil {
		return IQDocument{}, err
	}
	if inst.State != Running {
		return IQDocument{}, refuse("An IQ document is issued only for a running instance; %s is %s.", inst.Key(), inst.State)
	}
	org, err := GetOrganisation(ctx, c.DB, inst.Org)
	if err != nil {
		return IQDocument{}, err
	}
	content := IQContent{Title: "Installation Qualification", Organisation: org.Code, OrganisationName: org.Name,
		Instance: inst.Key(), Environment: inst.Env, Kind: inst.Kind.Label(), Role: inst.Role.Label(), URLPath: inst.BasePath,
		Build: IQBuild{Version: inst.Build.Version, Number: inst.Build.Number}, Engine: string(inst.Engine)}
	content.Checks = c.iqChecks(ctx, inst, &content)
	var failed []audit.Change
	for _, ch := range content.Checks {
		if !ch.Passed {
			failed = append(failed, audit.Change{Field: ch.Name, Old: ch.Expected, New: ch.Found})
		}
	}
	if len(failed) > 0 {
		// Nothing is issued, but the attempt and what it found stay on
		// record in the console's trail.
		c.logger().Warn("IQ failed", "instance", inst.Key(), "failed", len(failed))
		if err := c.DB.InTx(ctx, func(tx *store.Tx) error {
			return audit.Record(ctx, tx, audit.Event{Actor: by, Action: actionIssueFailed, Entity: "iq_document", EntityID: inst.Key(), Changes: failed})
		}); err != nil {
			return IQDocument{}, fmt.Errorf("record the failed IQ of %s: %w", inst.Key(), err)
		}
		return IQDocument{}, &IQFailed{Instance: inst.Key(), Checks: content.Checks}
	}
	var doc IQDocument
	err = c.DB.InTx(ctx, func(tx *store.Tx) error {
		// The registry may have moved on while the checks ran.
		now, err := instanceByID(ctx, tx, inst.ID)
		if err != nil {
			return err
		}
		if now.State != Running {
			return refuse("An IQ document is issued only for a running instance; %s became %s while it was checked.", inst.Key(), now.State)
		}
		var seq int
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(seq), 0) + 1 FROM iq_document WHERE organisation_id = ?", org.ID).Scan(&seq); err != nil {
			return fmt.Errorf("number the IQ document of %s: %w", org.Code, err)
		}
		at := time.Now().UTC().Truncate(time.Microsecond)
		content.Number = fmt.Sprintf("IQ-%s-%04d", strings.ToUpper(org.Code), seq)
		content.IssuedBy, content.IssuedAt = by.Name, at.Format(time.RFC3339)
		data, err := canonicalJSON(content)
		if err != nil {
			return err
		}
		doc = IQDocument{Number: content.Number, Org: org.Code, Instance: inst.Key(), IssuedAt: at, IssuedBy: by.Name,
			SHA256: sha256Hex(data), JSON: data, Content: content}
		if _, err := tx.Exec(ctx, `INSERT INTO iq_document (organisation_id, seq, number, instance_id, instance_key, issued_at, issued_by, content, sha256)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, org.ID, seq, doc.Number, inst.ID, doc.Instance, at, by.Name, string(data), doc.SHA256); err != nil {
			if store.IsUniqueViolation(err) {
				return refuse("Another IQ document of %s was issued a moment ago; issue this one again.", org.Code)
			}
			return fmt.Errorf("record IQ document %s: %w", doc.Number, err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: actionIssue, Entity: "iq_document", EntityID: doc.Number,
			Changes: []audit.Change{{Field: "instance", New: doc.Instance}, {Field: "build", New: inst.Build.String()},
				{Field: "sha256", New: doc.SHA256}, {Field: "issued_at", New: content.IssuedAt}}})
	})
	if err != nil {
		return IQDocument{}, err
	}
	return doc, nil
}

// iqChecks runs every check against the instance as it is now. It fills
// the build's SHA-256 and schema versions into content as found.
func (c *Console) iqChecks(ctx context.Context, inst Instance, content *IQContent) []IQCheck {
	var out []IQCheck
	add := func(name, expected, found string, passed bool) {
		out = append(out, IQCheck{Name: name, Expected: expected, Found: found, Passed: passed})
	}
	errText := func(err error) string { return "error: " + err.Error() }

	// Identity: the URL path the proxy serves it under follows its name.
	want := BasePathOf(inst.Key())
	add("URL path", want, inst.BasePath, inst.BasePath == want)

	// The binary the instance runs from, hashed now.
	spec, err := c.SpecOn(ctx, inst, inst.Build)
	if err != nil {
		add("Build binary", "the binary of build "+inst.Build.String(), errText(err), false)
	} else {
		sum, err := BinarySHA256(spec.Binary)
		if err == nil {
			content.Build.SHA256 = sum
		} else {
			sum = errText(err)
		}
		if fp, ok := c.Catalog.(BuildFingerprints); ok && c.Catalog != nil {
			recorded, ferr := fp.BuildSHA256(ctx, inst.Build)
			if ferr != nil {
				add("Build binary SHA-256", "the SHA-256 the release catalog recorded", sum+" ("+ferr.Error()+")", false)
			} else {
				add("Build binary SHA-256", recorded, sum, err == nil && sum == recorded)
			}
		} else {
			// No catalog records builds (a console without one runs only
			// its own binary): the hash is recorded as found.
			add("Build binary SHA-256", "the hash of "+spec.Binary, sum, err == nil)
		}
	}

	// What the instance answers on its loopback address.
	addr := fmt.Sprintf("127.0.0.1:%d", inst.Port)
	code, body, err := iqGet(ctx, "http://"+addr+"/readyz")
	switch {
	case err != nil:
		add("Readiness (/readyz)", "200 ready", errText(err), false)
	default:
		add("Readiness (/readyz)", "200 ready", fmt.Sprintf("%d %s", code, body), code == http.StatusOK && strings.HasPrefix(body, "ready"))
	}
	wantBuild := fmt.Sprintf(`version="%s",build="%s"`, inst.Build.Version, inst.Build.Number)
	if code, body, err := iqGet(ctx, "http://"+addr+"/metrics"); err != nil {
		add("Build reported by the instance", inst.Build.String(), errText(err), false)
	} else {
		found := "another build"
		if strings.Contains(body, wantBuild) {
			found = inst.Build.String()
		} else if code != http.StatusOK {
			found = fmt.Sprintf("HTTP %d", code)
		}
		add("Build reported by the instance", inst.Build.String(), found, found == inst.Build.String())
	}

	// The instance's database, read only.
	dsn := c.Places.DSN(inst)
	if inst.Engine == store.SQLite {
		if _, err := os.Stat(dsn); err != nil {
			add("Database", "the SQLite file "+dsn, errText(err), false)
			return out
		}
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		add("Database", string(inst.Engine)+" database "+inst.Database, errText(err), false)
		return out
	}
	defer db.Close()
	engine, err := engineVersion(ctx, db)
	if err != nil {
		add("Database engine", string(inst.Engine), errText(err), false)
	} else {
		add("Database engine", string(inst.Engine), engine, db.Engine == inst.Engine)
	}
	expected, how := c.buildSchema(ctx, inst.Build)
	content.Build.SchemaVersion = expected
	schema, err := instance.DatabaseSchema(ctx, db)
	if err != nil {
		add("Database schema version", how, errText(err), false)
	} else {
		content.SchemaVersion = schema
		add("Database schema version", how, strconv.FormatInt(schema, 10), expected > 0 && schema == expected)
	}
	if res, err := audit.Verify(ctx, db); err != nil {
		add("Audit trail", "hash chain intact", errText(err), false)
	} else if !res.OK() {
		add("Audit trail", "hash chain intact", res.Problem, false)
	} else {
		add("Audit trail", "hash chain intact", fmt.Sprintf("%d entries verified", res.Checked), res.Checked > 0)
	}
	for _, q := range []struct{ name, query, expected string }{
		{"Active users", "SELECT COUNT(*) FROM app_user WHERE active", "at least 1"},
		{"Sites", "SELECT COUNT(*) FROM site", "counted"},
		{"Volunteers", "SELECT COUNT(*) FROM volunteer", "counted"},
	} {
		var n int64
		if err := db.QueryRow(ctx, q.query).Scan(&n); err != nil {
			add(q.name, q.expected, errText(err), false)
			continue
		}
		add(q.name, q.expected, strconv.FormatInt(n, 10), q.expected != "at least 1" || n >= 1)
	}
	return out
}

// buildSchema is the schema version build b needs, and how the check says
// it: from the release catalog when it knows, else this console's own
// build's.
func (c *Console) buildSchema(ctx context.Context, b Build) (int64, string) {
	if s, ok := c.Catalog.(BuildSchemas); ok && c.Catalog != nil {
		if v, err := s.SchemaVersion(ctx, b); err == nil && v > 0 {
			return v, fmt.Sprintf("%d (build %s, release catalog)", v, b)
		}
	}
	if b == c.Build {
		v := instance.SchemaVersion()
		return v, fmt.Sprintf("%d (build %s)", v, b)
	}
	return 0, "the schema version of build " + b.String() + " (unknown to this console)"
}

func engineVersion(ctx context.Context, db *store.DB) (string, error) {
	var v string
	q := "SELECT sqlite_version()"
	if db.Engine == store.Postgres {
		q = "SHOW server_version"
	}
	if err := db.QueryRow(ctx, q).Scan(&v); err != nil {
		return "", fmt.Errorf("read the engine version of %s: %w", db.Location, err)
	}
	return string(db.Engine) + " " + v, nil
}

func iqGet(ctx context.Context, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := iqClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, strings.TrimSpace(string(body)), err
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// canonicalJSON writes content the one way it is hashed.
func canonicalJSON(content IQContent) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(content); err != nil {
		return nil, fmt.Errorf("write IQ document %s: %w", content.Number, err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

const iqColumns = `d.number, o.code, d.instance_key, d.issued_at, d.issued_by, d.content, d.sha256`

func scanIQ(r interface{ Scan(...any) error }) (IQDocument, error) {
	var d IQDocument
	var content string
	if err := r.Scan(&d.Number, &d.Org, &d.Instance, &d.IssuedAt, &d.IssuedBy, &content, &d.SHA256); err != nil {
		return d, err
	}
	d.JSON = []byte(content)
	if err := json.Unmarshal(d.JSON, &d.Content); err != nil {
		return d, fmt.Errorf("read IQ document %s: %w", d.Number, err)
	}
	return d, nil
}

// IQDocuments lists an organisation's IQ documents, newest first.
func IQDocuments(ctx context.Context, q store.Querier, org string) ([]IQDocument, error) {
	rows, err := q.Query(ctx, "SELECT "+iqColumns+` FROM iq_document d JOIN organisation o ON o.id = d.organisation_id
		WHERE o.code = ? ORDER BY d.seq DESC`, org)
	if err != nil {
		return nil, fmt.Errorf("list the IQ documents of %s: %w", org, err)
	}
	defer rows.Close()
	var out []IQDocument
	for rows.Next() {
		d, err := scanIQ(rows)
		if err != nil {
			return nil, fmt.Errorf("list the IQ documents of %s: %w", org, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// GetIQDocument returns one IQ document by its number (IQ-ORG-0001).
func GetIQDocument(ctx context.Context, q store.Querier, number string) (IQDocument, error) {
	d, err := scanIQ(q.QueryRow(ctx, "SELECT "+iqColumns+` FROM iq_document d JOIN organisation o ON o.id = d.organisation_id
		WHERE d.number = ?`, strings.ToUpper(strings.TrimSpace(number))))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("IQ document %s: %w", number, check.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("read IQ document %s: %w", number, err)
	}
	return d, nil
}

// iqBlocked says why the go-live step «IQ document issued» cannot be
// signed: it needs an IQ document of the organisation's PROD Main issued
// after that instance was created.
func iqBlocked(ctx context.Context, q store.Querier, org string, envs []Environment) (string, error) {
	prod, ok := liveMain(envs, Prod)
	if !ok {
		return "There is no working PROD Main instance yet.", nil
	}
	rows, err := q.Query(ctx, "SELECT issued_at FROM iq_document WHERE instance_id = ?", prod.ID)
	if err != nil {
		return "", fmt.Errorf("read the IQ documents of %s: %w", prod.Key(), err)
	}
	defer rows.Close()
	for rows.Next() {
		var at time.Time
		if err := rows.Scan(&at); err != nil {
			return "", fmt.Errorf("read the IQ documents of %s: %w", prod.Key(), err)
		}
		if !at.Before(prod.CreatedAt) {
			return "", rows.Err()
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("read the IQ documents of %s: %w", prod.Key(), err)
	}
	return fmt.Sprintf("No IQ document has been issued for %s since it was created; issue one first (cohort iq issue %s).", prod.Key(), prod.Key()), nil
}

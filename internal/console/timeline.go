package console

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// milestoneInfo describes a milestone: the stage it closes, its label, and
// the environment kind (with its Main instance working) it needs.
type milestoneInfo struct {
	M     Milestone
	Stage Kind
	Label string
	Needs Kind
}

// milestones are the timeline's dated facts; the destroy rules read them.
var milestones = []milestoneInfo{
	{M: MigrationSignedOff, Stage: Migration, Label: "Migration output signed off", Needs: Migration},
	{M: ValidationDone, Stage: VAL, Label: "Validation done", Needs: VAL},
	{M: ProdLive, Stage: Prod, Label: "PROD live", Needs: Prod},
}

// Stage is one step of an organisation's timeline (Demo → Sandbox →
// Migration → VAL → PROD) as the organisation page shows it.
type Stage struct {
	Kind  Kind
	Label string
	// Planned is the date the customer plans the stage for (YYYY-MM-DD).
	Planned string
	// Started is when the first environment of the kind was created.
	Started time.Time
	// Environments are the codes of the stage's environments.
	Environments []string
	// Milestone closes the stage (none for Demo and Sandbox); Reached is
	// when it was recorded and by whom.
	Milestone      Milestone
	MilestoneLabel string
	Reached        time.Time
	ReachedBy      string
}

// TimelineOf returns an organisation's timeline.
func TimelineOf(ctx context.Context, q store.Querier, org string) ([]Stage, error) {
	o, err := GetOrganisation(ctx, q, org)
	if err != nil {
		return nil, err
	}
	envs, err := Environments(ctx, q, org)
	if err != nil {
		return nil, err
	}
	type row struct {
		planned string
		reached sql.NullTime
		by      string
	}
	stored := map[string]row{}
	rows, err := q.Query(ctx, "SELECT code, planned_on, reached_at, reached_by FROM milestone WHERE organisation_id = ?", o.ID)
	if err != nil {
		return nil, fmt.Errorf("read the timeline of %s: %w", org, err)
	}
	for rows.Next() {
		var code string
		var r row
		if err := rows.Scan(&code, &r.planned, &r.reached, &r.by); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read the timeline of %s: %w", org, err)
		}
		stored[code] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []Stage
	for _, k := range Timeline {
		s := Stage{Kind: k, Label: k.Label(), Planned: stored[string(k)].planned}
		for _, e := range envs {
			if e.Kind == k {
				s.Environments = append(s.Environments, e.Code)
				if s.Started.IsZero() || e.CreatedAt.Before(s.Started) {
					s.Started = e.CreatedAt
				}
			}
		}
		for _, m := range milestones {
			if m.Stage == k {
				s.Milestone, s.MilestoneLabel = m.M, m.Label
				if r := stored[string(m.M)]; r.reached.Valid {
					s.Reached, s.ReachedBy = r.reached.Time, r.by
				}
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// factsOf reads the milestones an organisation has reached.
func factsOf(ctx context.Context, q store.Querier, org string) (Facts, error) {
	f := Facts{Reached: map[Milestone]time.Time{}}
	rows, err := q.Query(ctx, `SELECT m.code, m.reached_at FROM milestone m JOIN organisation o ON o.id = m.organisation_id
		WHERE o.code = ? AND m.reached_at IS NOT NULL`, org)
	if err != nil {
		return f, fmt.Errorf("read the milestones of %s: %w", org, err)
	}
	defer rows.Close()
	for rows.Next() {
		var code string
		var at time.Time
		if err := rows.Scan(&code, &at); err != nil {
			return f, err
		}
		f.Reached[Milestone(code)] = at
	}
	return f, rows.Err()
}

// FactsOf returns the milestones an organisation has reached, for the
// steps (go-live, sign-off, upgrade) that offer to destroy environments.
func FactsOf(ctx context.Context, q store.Querier, org string) (Facts, error) {
	return factsOf(ctx, q, org)
}

// PlanStage records the date a stage is planned for; an empty date clears it.
func PlanStage(ctx context.Context, db *store.DB, by audit.Actor, org string, k Kind, date, reason string) error {
	date = strings.TrimSpace(date)
	if date != "" {
		if _, err := time.Parse(time.DateOnly, date); err != nil {
			return check.FieldErrors{"planned_" + string(k): "Write the date as YYYY-MM-DD, e.g. 2026-09-30."}
		}
	}
	if _, ok := RuleOf(k); !ok {
		return check.FieldErrors{"stage": "Choose a stage of the timeline."}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		o, err := GetOrganisation(ctx, tx, org)
		if err != nil {
			return err
		}
		var old string
		err = tx.QueryRow(ctx, "SELECT planned_on FROM milestone WHERE organisation_id = ? AND code = ?", o.ID, string(k)).Scan(&old)
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("plan %s: %w", k, err)
		}
		if old == date {
			return nil
		}
		if err := upsertMilestone(ctx, tx, o.ID, string(k), "planned_on", date, by); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "timeline", EntityID: org + "/" + string(k),
			Reason: nonEmpty(reason, "planning"), Changes: []audit.Change{{Field: "planned_on", Old: old, New: date}}})
	})
}

// RecordMilestone records that an organisation reached a milestone, now.
// The step that reaches it calls this (the migration sign-off, the end of
// validation, the go-live checklist, an upgrade). Recording it again keeps
// the first date.
func RecordMilestone(ctx context.Context, db *store.DB, by audit.Actor, org string, m Milestone, reason string) error {
	return db.InTx(ctx, func(tx *store.Tx) error {
		o, err := GetOrganisation(ctx, tx, org)
		if err != nil {
			return err
		}
		return reach(ctx, tx, o.ID, org, by, m, reason)
	})
}

// checkMilestone refuses a milestone the organisation cannot have reached:
// PROD cannot go live without a working PROD Main instance, and so on.
func checkMilestone(ctx context.Context, tx *store.Tx, org string, m Milestone) error {
	envs, err := Environments(ctx, tx, org)
	if err != nil {
		return err
	}
	if code, ok := strings.CutPrefix(string(m), "upgrade-done/"); ok {
		for _, e := range envs {
			if e.Code == code && e.Kind == VAL && e.Purpose == Upgrade {
				return nil
			}
		}
		return refuse("%s/%s is not an upgrade VAL environment.", org, code)
	}
	for _, info := range milestones {
		if info.M != m {
			continue
		}
		for _, e := range envs {
			if e.Kind != info.Needs || !e.Live() {
				continue
			}
			for _, in := range e.Instances {
				if in.Role == Main && (in.State == Running || in.State == Stopped) {
					return nil
				}
			}
		}
		return refuse("%s cannot be recorded: %s has no working %s Main instance.", info.Label, org, info.Needs.Label())
	}
	return refuse("%q is not a milestone of the timeline.", m)
}

func upsertMilestone(ctx context.Context, tx *store.Tx, orgID int64, code, column string, value any, by audit.Actor) error {
	now := time.Now().UTC()
	res, err := tx.Exec(ctx, "UPDATE milestone SET "+column+" = ?, updated_at = ?, updated_by = ? WHERE organisation_id = ? AND code = ?",
		value, now, by.Name, orgID, code)
	if err != nil {
		return fmt.Errorf("save milestone %s: %w", code, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	if _, err := tx.Exec(ctx, "INSERT INTO milestone (organisation_id, code, "+column+", updated_at, updated_by) VALUES (?, ?, ?, ?, ?)",
		orgID, code, value, now, by.Name); err != nil {
		return fmt.Errorf("save milestone %s: %w", code, err)
	}
	return nil
}

func nonEmpty(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

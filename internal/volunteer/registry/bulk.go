package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/synthetic"
)

// SyntheticConfig returns a generator configuration that fits this
// instance: its active sites, Configure lists, custom questions and
// volunteer number pattern. Studies and consent types, which are not
// configured here yet, come from synthetic.DefaultConfig.
func SyntheticConfig(ctx context.Context, q store.Querier) (synthetic.Config, error) {
	cfg := synthetic.DefaultConfig()
	sites, err := site.List(ctx, q, false)
	if err != nil {
		return cfg, err
	}
	if len(sites) > 0 {
		cfg.Sites = nil
		for _, s := range sites {
			cfg.Sites = append(cfg.Sites, s.Code)
		}
	}
	p, err := NumberPattern(ctx, q)
	if err != nil {
		return cfg, err
	}
	cfg.NumberPattern = p.String()
	codes := func(kind string) ([]string, error) {
		es, err := configlist.Entries(ctx, q, kind, false)
		var out []string
		for _, e := range es {
			out = append(out, e.Code)
		}
		return out, err
	}
	for _, l := range []struct {
		kind string
		dst  *[]string
	}{
		{configlist.MedicalHistory, &cfg.MedicalHistoryCodes}, {configlist.Medications, &cfg.MedicationCodes},
		{configlist.SubstanceUse, &cfg.SubstanceUseCodes}, {configlist.RecruitmentSource, &cfg.RecruitmentSources},
		{configlist.Ethnicity, &cfg.Ethnicities}, {configlist.Race, &cfg.Races},
	} {
		if *l.dst, err = codes(l.kind); err != nil {
			return cfg, err
		}
	}
	questions, err := configlist.Entries(ctx, q, configlist.Question, false)
	if err != nil {
		return cfg, err
	}
	defaults := synthetic.DefaultConfig().Questions
	cfg.Questions = nil
	for _, e := range questions {
		sq := synthetic.Question{Code: e.Code, PHI: e.PHI}
		switch e.AnswerType {
		case configlist.AnswerChoice:
			sq.Answers = e.Options
		case configlist.AnswerYesNo:
			sq.Answers = []string{"yes", "no"}
		default:
			// Free text: borrow the generator's sample answers of a question
			// of the same kind.
			for _, d := range defaults {
				if d.PHI == e.PHI {
					sq.Answers = d.Answers
				}
			}
		}
		cfg.Questions = append(cfg.Questions, sq)
	}
	return cfg, nil
}

// PopulateOptions say how many synthetic volunteers Populate adds.
type PopulateOptions struct {
	Count int
	Seed  int64
	// Config is the generator configuration; nil means SyntheticConfig.
	Config *synthetic.Config
	// BatchSize is how many volunteers one transaction stores; 0 means
	// 20000 (a few seconds' work, so an interruption loses little).
	BatchSize int
	// Progress, if set, is called after each committed batch with the
	// number stored so far.
	Progress func(done int)
}

// Populate generates opts.Count synthetic volunteers (synthetic.Generate,
// deterministic for a seed) and stores them in batches: one transaction
// and a handful of multi-row INSERTs per batch, numbers drawn from the
// instance's counters, and one audit entry per batch naming the range of
// numbers and the seed. Generation runs beside the inserts. When ctx is
// cancelled it stops after rolling back the batch in progress and returns
// how many volunteers were committed, with ctx's error.
//
// The records are trusted to be valid and are not checked for duplicates:
// Populate is for demonstrations, tests and benchmarks.
func Populate(ctx context.Context, db *store.DB, by audit.Actor, opts PopulateOptions) (int, error) {
	if opts.Count < 0 {
		return 0, fmt.Errorf("populate volunteers: the count %d is negative", opts.Count)
	}
	size := opts.BatchSize
	if size <= 0 {
		size = 20000
	}
	cfg := opts.Config
	if cfg == nil {
		c, err := SyntheticConfig(ctx, db)
		if err != nil {
			return 0, fmt.Errorf("populate volunteers: %w", err)
		}
		cfg = &c
	}
	if db.Engine == store.SQLite {
		// The single writer connection gets a 256 MiB page cache for the
		// load, so the indexes of half a million volunteers stay in memory
		// instead of being read back from the file for every batch.
		var before int
		if err := db.Raw().QueryRowContext(ctx, "PRAGMA cache_size").Scan(&before); err != nil {
			return 0, fmt.Errorf("populate volunteers: %w", err)
		}
		if _, err := db.Exec(ctx, "PRAGMA cache_size = -262144"); err != nil {
			return 0, fmt.Errorf("populate volunteers: %w", err)
		}
		defer db.Exec(context.WithoutCancel(ctx), "PRAGMA cache_size = "+strconv.Itoa(before))
		// Checkpoint the write-ahead log every 64k pages instead of every
		// thousand, so an index page the load touches in batch after batch
		// is copied into the database file a few times, not once a batch.
		if _, err := db.Exec(ctx, "PRAGMA wal_autocheckpoint = 65536"); err != nil {
			return 0, fmt.Errorf("populate volunteers: %w", err)
		}
		defer func() {
			bg := context.WithoutCancel(ctx)
			db.Exec(bg, "PRAGMA wal_autocheckpoint = 1000")
			db.Exec(bg, "PRAGMA wal_checkpoint(TRUNCATE)")
		}()
	}
	genCtx, stop := context.WithCancel(ctx)
	defer stop()
	batches := make(chan []volunteer.Volunteer, 2)
	genErr := make(chan error, 1)
	go func() {
		defer close(batches)
		cur := make([]volunteer.Volunteer, 0, size)
		err := synthetic.Generate(opts.Seed, opts.Count, *cfg, func(v volunteer.Volunteer) error {
			cur = append(cur, v)
			if len(cur) < size {
				return nil
			}
			select {
			case batches <- cur:
			case <-genCtx.Done():
				return genCtx.Err()
			}
			cur = make([]volunteer.Volunteer, 0, size)
			return nil
		})
		if err == nil && len(cur) > 0 {
			select {
			case batches <- cur:
			case <-genCtx.Done():
				err = genCtx.Err()
			}
		}
		genErr <- err
	}()
	done := 0
	for b := range batches {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			return insertBatch(ctx, tx, by, b, fmt.Sprintf("synthetic volunteers for demonstration and testing (seed %d)", opts.Seed))
		})
		if err != nil {
			stop()
			for range batches {
			}
			if ctx.Err() != nil {
				return done, ctx.Err()
			}
			return done, fmt.Errorf("populate volunteers: after %d stored: %w", done, err)
		}
		done += len(b)
		if opts.Progress != nil {
			opts.Progress(done)
		}
	}
	if err := <-genErr; err != nil && !errors.Is(err, context.Canceled) {
		return done, fmt.Errorf("populate volunteers: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return done, err
	}
	if done < optimizeAfter {
		return done, nil
	}
	return done, Optimize(ctx, db)
}

// optimizeAfter is the size of load after which Populate refreshes the
// planner's statistics; small loads do not change the picture.
const optimizeAfter = 10000

// insertBatch numbers and stores trusted volunteers with multi-row
// INSERTs, and records one audit entry for the batch.
func insertBatch(ctx context.Context, tx *store.Tx, by audit.Actor, vs []volunteer.Volunteer, reason string) error {
	if len(vs) == 0 {
		return nil
	}
	num, err := newNumberer(ctx, tx)
	if err != nil {
		return err
	}
	for i := range vs {
		vs[i].Number = "" // the generator's own numbers give way to the instance's
	}
	if err := insertNumbered(ctx, tx, num, by, vs); err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: Entity,
		EntityID: vs[0].Number + ".." + vs[len(vs)-1].Number, Reason: reason,
		Changes: []audit.Change{{Field: "volunteers", New: fmt.Sprintf("%d synthetic volunteers, %s to %s", len(vs), vs[0].Number, vs[len(vs)-1].Number)}}})
}

// insertNumbered gives the volunteers without a number one from the
// instance's pattern, stores them with multi-row INSERTs and then their
// child rows, and sets each one's ID. The bulk paths (synthetic batches,
// imports, migrated registries) share it so that a volunteer is numbered
// and stored the same way whichever way it arrives; each records its own
// audit entries.
func insertNumbered(ctx context.Context, tx *store.Tx, num *numberer, by audit.Actor, vs []volunteer.Volunteer) error {
	if err := num.assign(ctx, tx, vs); err != nil {
		return err
	}
	if len(vs) == 0 {
		return nil
	}
	ids, err := insertRows(ctx, tx, by, vs)
	if err != nil {
		return err
	}
	c := newChildren()
	for i := range vs {
		vs[i].ID = ids[vs[i].Number]
		c.add(vs[i].ID, &vs[i])
	}
	return c.flush(ctx, tx)
}

// insertRows inserts volunteer rows, as many to a statement as the
// parameter limit allows (all of them through unnest on PostgreSQL), and
// returns their ids by number.
func insertRows(ctx context.Context, tx *store.Tx, by audit.Actor, vs []volunteer.Volunteer) (map[string]int64, error) {
	now := time.Now().UTC()
	cols := len(rowColumns)
	perStmt := maxParams / cols
	if tx.Engine == store.Postgres {
		perStmt = len(vs)
	}
	head := "INSERT INTO volunteer (" + strings.Join(rowColumns, ", ") + ") VALUES "
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	ids := make(map[string]int64, len(vs))
	args := make([]any, 0, min(len(vs), perStmt)*cols)
	for start := 0; start < len(vs); start += perStmt {
		end := min(start+perStmt, len(vs))
		args = args[:0]
		for i := start; i < end; i++ {
			args = append(args, rowValues(vs[i], now, by.Name, now, by.Name, 1)...)
		}
		var query string
		if tx.Engine == store.Postgres {
			var err error
			if query, args, err = unnestInsert("volunteer", rowColumns, args); err != nil {
				return nil, err
			}
		} else {
			query = head + strings.TrimSuffix(strings.Repeat(row+", ", end-start), ", ")
		}
		rows, err := tx.Query(ctx, query+" RETURNING id, number", args...)
		if err != nil {
			return nil, fmt.Errorf("store %d volunteers: %w", end-start, err)
		}
		for rows.Next() {
			var id int64
			var number string
			if err := rows.Scan(&id, &number); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store volunteers: %w", err)
			}
			ids[number] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store volunteers: %w", err)
		}
	}
	return ids, nil
}

// Optimize refreshes the planner's statistics of the volunteer tables
// after a bulk load (and, on PostgreSQL, the visibility map that lets
// name search read only the token index).
func Optimize(ctx context.Context, db *store.DB) error {
	var stmts []string
	if db.Engine == store.Postgres {
		stmts = []string{"VACUUM (ANALYZE) volunteer", "VACUUM (ANALYZE) volunteer_name_token", "VACUUM (ANALYZE) volunteer_phone"}
	} else {
		stmts = []string{"PRAGMA analysis_limit = 1000", "ANALYZE volunteer", "ANALYZE volunteer_name_token", "ANALYZE volunteer_phone"}
	}
	for _, s := range stmts {
		if _, err := db.Exec(ctx, s); err != nil {
			return fmt.Errorf("optimize volunteer tables: %s: %w", s, err)
		}
	}
	return nil
}

// Command clone-bench measures what the lifecycle console does to copy a
// PROD instance for validation — database copy, PHI obfuscation, PHI-leak
// scan — on SQLite and PostgreSQL, against a bare database copy (the same
// copy the console makes: VACUUM INTO and quick_check on SQLite, CREATE
// DATABASE … TEMPLATE on PostgreSQL) measured in the same run.
//
// Run: go run ./bench/clone [-engines sqlite,postgres] [-count 100000] [-runs 1] [-reuse]
//
// The source instance is loaded with -count synthetic volunteers
// (registry.Populate, seed 2026) into a SQLite file under -dir and the
// PostgreSQL database cohort_bench_clone on $COHORT_TEST_POSTGRES; -reuse
// keeps a source loaded by an earlier run.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/cohort-clinical/cohort/bench/internal/measure"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/instance"
	"github.com/cohort-clinical/cohort/internal/obfuscation"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

var bench = audit.Actor{Name: "benchmark"}

var verbose bool

// progress prints what the obfuscation and the scan report, with the time
// since start, when -v is given.
func progress(start time.Time) func(string) {
	if !verbose {
		return nil
	}
	return func(msg string) { fmt.Printf("    %6.2f s  %s\n", time.Since(start).Seconds(), msg) }
}

func main() {
	engines := flag.String("engines", "sqlite,postgres", "engines to measure")
	count := flag.Int("count", 100_000, "volunteers in the source instance")
	runs := flag.Int("runs", 1, "rounds of bare copy and full copy, alternating; medians are printed")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "cohort-bench-clone"), "where the SQLite databases live")
	reuse := flag.Bool("reuse", false, "reuse a source loaded by an earlier run")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the obfuscation and scan to this file")
	memprofile := flag.String("memprofile", "", "write an allocation profile, after all runs, to this file")
	flag.BoolVar(&verbose, "v", false, "print the obfuscation's and the scan's progress with elapsed times")
	flag.Parse()
	log.SetFlags(0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	for _, e := range strings.Split(*engines, ",") {
		engine := store.Engine(strings.TrimSpace(e))
		fmt.Printf("== %s, %d volunteers ==  (load average %s)\n", engine, *count, loadAverage())
		b, err := newBench(ctx, engine, *dir, *reuse)
		check(err)
		check(b.load(ctx, *count))
		var bare, full, obf, scan, cpu []time.Duration
		for r := 0; r < *runs; r++ {
			d, err := b.bareCopy(ctx)
			check(err)
			bare = append(bare, d)
			profile := ""
			if *cpuprofile != "" && r == 0 {
				profile = *cpuprofile + "." + string(engine)
			}
			stop, err := measure.StartCPUProfile(profile)
			check(err)
			t, err := b.fullCopy(ctx)
			stop()
			check(err)
			full, obf, scan, cpu = append(full, t.total), append(obf, t.obfuscate), append(scan, t.scan), append(cpu, t.cpu)
		}
		m := measure.Median(full)
		fmt.Printf("bare copy:                      %7.2f s\n", measure.Median(bare).Seconds())
		fmt.Printf("copy + obfuscate + PHI scan:    %7.2f s  (obfuscate %.2f s, scan %.2f s)\n", m.Seconds(), measure.Median(obf).Seconds(), measure.Median(scan).Seconds())
		fmt.Printf("CPU of this process:            %7.2f s  (median; the database server's not counted)\n", measure.Median(cpu).Seconds())
		fmt.Printf("ratio to the bare copy:         %7.1fx\n", float64(m)/float64(measure.Median(bare)))
		verdict := "met"
		if m >= 10*time.Second {
			verdict = "NOT met"
		}
		fmt.Printf("goal < 10 s:                    %s  (load average after: %s)\n\n", verdict, loadAverage())
		b.close()
	}
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		check(err)
		check(pprof.Lookup("allocs").WriteTo(f, 0))
		f.Close()
	}
}

// loadAverage is the machine's 1, 5 and 15 minute load average, which says
// how much the wall times above include waiting for a core.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// clone is one engine's source instance and where its copies go.
type clone struct {
	engine   store.Engine
	dir      string
	source   string // DSN
	admin    *sql.DB
	baseName string // PostgreSQL database name of the source
	db       *store.DB
	copies   int
}

func newBench(ctx context.Context, engine store.Engine, dir string, reuse bool) (*clone, error) {
	b := &clone{engine: engine, dir: dir}
	switch engine {
	case store.SQLite:
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
		b.source = filepath.Join(dir, "source.db")
		if !reuse {
			for _, s := range []string{"", "-wal", "-shm"} {
				os.Remove(b.source + s)
			}
		}
	case store.Postgres:
		admin, err := sql.Open("pgx", storetest.PostgresDSN())
		if err != nil {
			return nil, err
		}
		b.admin, b.baseName = admin, "cohort_bench_clone"
		var exists bool
		if err := admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", b.baseName).Scan(&exists); err != nil {
			return nil, fmt.Errorf("PostgreSQL at %s: %w", storetest.PostgresDSN(), err)
		}
		if exists && !reuse {
			if _, err := admin.ExecContext(ctx, "DROP DATABASE "+b.baseName+" WITH (FORCE)"); err != nil {
				return nil, err
			}
			exists = false
		}
		if !exists {
			if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+b.baseName); err != nil {
				return nil, err
			}
		}
		b.source = b.dsnOf(b.baseName)
	default:
		return nil, fmt.Errorf("unknown engine %q", engine)
	}
	db, err := store.Open(ctx, b.source)
	if err != nil {
		return nil, err
	}
	// The instance's own preparation: schema, administrator, demo clinic.
	if _, err := instance.Prepare(ctx, db, instance.Options{Demo: true, AdminPassword: "Benchmark password 1"}); err != nil {
		db.Close()
		return nil, err
	}
	b.db = db
	return b, nil
}

func (b *clone) dsnOf(name string) string {
	u, err := url.Parse(storetest.PostgresDSN())
	check(err)
	u.Path = "/" + name
	return u.String()
}

// load fills the source up to count volunteers.
func (b *clone) load(ctx context.Context, count int) error {
	var have int
	if err := b.db.QueryRow(ctx, "SELECT COUNT(*) FROM volunteer").Scan(&have); err != nil {
		return err
	}
	if have < count {
		start := time.Now()
		n, err := registry.Populate(ctx, b.db, bench, registry.PopulateOptions{Count: count - have, Seed: 2026})
		if err != nil {
			return err
		}
		fmt.Printf("load: %d synthetic volunteers in %.1f s\n", n, time.Since(start).Seconds())
	}
	// The console copies a source nobody writes to at that moment; on
	// PostgreSQL the copy needs it without connections.
	b.db.Close()
	b.db = nil
	return nil
}

// target returns a fresh copy destination.
func (b *clone) target(ctx context.Context) (string, error) {
	b.copies++
	if b.engine == store.SQLite {
		p := filepath.Join(b.dir, fmt.Sprintf("copy%d.db", b.copies))
		for _, s := range []string{"", "-wal", "-shm"} {
			os.Remove(p + s)
		}
		return p, nil
	}
	name := fmt.Sprintf("%s_copy%d", b.baseName, b.copies)
	_, err := b.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	return name, err
}

// copyDatabase makes the copy the console makes.
func (b *clone) copyDatabase(ctx context.Context) (dsn string, err error) {
	t, err := b.target(ctx)
	if err != nil {
		return "", err
	}
	if b.engine == store.SQLite {
		src, err := sql.Open("sqlite", "file:"+b.source+"?_pragma=busy_timeout(10000)")
		if err != nil {
			return "", err
		}
		defer src.Close()
		if _, err := src.ExecContext(ctx, "VACUUM INTO ?", t); err != nil {
			return "", err
		}
		cp, err := sql.Open("sqlite", "file:"+t+"?_pragma=busy_timeout(10000)")
		if err != nil {
			return "", err
		}
		defer cp.Close()
		var res string
		if err := cp.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil || res != "ok" {
			return "", fmt.Errorf("quick_check of the copy: %q, %v", res, err)
		}
		return t, nil
	}
	if _, err := b.admin.ExecContext(ctx, "CREATE DATABASE "+t+" TEMPLATE "+b.baseName); err != nil {
		return "", err
	}
	return b.dsnOf(t), nil
}

func (b *clone) drop(ctx context.Context, dsn string) {
	if b.engine == store.SQLite {
		for _, s := range []string{"", "-wal", "-shm"} {
			os.Remove(dsn + s)
		}
		return
	}
	u, _ := url.Parse(dsn)
	b.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+strings.TrimPrefix(u.Path, "/")+" WITH (FORCE)")
}

func (b *clone) bareCopy(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	dsn, err := b.copyDatabase(ctx)
	d := time.Since(start)
	if err == nil {
		b.drop(ctx, dsn)
	}
	return d, err
}

type timings struct{ total, obfuscate, scan, cpu time.Duration }

// fullCopy is what obfuscation.Release does after the console's copy, step
// by step so each is timed: read the source's originals, obfuscate the
// copy under a fresh secret, scan it.
func (b *clone) fullCopy(ctx context.Context) (timings, error) {
	var t timings
	cpu0 := measure.CPUTime()
	start := time.Now()
	dsn, err := b.copyDatabase(ctx)
	if err != nil {
		return t, err
	}
	defer b.drop(ctx, dsn)
	src, err := store.Open(ctx, b.source)
	if err != nil {
		return t, err
	}
	orig, err := obfuscation.ReadOriginals(ctx, src, progress(start))
	src.Close()
	if err != nil {
		return t, err
	}
	dst, err := store.Open(ctx, dsn)
	if err != nil {
		return t, err
	}
	defer dst.Close()
	secret := make([]byte, obfuscation.MinSecretBytes)
	rand.Read(secret)
	o := time.Now()
	res, err := orig.Obfuscate(ctx, dst, secret, obfuscation.Origin{Source: "bench/prod/main", By: bench}, progress(start))
	if err != nil {
		return t, err
	}
	t.obfuscate = time.Since(o)
	s := time.Now()
	f, err := orig.Scan(ctx, dst, progress(start))
	if err != nil {
		return t, err
	}
	t.scan = time.Since(s)
	t.total = time.Since(start)
	t.cpu = measure.CPUTime() - cpu0
	if !f.Clean() {
		return t, fmt.Errorf("the scan found %d original values (first %s)", f.Count, f.First[0])
	}
	fmt.Printf("  run: %d volunteers, %d originals, %d audit entries scrubbed; scan read %d rows, %d cells of %d tables: clean;\n"+
		"       wall %.2f s, CPU of this process %.2f s (the database server's own CPU not counted)\n",
		res.Volunteers, f.Originals, res.AuditRewritten, f.Rows, f.Cells, f.Tables, t.total.Seconds(), t.cpu.Seconds())
	return t, nil
}

func (b *clone) close() {
	if b.db != nil {
		b.db.Close()
	}
	if b.admin != nil {
		b.admin.Close()
	}
}

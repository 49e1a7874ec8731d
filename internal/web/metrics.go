package web

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// metrics keeps request counts and latency histograms per route pattern and
// writes them in the Prometheus text format; the few series an instance has
// do not justify a client library.
type metrics struct {
	mu      sync.Mutex
	started time.Time
	series  map[seriesKey]*histogram
}

type seriesKey struct {
	route  string
	status int
}

var buckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	count  uint64
	sum    float64
}

func newMetrics() *metrics {
	return &metrics{started: time.Now(), series: map[seriesKey]*histogram{}}
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := seriesKey{route, status}
	h := m.series[k]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(buckets))}
		m.series[k] = h
	}
	sec := d.Seconds()
	for i, b := range buckets {
		if sec <= b {
			h.counts[i]++
			break
		}
	}
	h.count++
	h.sum += sec
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m := s.metrics
	m.mu.Lock()
	keys := make([]seriesKey, 0, len(m.series))
	for k := range m.series {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].route != keys[j].route {
			return keys[i].route < keys[j].route
		}
		return keys[i].status < keys[j].status
	})
	fmt.Fprintln(w, "# HELP cohort_build_info The running build.")
	fmt.Fprintln(w, "# TYPE cohort_build_info gauge")
	fmt.Fprintf(w, "cohort_build_info{version=\"%s\",build=\"%s\",revision=\"%s\",time=\"%s\",schema_version=\"%d\"} 1\n",
		escapeLabel(s.Build.Version), escapeLabel(s.Build.Number), escapeLabel(s.Build.Revision), escapeLabel(s.Build.Time), s.Build.SchemaVersion)
	fmt.Fprintln(w, "# HELP cohort_uptime_seconds Seconds since the server started.")
	fmt.Fprintln(w, "# TYPE cohort_uptime_seconds gauge")
	fmt.Fprintf(w, "cohort_uptime_seconds %.0f\n", time.Since(m.started).Seconds())
	fmt.Fprintln(w, "# HELP cohort_http_requests_total Requests served, by route and status.")
	fmt.Fprintln(w, "# TYPE cohort_http_requests_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "cohort_http_requests_total{route=\"%s\",status=\"%d\"} %d\n", escapeLabel(k.route), k.status, m.series[k].count)
	}
	fmt.Fprintln(w, "# HELP cohort_http_request_duration_seconds Request latency, by route.")
	fmt.Fprintln(w, "# TYPE cohort_http_request_duration_seconds histogram")
	byRoute := map[string]*histogram{}
	var routes []string
	for _, k := range keys {
		h := byRoute[k.route]
		if h == nil {
			h = &histogram{counts: make([]uint64, len(buckets))}
			byRoute[k.route] = h
			routes = append(routes, k.route)
		}
		src := m.series[k]
		for i := range buckets {
			h.counts[i] += src.counts[i]
		}
		h.count += src.count
		h.sum += src.sum
	}
	for _, route := range routes {
		h, l := byRoute[route], escapeLabel(route)
		var cum uint64
		for i, b := range buckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "cohort_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %d\n", l, b, cum)
		}
		fmt.Fprintf(w, "cohort_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %d\n", l, h.count)
		fmt.Fprintf(w, "cohort_http_request_duration_seconds_sum{route=\"%s\"} %g\n", l, h.sum)
		fmt.Fprintf(w, "cohort_http_request_duration_seconds_count{route=\"%s\"} %d\n", l, h.count)
	}
	m.mu.Unlock()
	st := s.DB.Stats()
	for _, g := range []struct {
		name, help string
		v          int64
	}{
		{"cohort_db_open_connections", "Open database connections (writer pool).", int64(st.OpenConnections)},
		{"cohort_db_in_use_connections", "Database connections in use.", int64(st.InUse)},
		{"cohort_db_idle_connections", "Idle database connections.", int64(st.Idle)},
		{"cohort_db_wait_count", "Times a request waited for a database connection.", st.WaitCount},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %d\n", g.name, g.help, g.name, g.name, g.v)
	}
	fmt.Fprintf(w, "# HELP cohort_db_wait_seconds_total Time spent waiting for database connections.\n# TYPE cohort_db_wait_seconds_total counter\ncohort_db_wait_seconds_total %g\n", st.WaitDuration.Seconds())
}

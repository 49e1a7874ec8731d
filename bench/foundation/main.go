// Command foundation measures a clinical instance's cold start and login
// round trip against baselines taken in the same run on the same machine:
//
//   - cold start: `cohort instance serve` (one clinical instance) on an empty data directory until /readyz
//     answers (migrations, first administrator, demo data), against the bare
//     process start of `cohort version`;
//   - login: GET /login + POST /login + GET / (argon2id verification, new
//     session, first page), against a GET /healthz round trip.
//
// Run: go run ./bench/foundation [-n 10] [-database postgres://…]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/cohort-clinical/cohort/bench/internal/measure"
)

func main() {
	n := flag.Int("n", 10, "repetitions of each measurement")
	flag.Parse()
	dir, err := os.MkdirTemp("", "cohort-bench")
	check(err)
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "cohort")
	build := exec.Command("go", "build", "-o", bin, "./cmd/cohort")
	build.Stderr = os.Stderr
	check(build.Run())

	var starts, procs []time.Duration
	var url string
	var stop func()
	for i := 0; i < *n; i++ {
		t0 := time.Now()
		check(exec.Command(bin, "version").Run())
		procs = append(procs, time.Since(t0))
		if stop != nil {
			stop()
		}
		var d time.Duration
		url, d, stop = coldStart(bin, filepath.Join(dir, fmt.Sprint("data", i)))
		starts = append(starts, d)
	}
	defer stop()
	report("cold start to /readyz", starts, "process start (cohort version)", procs)

	var logins, health []time.Duration
	for i := 0; i < *n*5; i++ {
		t0 := time.Now()
		resp, err := http.Get(url + "healthz")
		check(err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		health = append(health, time.Since(t0))
		logins = append(logins, login(url))
	}
	report("login round trip", logins, "GET /healthz", health)
}

// coldStart starts one instance on an empty data directory and returns its URL,
// the time until /readyz answered 200, and a function that stops it.
func coldStart(bin, dataDir string) (string, time.Duration, func()) {
	t0 := time.Now()
	cmd := exec.Command(bin, "instance", "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir)
	cmd.Env = append(os.Environ(), "COHORT_ADMIN_PASSWORD=Bench password 1", "COHORT_DATABASE=")
	out, err := cmd.StdoutPipe()
	check(err)
	check(cmd.Start())
	re := regexp.MustCompile(`serving at (http://\S+/)`)
	sc := bufio.NewScanner(out)
	var url string
	for url == "" && sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
		}
	}
	go io.Copy(io.Discard, out)
	for {
		resp, err := http.Get(url + "readyz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		time.Sleep(time.Millisecond)
	}
	return url, time.Since(t0), func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func login(base string) time.Duration {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	t0 := time.Now()
	resp, err := c.Get(base + "login")
	check(err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRe.FindSubmatch(body)
	if m == nil {
		panic("no CSRF token on the login page")
	}
	resp, err = c.PostForm(base+"login", url.Values{"username": {"admin"}, "password": {"Bench password 1"}, "csrf": {string(m[1])}})
	check(err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Signed in as") {
		panic("login did not reach the home page")
	}
	return time.Since(t0)
}

func report(what string, got []time.Duration, baseline string, base []time.Duration) {
	g, b := measure.Median(got), measure.Median(base)
	fmt.Printf("%-24s median %8.2f ms   baseline %-32s median %8.2f ms   ratio %.1fx\n",
		what, ms(g), baseline, ms(b), float64(g)/float64(b))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

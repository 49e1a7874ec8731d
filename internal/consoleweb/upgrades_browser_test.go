package consoleweb_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/consoleweb"
	"github.com/cohort-clinical/cohort/internal/release"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/web"
	"github.com/cohort-clinical/cohort/internal/web/browsertest"
)

// TestBrowserUpgradeFromTheInstancePage requests an upgrade of the running
// Demo instance from its page in headless Chromium — build picker, reason
// — follows its progress, and finds it in the instance's upgrade history
// with its held time and no failed requests; the instance then serves the
// new build through the proxy.
func TestBrowserUpgradeFromTheInstancePage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	nextBin := filepath.Join(t.TempDir(), "cohort-43")
	build := exec.Command("go", "build", "-o", nextBin, "-ldflags", "-X main.version=test -X main.buildNumber=43", "github.com/cohort-clinical/cohort/cmd/cohort")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build test+43: %v\n%s", err, out)
	}
	c := consoletest.New(t, store.SQLite, binary)
	// The build is registered in the real release catalog, which the
	// page's build picker lists.
	cat := release.For(c)
	c.Catalog = cat
	if _, _, err := cat.Register(context.Background(), audit.System, release.Registration{Binary: nextBin, Development: true}); err != nil {
		t.Fatal(err)
	}
	proxy := consoleweb.NewProxy(c, nil)
	c.Gate = proxy
	consoletest.Run(t, c)
	newFixture(t, c)
	ops, _ := console.OperationsOf(context.Background(), c.DB, mustInstance(t, c, "demo-cru/demo/main").ID, 1)
	consoletest.Wait(t, c, ops[0], console.OpDone)
	srv, err := consoleweb.New(consoleweb.Options{Console: c, Proxy: proxy, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Build: web.Build{Version: "test", Number: "42"}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	b := browsertest.New(t)
	id := func(s string) chromedp.ID { return chromedp.ID(s) }
	b.Do(t, "log in to the console", chromedp.Navigate(ts.URL+"/o/demo-cru/demo/main"), chromedp.WaitVisible(id("username")),
		chromedp.SendKeys(id("username"), "admin"), chromedp.SendKeys(id("password"), testPassword), chromedp.Submit(id("password")),
		chromedp.WaitVisible(`//h2[.="Upgrades"]`))
	b.Do(t, "request the upgrade",
		chromedp.Click(`//summary[.="Request an upgrade"]`),
		chromedp.WaitVisible(id("upgrade-build")),
		chromedp.SetValue(id("upgrade-build"), "test+43"),
		chromedp.SendKeys(id("upgrade-reason"), "hotfix 43 for the demo"),
		chromedp.Click(`//button[.="Request the upgrade"]`),
		chromedp.WaitVisible(`//p[contains(., "The upgrade was requested")]`))
	b.Screenshot(t, "upgrade-requested")
	b.Do(t, "follow it to the end", chromedp.WaitVisible(`//table[@id="upgrade-history"]//span[.="upgraded"]`))
	row := browsertest.Get(t, b, "history row", chromedp.Text(`#upgrade-history tbody tr`))
	if !strings.Contains(row, "test (build 42) → test (build 43)") || !strings.Contains(row, "hotfix 43 for the demo") || !strings.Contains(row, " ms") {
		t.Errorf("the history row: %q", row)
	}
	b.Screenshot(t, "upgrade-done")
	hist, err := console.UpgradesOf(context.Background(), c.DB, "demo-cru/demo/main")
	if err != nil || len(hist) != 1 || !hist[0].FailedRequests.Valid || hist[0].FailedRequests.Int64 != 0 || hist[0].RequestedBy == "" {
		t.Fatalf("upgrade record: %v %+v", err, hist)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(ts.URL + "/i/demo-cru/demo/main/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `build="43"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the instance does not serve build 43:\n%s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Package browsertest drives Debian's Chromium headless through chromedp
// for page tests: a fresh profile per test, no background networking (the
// test machines have no network), and a screenshot helper for debugging.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// chromiumPath finds the browser: $CHROMIUM, or Debian's package.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser is one headless Chromium with one tab.
type Browser struct {
	Ctx     context.Context
	shots   string
	counter int
}

// New starts Chromium for the test (skipped when it is missing, failed in
// CI) at a tablet-like 1024×768 window, and closes it at the end.
func New(t *testing.T) *Browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		storetest.SkipOrFail(t, "Chromium is not installed (apt-get install chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1024, 768),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	shots := os.Getenv("COHORT_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(t.TempDir(), "screenshots")
	}
	os.MkdirAll(shots, 0o755)
	return &Browser{Ctx: ctx, shots: shots}
}

// Do runs chromedp steps, failing the test with a screenshot on error.
func (b *Browser) Do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.Ctx, steps...); err != nil {
		b.Screenshot(t, "failed-"+what)
		t.Fatalf("%s: %v", what, err)
	}
}

// Get runs one action that reads something from the page and returns it,
// failing the test with a screenshot on error.
func Get[T any](t *testing.T, b *Browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(b.Ctx, a)
	if err != nil {
		b.Screenshot(t, "failed-"+what)
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// Screenshot saves the whole page as PNG (quality 100 makes chromedp ask for PNG) under the screenshot directory
// and returns its path.
func (b *Browser) Screenshot(t *testing.T, name string) string {
	t.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	b.counter++
	path := filepath.Join(b.shots, strings.ReplaceAll(t.Name(), "/", "-")+"-"+twoDigits(b.counter)+"-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
	return path
}

func twoDigits(n int) string {
	return string([]byte{byte('0' + n/10%10), byte('0' + n%10)})
}

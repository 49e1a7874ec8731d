package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIQFromTheCommandLine issues an IQ document for a running VAL against
// a running console (its release catalog recorded this binary's SHA-256),
// refuses one for the Demo with the rule, and lists, shows and exports
// the document as an uncontrolled copy.
func TestIQFromTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	con := startConsole(t, dir)
	con.waitDemo(t)
	if code, out, errOut := cohort(t, dir, "instance", "create", "demo-cru/val", "--kind", "val", "--reason", "validation"); code != 0 {
		t.Fatalf("create a VAL: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut := cohort(t, dir, "iq", "issue", "demo-cru/demo/main")
	if code != 1 || !strings.Contains(errOut, "Only VAL and PROD environments get an IQ document.") {
		t.Errorf("an IQ for the Demo: exit %d\n%s", code, errOut)
	}
	code, out, errOut := cohort(t, dir, "iq", "issue", "demo-cru/val/main")
	if code != 0 || !strings.HasPrefix(out, "Issued IQ-DEMO-CRU-0001 for demo-cru/val/main") || strings.Contains(out, "FAIL") {
		t.Fatalf("an IQ for VAL Main: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Build binary SHA-256") || strings.Contains(out, "the hash of") {
		t.Errorf("the binary's SHA-256 was not compared with the release catalog's:\n%s", out)
	}
	code, out, _ = cohort(t, dir, "iq", "list", "--org", "demo-cru")
	if code != 0 || !strings.Contains(out, "IQ-DEMO-CRU-0001  demo-cru/val/main") {
		t.Errorf("iq list: exit %d\n%s", code, out)
	}
	code, out, _ = cohort(t, dir, "iq", "show", "iq-demo-cru-0001")
	if code != 0 || !strings.Contains(out, "UNCONTROLLED COPY") || !strings.Contains(out, "(matches the stored content)") {
		t.Errorf("iq show: exit %d\n%s", code, out)
	}
	file := filepath.Join(dir, "iq.html")
	if code, out, errOut := cohort(t, dir, "iq", "show", "IQ-DEMO-CRU-0001", "-o", file); code != 0 {
		t.Fatalf("iq show -o: exit %d\n%s\n%s", code, out, errOut)
	}
	html, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(html), "UNCONTROLLED COPY") || !strings.Contains(string(html), "IQ-DEMO-CRU-0001") {
		t.Errorf("the exported document (%v):\n%s", err, html)
	}
	if code, _, errOut := cohort(t, dir, "iq", "show", "IQ-DEMO-CRU-0009"); code != 1 || !strings.Contains(errOut, "IQ-DEMO-CRU-0009") {
		t.Errorf("an unknown document: exit %d\n%s", code, errOut)
	}
}

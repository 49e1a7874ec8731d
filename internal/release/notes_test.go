package release_test

import (
	"testing"

	"github.com/cohort-clinical/cohort/internal/release"
)

func TestReleaseNotesAreReadIntoSafeParts(t *testing.T) {
	n := release.ParseNotes("Intro with `code`.\n\n## Features\n- **Catalog** of builds\n- Hotfix offers,\n  accepted by customers\n\n" +
		"### Details\nSee [the docs](https://cohort.example/releases) and [this](javascript:alert(1)).\n\n```\ncohort release list\n<b>x</b>\n```\n\n" +
		"## Bug fixes\n* <script>alert(1)</script> is shown as text\n\n## Known issues\n")
	if len(n.Intro) != 1 || n.Intro[0].Kind != "p" || len(n.Intro[0].Spans) != 3 || !n.Intro[0].Spans[1].Code {
		t.Fatalf("intro: %+v", n.Intro)
	}
	f, ok := n.Section("features")
	if !ok || len(f.Blocks) != 4 || f.Blocks[0].Kind != "ul" || len(f.Blocks[0].Items) != 2 {
		t.Fatalf("features: %+v", f)
	}
	if sp := f.Blocks[0].Items[0][0]; !sp.Strong || sp.Text != "Catalog" {
		t.Errorf("bold item: %+v", sp)
	}
	if it := f.Blocks[0].Items[1]; len(it) != 1 || it[0].Text != "Hotfix offers, accepted by customers" {
		t.Errorf("a list item continued on the next line: %+v", it)
	}
	if f.Blocks[1].Kind != "h" || f.Blocks[2].Kind != "p" || f.Blocks[3].Kind != "code" || f.Blocks[3].Code != "cohort release list\n<b>x</b>" {
		t.Errorf("sub-heading, paragraph, code: %+v", f.Blocks[1:])
	}
	var safe, unsafe bool
	for _, sp := range f.Blocks[2].Spans {
		safe = safe || sp.Link == "https://cohort.example/releases" && sp.Text == "the docs"
		unsafe = unsafe || sp.Link != "" && sp.Link != "https://cohort.example/releases"
	}
	if !safe || unsafe {
		t.Errorf("links: only the https one may link: %+v", f.Blocks[2].Spans)
	}
	fixes, ok := n.Section("fixes")
	if !ok || fixes.Blocks[0].Items[0][0].Text != "<script>alert(1)</script> is shown as text" {
		t.Errorf("fixes: %+v", fixes)
	}
	if k, ok := n.Section("known"); !ok || len(k.Blocks) != 0 {
		t.Errorf("an empty Known issues section must stay (it says: none): %+v %v", k, ok)
	}
	if !release.ParseNotes("  \n").Empty() {
		t.Error("blank notes are not empty")
	}
}

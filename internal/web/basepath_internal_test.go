package web

import "testing"

func TestWithBaseRewritesOnlyRootRelativeURLAttributes(t *testing.T) {
	in := `<a href="/sites">Sites</a> <a href='/x'>x</a> <form action="/login" hx-post="/y"><button formaction="/z"></button></form>
<a href="//cdn.example/x">cdn</a> <a href="https://example.org/">ext</a> <a href="?page=2">rel</a> <p>href="/not-an-attribute"</p> <a href="/">home</a>`
	want := `<a href="/b/c/sites">Sites</a> <a href='/b/c/x'>x</a> <form action="/b/c/login" hx-post="/b/c/y"><button formaction="/b/c/z"></button></form>
<a href="//cdn.example/x">cdn</a> <a href="https://example.org/">ext</a> <a href="?page=2">rel</a> <p>href="/not-an-attribute"</p> <a href="/b/c/">home</a>`
	if got := string(withBase("/b/c", []byte(in))); got != want {
		t.Errorf("withBase:\n got %s\nwant %s", got, want)
	}
	if got := string(withBase("", []byte(in))); got != in {
		t.Error("withBase without a base changed the page")
	}
	for in, want := range map[string]string{"/login?next=%2Fx": "/b/c/login?next=%2Fx", "/b/c/x": "/b/c/x", "//evil": "//evil", "https://x/": "https://x/"} {
		if got := prefixLocation("/b/c", in); got != want {
			t.Errorf("prefixLocation(%q) = %q, want %q", in, got, want)
		}
	}
	if got := stripBase("/b/c", "/b/c/sites?x=1"); got != "/sites?x=1" {
		t.Errorf("stripBase: %q", got)
	}
	if got := cleanBasePath("b/c/"); got != "/b/c" {
		t.Errorf("cleanBasePath: %q", got)
	}
}

package web

// TemplateForm lets the external tests post a template the way the editor
// writes it.
var TemplateForm = templateForm

package console

import (
	"context"

	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/store"
)

// GoLiveStep is one step of the go-live checklist of the design brief,
// with what signing it means.
type GoLiveStep struct {
	Code    string
	Label   string
	Meaning string
}

// GoLiveSteps are the checklist's steps, in the order they are signed.
var GoLiveSteps = []GoLiveStep{
	{Code: "source-dump", Label: "Final source dump received",
		Meaning: "I confirm that the customer's final source database dump has been received."},
	{Code: "configuration", Label: "Configuration extracted from the agreed source instance",
		Meaning: "I confirm that the configuration was extracted from the source instance agreed with the customer."},
	{Code: "migration-run", Label: "Migration run",
		Meaning: "I confirm that the migration was run on the final source dump and its output signed off by the customer."},
	{Code: "prod-populated", Label: "PROD Main populated, configured and reviewed",
		Meaning: "I confirm that PROD Main holds the migration output and its configuration, and that it has been reviewed."},
	{Code: "iq", Label: "IQ document issued",
		Meaning: "I confirm that the Installation Qualification document for PROD has been issued."},
	{Code: "final-qc", Label: "Customer's final QC",
		Meaning: "I confirm that the customer has completed its final quality check and accepts PROD."},
}

// GoLiveMeaning is what signing the go-live itself means.
const GoLiveMeaning = "I approve that PROD goes live: every step of the go-live checklist is signed off."

func stepSubject(code string) string { return "golive/" + code }

const goLiveSubject = "golive"

// ChecklistStep is one step as the checklist shows it.
type ChecklistStep struct {
	GoLiveStep
	Position int
	// Signature is the step's sign-off, nil until it is signed.
	Signature *Signature
	// Next marks the first unsigned step: the only one that may be signed.
	Next bool
	// Blocked says why the next step cannot be signed yet, if it cannot.
	Blocked string
}

// DestroyOption is one live environment and whether the destroy rules
// allow it to go now.
type DestroyOption struct {
	Env     Environment
	Allowed bool
	// Rule is the sentence that forbids it for now, or when it may go.
	Rule string
}

// Checklist is an organisation's go-live checklist with its signatures,
// the milestones and what the destroy rules allow now.
type Checklist struct {
	Org        Organisation
	Steps      []ChecklistStep
	Facts      Facts
	Complete   bool
	Live       *Signature
	Validation *Signature
	Destroy    []DestroyOption
	// Prod is the organisation's live PROD environment, nil until it has
	// one: the reviewer of step 4 sees what it was made from.
	Prod *Environment
}

// GoLiveChecklist returns an organisation's checklist.
func GoLiveChecklist(ctx context.Context, q store.Querier, org string) (Checklist, error) {
	var cl Checklist
	var err error
	if cl.Org, err = GetOrganisation(ctx, q, org); err != nil {
		return cl, err
	}
	sigs, err := Signatures(ctx, q, org)
	if err != nil {
		return cl, err
	}
	if cl.Facts, err = factsOf(ctx, q, org); err != nil {
		return cl, err
	}
	envs, err := Environments(ctx, q, org)
	if err != nil {
		return cl, err
	}
	cl.Complete = true
	for i, st := range GoLiveSteps {
		cs := ChecklistStep{GoLiveStep: st, Position: i + 1}
		if s, ok := sigs[stepSubject(st.Code)]; ok {
			cs.Signature = &s
		} else if cl.Complete {
			cs.Next = true
			cs.Blocked = blocked(st.Code, cl.Facts, envs)
			if cs.Blocked == "" && st.Code == "iq" {
				// The IQ step confirms a document exists (iq.go).
				if cs.Blocked, err = iqBlocked(ctx, q, org, envs); err != nil {
					return cl, err
				}
			}
			cl.Complete = false
		}
		cl.Steps = append(cl.Steps, cs)
	}
	if s, ok := sigs[goLiveSubject]; ok {
		cl.Live = &s
	}
	if s, ok := sigs["milestone/"+string(ValidationDone)]; ok {
		cl.Validation = &s
	}
	for _, e := range envs {
		if !e.Live() {
			continue
		}
		if e.Kind == Prod {
			cl.Prod = &e
		}
		opt := DestroyOption{Env: e, Allowed: true, Rule: "destroyed " + string(e.Rule().Destroy)}
		if err := CheckDestroy(e.Kind, e.Purpose, e.Code, cl.Facts); err != nil {
			opt.Allowed, opt.Rule = false, err.Error()
		}
		cl.Destroy = append(cl.Destroy, opt)
	}
	return cl, nil
}

// blocked says why a step cannot be signed yet: the migration step needs
// the customer's sign-off of the migration output, the PROD step a working
// PROD Main instance.
func blocked(code string, f Facts, envs []Environment) string {
	switch code {
	case "migration-run":
		if !f.Has(MigrationSignedOff) {
			return "The customer has not signed the migration output off yet."
		}
	case "prod-populated", "iq", "final-qc":
		if _, ok := liveMain(envs, Prod); !ok {
			return "There is no working PROD Main instance yet."
		}
	}
	return ""
}

// SignGoLiveStep signs one step of an organisation's go-live checklist
// electronically. Steps are signed in order, each once, and only when what
// the step confirms is true in the registry.
func SignGoLiveStep(ctx context.Context, db *store.DB, s Signer, org, step, comment string) (Signature, error) {
	pos := -1
	for i, st := range GoLiveSteps {
		if st.Code == step {
			pos = i
		}
	}
	if pos < 0 {
		return Signature{}, refuse("%q is not a step of the go-live checklist.", step)
	}
	return withSignature(ctx, db, s, org+"/"+stepSubject(step), func(tx *store.Tx, u account.User) (Signature, error) {
		cl, err := GoLiveChecklist(ctx, tx, org)
		if err != nil {
			return Signature{}, err
		}
		cs := cl.Steps[pos]
		if cs.Signature != nil {
			return Signature{}, refuse("«%s» was signed off by %s on %s UTC; a signature is never changed or given twice.", cs.Label,
				cs.Signature.FullName, cs.Signature.SignedAt.UTC().Format("2006-01-02 15:04"))
		}
		if !cs.Next {
			for _, prev := range cl.Steps {
				if prev.Next {
					return Signature{}, refuse("The go-live checklist is signed off in order: «%s» comes before «%s».", prev.Label, cs.Label)
				}
			}
		}
		if cs.Blocked != "" {
			return Signature{}, refuse("«%s» cannot be signed off yet: %s", cs.Label, cs.Blocked)
		}
		return sign(ctx, tx, cl.Org.ID, org, u, stepSubject(step), pos+1, cs.Meaning, comment)
	})
}

// CompleteGoLive puts PROD live: it is refused until every step of the
// checklist is signed off and PROD Main works; then the signer's
// electronic signature and the ProdLive milestone are recorded together,
// after which the destroy rules let Sandbox, and once validation is done
// VAL, go.
func CompleteGoLive(ctx context.Context, db *store.DB, s Signer, org, comment string) (Signature, error) {
	return withSignature(ctx, db, s, org+"/"+goLiveSubject, func(tx *store.Tx, u account.User) (Signature, error) {
		cl, err := GoLiveChecklist(ctx, tx, org)
		if err != nil {
			return Signature{}, err
		}
		if cl.Live != nil {
			return Signature{}, refuse("PROD of %s went live on %s UTC (signed by %s).", org, cl.Live.SignedAt.UTC().Format("2006-01-02 15:04"), cl.Live.FullName)
		}
		for _, st := range cl.Steps {
			if st.Signature == nil {
				return Signature{}, refuse("PROD cannot go live yet: «%s» is not signed off (step %d of %d of the go-live checklist).", st.Label, st.Position, len(cl.Steps))
			}
		}
		sig, err := sign(ctx, tx, cl.Org.ID, org, u, goLiveSubject, len(GoLiveSteps)+1, GoLiveMeaning, comment)
		if err != nil {
			return sig, err
		}
		return sig, reach(ctx, tx, cl.Org.ID, org, u.Actor(), ProdLive, "electronically signed: "+GoLiveMeaning)
	})
}

package console

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Signer is a person signing electronically: the two components of a
// non-biometric signature (21 CFR 11.200(a)) entered again at the moment of
// signing — user name and password — and, from a page, the signed-in user
// they must belong to.
type Signer struct {
	// SessionUserID is the signed-in user's id; a signature in someone
	// else's name is refused. Zero from the command line, where the user
	// name and password alone identify the signer.
	SessionUserID int64
	Username      string
	Password      string
}

// Signature is an electronic signature as the console keeps it (21 CFR
// 11.50): the signer's printed name and user name, the date and time of
// signing (the server's clock, UTC), and the meaning of the signature,
// with the signer's comment.
type Signature struct {
	Subject  string
	Username string
	FullName string
	Meaning  string
	Comment  string
	SignedAt time.Time
}

// String is the signature as every page and printout shows it.
func (s Signature) String() string {
	return fmt.Sprintf("%s (%s), %s UTC — %s", s.FullName, s.Username, s.SignedAt.UTC().Format("2006-01-02 15:04:05"), s.Meaning)
}

// actionSign and actionSignFailed are the console audit trail's actions
// for a signature given and a signature refused.
const (
	actionSign       audit.Action = "sign"
	actionSignFailed audit.Action = "sign_failed"
)

// errBadSignature is the one sentence a wrong user name or password gets:
// it does not say which of the two was wrong.
var errBadSignature = check.FieldErrors{"password": "The user name or password is not correct; nothing was signed."}

// verifySigner checks a signer's user name and password and that they may
// sign for the console (console.manage). A failed attempt is recorded in
// the console's audit trail on its own, so a refused signature still
// leaves its trace.
func verifySigner(ctx context.Context, db *store.DB, s Signer, subject string) (account.User, error) {
	username := strings.TrimSpace(s.Username)
	if username == "" || s.Password == "" {
		fe := check.FieldErrors{}
		if username == "" {
			fe.Add("username", "Enter your user name to sign.")
		}
		if s.Password == "" {
			fe.Add("password", "Enter your password to sign.")
		}
		return account.User{}, fe
	}
	failed := func(who audit.Actor, why string) {
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return audit.Record(ctx, tx, audit.Event{Actor: who, Action: actionSignFailed, Entity: "signature", EntityID: subject,
				Changes: []audit.Change{{Field: "username", New: username}, {Field: "why", New: why}}})
		}); err != nil {
			slog.Default().Error("record a refused signature", "subject", subject, "err", err)
		}
	}
	u, err := account.GetByUsername(ctx, db, username)
	if errors.Is(err, check.ErrNotFound) || (err == nil && !u.Active) {
		failed(audit.Actor{ID: s.SessionUserID, Name: username}, "unknown or inactive user")
		return u, errBadSignature
	}
	if err != nil {
		return u, err
	}
	if u.LockedUntil.Valid && u.LockedUntil.Time.After(time.Now()) {
		failed(u.Actor(), "account locked")
		return u, refuse("The account %s is locked until %s UTC after failed log-ins; nothing was signed.", u.Username, u.LockedUntil.Time.UTC().Format("15:04"))
	}
	if s.SessionUserID != 0 && u.ID != s.SessionUserID {
		failed(audit.Actor{ID: s.SessionUserID, Name: username}, "not the signed-in user")
		return u, check.FieldErrors{"username": "Sign with your own user name: a signature is never given in someone else's name."}
	}
	if err := account.CheckPassword(ctx, db, u.ID, s.Password); errors.Is(err, account.ErrWrongPassword) {
		failed(u.Actor(), "wrong password")
		settings, err := setting.Load(ctx, db)
		if err != nil {
			return u, err
		}
		var locked *account.LockedError
		if err := account.FailedSignature(ctx, db, account.LockoutFrom(settings), u); errors.As(err, &locked) {
			return u, refuse("Too many wrong passwords: the account %s is locked until %s UTC; nothing was signed.", u.Username, locked.Until.UTC().Format("15:04"))
		}
		return u, errBadSignature
	} else if err != nil {
		return u, err
	}
	if u.MustChangePassword {
		failed(u.Actor(), "one-time password not yet changed")
		return u, refuse("%s still has a one-time password; change it before signing anything.", u.Username)
	}
	auth, err := access.AuthorityOf(ctx, db, u.ID)
	if err != nil {
		return u, err
	}
	if !auth.Can(access.ConsoleManage) {
		failed(u.Actor(), "lacks console.manage")
		return u, refuse("%s may not sign for the console: their roles lack the permission %s.", u.Username, access.ConsoleManage)
	}
	return u, nil
}

// withSignature checks the signer's user name and password for subject
// (verifySigner, whose refusals are audited on their own), then runs
// record — the checks of what the signature confirms, the signature
// itself and what it brings about — in one transaction, so a signature is
// kept only together with what it confirms. It returns what record
// returns.
func withSignature(ctx context.Context, db *store.DB, s Signer, subject string, record func(tx *store.Tx, u account.User) (Signature, error)) (Signature, error) {
	u, err := verifySigner(ctx, db, s, subject)
	if err != nil {
		return Signature{}, err
	}
	var sig Signature
	err = db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		sig, err = record(tx, u)
		return err
	})
	return sig, err
}

// sign records a signature inside tx, with its audit entry. A subject is
// signed once: a second signature is refused with who signed it and when.
func sign(ctx context.Context, tx *store.Tx, orgID int64, org string, u account.User, subject string, position int, meaning, comment string) (Signature, error) {
	if prev, found, err := signatureOf(ctx, tx, orgID, subject); err != nil {
		return prev, err
	} else if found {
		return prev, refuse("This was signed by %s on %s UTC; a signature is never changed or given twice.", prev.FullName, prev.SignedAt.UTC().Format("2006-01-02 15:04"))
	}
	sig := Signature{Subject: subject, Username: u.Username, FullName: u.DisplayName, Meaning: meaning, Comment: strings.TrimSpace(comment),
		SignedAt: time.Now().UTC().Truncate(time.Second)}
	if _, err := tx.Exec(ctx, `INSERT INTO signature (organisation_id, subject, position, user_id, username, full_name, meaning, comment, signed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, orgID, subject, position, u.ID, sig.Username, sig.FullName, sig.Meaning, sig.Comment, sig.SignedAt); err != nil {
		if store.IsUniqueViolation(err) {
			return sig, refuse("Someone else signed this a moment ago; reload the page to see their signature.")
		}
		return sig, fmt.Errorf("record the signature of %s: %w", subject, err)
	}
	return sig, audit.Record(ctx, tx, audit.Event{Actor: u.Actor(), Action: actionSign, Entity: "signature", EntityID: org + "/" + subject,
		Reason: meaning, Changes: []audit.Change{{Field: "signer", New: sig.FullName + " (" + sig.Username + ")"}, {Field: "meaning", New: meaning},
			{Field: "comment", New: sig.Comment}, {Field: "signed_at", New: sig.SignedAt.Format(time.RFC3339)}}})
}

func signatureOf(ctx context.Context, q store.Querier, orgID int64, subject string) (Signature, bool, error) {
	s := Signature{Subject: subject}
	err := q.QueryRow(ctx, "SELECT username, full_name, meaning, comment, signed_at FROM signature WHERE organisation_id = ? AND subject = ?",
		orgID, subject).Scan(&s.Username, &s.FullName, &s.Meaning, &s.Comment, &s.SignedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("read the signature of %s: %w", subject, err)
	}
	return s, true, nil
}

// Signatures returns every signature of an organisation by subject.
func Signatures(ctx context.Context, q store.Querier, org string) (map[string]Signature, error) {
	rows, err := q.Query(ctx, `SELECT s.subject, s.username, s.full_name, s.meaning, s.comment, s.signed_at FROM signature s
		JOIN organisation o ON o.id = s.organisation_id WHERE o.code = ? ORDER BY s.id`, org)
	if err != nil {
		return nil, fmt.Errorf("read the signatures of %s: %w", org, err)
	}
	defer rows.Close()
	out := map[string]Signature{}
	for rows.Next() {
		var s Signature
		if err := rows.Scan(&s.Subject, &s.Username, &s.FullName, &s.Meaning, &s.Comment, &s.SignedAt); err != nil {
			return nil, fmt.Errorf("read the signatures of %s: %w", org, err)
		}
		out[s.Subject] = s
	}
	return out, rows.Err()
}

// reach records a milestone inside tx, after checkMilestone allows it;
// reaching it again keeps the first date.
func reach(ctx context.Context, tx *store.Tx, orgID int64, org string, by audit.Actor, m Milestone, reason string) error {
	facts, err := factsOf(ctx, tx, org)
	if err != nil {
		return err
	}
	if facts.Has(m) {
		return nil
	}
	if err := checkMilestone(ctx, tx, org, m); err != nil {
		return err
	}
	now := time.Now().UTC()
	if err := upsertMilestone(ctx, tx, orgID, string(m), "reached_at", now, by); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE milestone SET reached_by = ? WHERE organisation_id = ? AND code = ?", by.Name, orgID, string(m)); err != nil {
		return fmt.Errorf("record %s: %w", m, err)
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "timeline", EntityID: org + "/" + string(m),
		Reason: nonEmpty(reason, string(m)), Changes: []audit.Change{{Field: "reached_at", New: now.Format(time.RFC3339)}}})
}

// ValidationMeaning is what signing the end of validation means.
const ValidationMeaning = "I confirm that validation in the VAL environment is complete and its results are accepted."

// SignValidationDone records the ValidationDone milestone with the
// signer's electronic signature. Validation is done in a formal VAL — one
// made after the customer signed the migration output off — so an
// organisation with only informal VALs is refused.
func SignValidationDone(ctx context.Context, db *store.DB, s Signer, org, comment string) (Signature, error) {
	subject := "milestone/" + string(ValidationDone)
	return withSignature(ctx, db, s, org+"/"+subject, func(tx *store.Tx, u account.User) (Signature, error) {
		o, err := GetOrganisation(ctx, tx, org)
		if err != nil {
			return Signature{}, err
		}
		envs, err := Environments(ctx, tx, org)
		if err != nil {
			return Signature{}, err
		}
		formal := false
		for _, e := range envs {
			if e.Kind != VAL || !e.Live() || e.Purpose == Upgrade {
				continue
			}
			if plan, found, err := PairPlanOf(ctx, tx, e.ID); err != nil {
				return Signature{}, err
			} else if !found || !plan.Informal {
				formal = true
			}
		}
		if !formal {
			return Signature{}, refuse("Validation is done in a formal VAL, made after the migration output was signed off; %s has none.", org)
		}
		sig, err := sign(ctx, tx, o.ID, org, u, subject, 0, ValidationMeaning, comment)
		if err != nil {
			return sig, err
		}
		return sig, reach(ctx, tx, o.ID, org, u.Actor(), ValidationDone, "electronically signed: "+ValidationMeaning)
	})
}

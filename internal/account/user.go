// Package account keeps the people who sign in to an instance: their
// accounts, password hashes, lockout state and sessions. Accounts are
// deactivated, never deleted, so the audit trail always names a real user.
package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// User is one account.
type User struct {
	ID                 int64
	Username           string
	DisplayName        string
	Email              string
	MustChangePassword bool
	FailedLogins       int
	LockedUntil        sql.NullTime
	Active             bool
	LastLoginAt        sql.NullTime
	CreatedAt          time.Time
	UpdatedAt          time.Time
	UpdatedBy          string
	Version            int
}

// Actor returns the user as the audit trail names them.
func (u User) Actor() audit.Actor { return audit.Actor{ID: u.ID, Name: u.Username} }

var usernamePattern = regexp.MustCompile(`^[a-z][a-z0-9._-]{1,39}$`)

// Validate checks the editable fields.
func (u User) Validate() error {
	fe := check.FieldErrors{}
	if !usernamePattern.MatchString(u.Username) {
		fe.Add("username", "Use 2–40 lower-case letters, digits, dots, - or _, starting with a letter.")
	}
	if strings.TrimSpace(u.DisplayName) == "" {
		fe.Add("display_name", "This field is required.")
	} else if len(u.DisplayName) > 120 {
		fe.Add("display_name", "Keep the name under 120 characters.")
	}
	if u.Email != "" {
		if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
			fe.Add("email", "%q is not an e-mail address.", u.Email)
		}
	}
	return fe.Err()
}

func (u User) fields() map[string]string {
	active := "yes"
	if !u.Active {
		active = "no"
	}
	return map[string]string{"username": u.Username, "display_name": u.DisplayName, "email": u.Email, "active": active}
}

var userFields = []string{"username", "display_name", "email", "active"}

const columns = `id, username, display_name, email, must_change_password, failed_logins, locked_until, active,
	last_login_at, created_at, updated_at, updated_by, version`

func scanUser(r interface{ Scan(...any) error }) (User, error) {
	var u User
	err := r.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.MustChangePassword, &u.FailedLogins, &u.LockedUntil,
		&u.Active, &u.LastLoginAt, &u.CreatedAt, &u.UpdatedAt, &u.UpdatedBy, &u.Version)
	return u, err
}

// List returns every account by user name.
func List(ctx context.Context, db *store.DB) ([]User, error) {
	rows, err := db.Query(ctx, "SELECT "+columns+" FROM app_user ORDER BY username")
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Get returns the account with the given id.
func Get(ctx context.Context, q store.Querier, id int64) (User, error) {
	u, err := scanUser(q.QueryRow(ctx, "SELECT "+columns+" FROM app_user WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %d: %w", id, check.ErrNotFound)
	}
	return u, err
}

// GetByUsername returns the account with the given user name.
func GetByUsername(ctx context.Context, q store.Querier, username string) (User, error) {
	u, err := scanUser(q.QueryRow(ctx, "SELECT "+columns+" FROM app_user WHERE username = ?", username))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %q: %w", username, check.ErrNotFound)
	}
	return u, err
}

// NewUser is what an administrator enters to create an account.
type NewUser struct {
	Username    string
	DisplayName string
	Email       string
	Password    string
	// MustChange forces a new password at first login; an administrator
	// who types a password for someone else should leave it on.
	MustChange bool
	Grants     []access.Grant
}

// Create stores a new account with its first grants, in one transaction.
func Create(ctx context.Context, db *store.DB, by audit.Actor, pol Policy, n NewUser) (User, error) {
	u := User{Username: strings.TrimSpace(strings.ToLower(n.Username)), DisplayName: strings.TrimSpace(n.DisplayName),
		Email: strings.TrimSpace(n.Email), MustChangePassword: n.MustChange, Active: true}
	fe := check.FieldErrors{}
	if err, ok := check.AsFieldErrors(u.Validate()); ok {
		fe = err
	}
	if err := pol.Check(n.Password, u.Username); err != nil {
		fe.Add("password", "%s", err.Error())
	}
	if err := fe.Err(); err != nil {
		return u, err
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return u, err
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		now := time.Now().UTC()
		id, err := tx.InsertID(ctx, `INSERT INTO app_user (username, display_name, email, password_hash, must_change_password,
			active, password_changed_at, created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.Username, u.DisplayName, u.Email, hash, u.MustChangePassword, true, now, now, now, by.Name)
		if store.IsUniqueViolation(err) {
			return check.FieldErrors{"username": fmt.Sprintf("The user name %s is taken (perhaps by a deactivated account).", u.Username)}
		}
		if err != nil {
			return fmt.Errorf("create user %s: %w", u.Username, err)
		}
		u.ID, u.CreatedAt, u.UpdatedAt, u.UpdatedBy, u.Version = id, now, now, by.Name, 1
		if err := audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "user", EntityID: u.Username,
			Changes: audit.Diff(userFields, nil, u.fields())}); err != nil {
			return err
		}
		for _, g := range n.Grants {
			if err := access.GrantRole(ctx, tx, by, id, g.RoleCode, g.SiteID, "granted when the account was created"); err != nil {
				return err
			}
		}
		return nil
	})
	return u, err
}

// Update saves a changed display name and e-mail address.
func Update(ctx context.Context, db *store.DB, by audit.Actor, id int64, version int, displayName, email, reason string) error {
	return change(ctx, db, by, id, version, reason, audit.Update, func(u *User) error {
		u.DisplayName, u.Email = strings.TrimSpace(displayName), strings.TrimSpace(email)
		return u.Validate()
	})
}

// SetActive deactivates or reactivates an account. Deactivation also ends
// the user's sessions at once.
func SetActive(ctx context.Context, db *store.DB, by audit.Actor, id int64, version int, active bool, reason string) error {
	action := audit.Deactivate
	if active {
		action = audit.Reactivate
	}
	return change(ctx, db, by, id, version, reason, action, func(u *User) error {
		if by.ID == id && !active {
			return errors.New("You cannot deactivate your own account.")
		}
		u.Active = active
		return nil
	})
}

func change(ctx context.Context, db *store.DB, by audit.Actor, id int64, version int, reason string,
	action audit.Action, apply func(*User) error) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are making this change (reason for change)."}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		old, err := Get(ctx, tx, id)
		if err != nil {
			return err
		}
		if old.Version != version {
			return &check.Conflict{Entity: "user", By: old.UpdatedBy, At: old.UpdatedAt}
		}
		u := old
		if err := apply(&u); err != nil {
			return err
		}
		changes := audit.Diff(userFields, old.fields(), u.fields())
		if len(changes) == 0 {
			return nil
		}
		res, err := tx.Exec(ctx, `UPDATE app_user SET display_name = ?, email = ?, active = ?, updated_at = ?, updated_by = ?,
			version = version + 1 WHERE id = ? AND version = ?`, u.DisplayName, u.Email, u.Active, time.Now().UTC(), by.Name, id, version)
		if err != nil {
			return fmt.Errorf("save user %s: %w", u.Username, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return &check.Conflict{Entity: "user", By: "another user", At: time.Now().UTC()}
		}
		if !u.Active {
			if _, err := tx.Exec(ctx, `DELETE FROM user_session WHERE user_id = ?`, id); err != nil {
				return fmt.Errorf("end sessions of %s: %w", u.Username, err)
			}
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: action, Entity: "user", EntityID: u.Username, Reason: reason, Changes: changes})
	})
}

// ResetPassword sets a new password chosen by an administrator; the user
// must change it at their next login. It also lifts any lockout.
func ResetPassword(ctx context.Context, db *store.DB, by audit.Actor, pol Policy, id int64, password, reason string) error {
	fe := check.FieldErrors{}
	if strings.TrimSpace(reason) == "" {
		fe.Add("reason", "Say why you are resetting this password.")
	}
	u, err := Get(ctx, db, id)
	if err != nil {
		return err
	}
	if err := pol.Check(password, u.Username); err != nil {
		fe.Add("password", "%s", err.Error())
	}
	if err := fe.Err(); err != nil {
		return err
	}
	return setPassword(ctx, db, by, u, password, true, audit.PasswordReset, reason)
}

// ChangePassword lets a signed-in user replace their own password.
func ChangePassword(ctx context.Context, db *store.DB, pol Policy, id int64, current, next string) error {
	u, err := Get(ctx, db, id)
	if err != nil {
		return err
	}
	var hash string
	if err := db.QueryRow(ctx, "SELECT password_hash FROM app_user WHERE id = ?", id).Scan(&hash); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	fe := check.FieldErrors{}
	if ok, err := VerifyPassword(hash, current); err != nil || !ok {
		fe.Add("current", "This is not your current password.")
	}
	if err := pol.Check(next, u.Username); err != nil {
		fe.Add("new", "%s", err.Error())
	} else if next == current {
		fe.Add("new", "Choose a password different from the current one.")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	return setPassword(ctx, db, u.Actor(), u, next, false, audit.PasswordChange, "")
}

func setPassword(ctx context.Context, db *store.DB, by audit.Actor, u User, pw string, mustChange bool, action audit.Action, reason string) error {
	hash, err := HashPassword(pw)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		now := time.Now().UTC()
		if _, err := tx.Exec(ctx, `UPDATE app_user SET password_hash = ?, must_change_password = ?, failed_logins = 0,
			locked_until = NULL, password_changed_at = ?, updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ?`,
			hash, mustChange, now, now, by.Name, u.ID); err != nil {
			return fmt.Errorf("set password of %s: %w", u.Username, err)
		}
		// The password hash itself never enters the trail; that it changed does.
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: action, Entity: "user", EntityID: u.Username, Reason: reason,
			Changes: []audit.Change{{Field: "password", Old: "(hidden)", New: "(hidden)"}}})
	})
}

// Bootstrap creates the first administrator of an empty instance with the
// given password (or a generated one, returned) and reports whether it did.
func Bootstrap(ctx context.Context, db *store.DB, password string) (created bool, pw string, err error) {
	var n int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM app_user").Scan(&n); err != nil {
		return false, "", fmt.Errorf("bootstrap administrator: %w", err)
	}
	if n > 0 {
		return false, "", nil
	}
	if err := access.SeedRoles(ctx, db); err != nil {
		return false, "", err
	}
	mustChange := password == ""
	if password == "" {
		password = GeneratePassword()
	}
	_, err = Create(ctx, db, audit.System, Policy{MinLength: 8, MinClasses: 1}, NewUser{Username: "admin", DisplayName: "Administrator",
		Password: password, MustChange: mustChange, Grants: []access.Grant{{RoleCode: "administrator", SiteID: access.Everywhere}}})
	if err != nil {
		return false, "", fmt.Errorf("bootstrap administrator: %w", err)
	}
	return true, password, nil
}

package account_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

var policy = account.Policy{MinLength: 12, MinClasses: 3}

func TestPasswordHashing(t *testing.T) {
	h, err := account.HashPassword("Correct horse 9")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := account.VerifyPassword(h, "Correct horse 9"); !ok {
		t.Fatal("the right password was refused")
	}
	if ok, _ := account.VerifyPassword(h, "Correct horse 8"); ok {
		t.Fatal("a wrong password was accepted")
	}
	h2, _ := account.HashPassword("Correct horse 9")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
}

func TestPolicy(t *testing.T) {
	for pw, ok := range map[string]bool{"short1A": false, "alllowercaseletters": false, "Lower and UPPER 1": true, "nurse-jane-Smith1": false} {
		err := policy.Check(pw, "jane")
		if (err == nil) != ok {
			t.Errorf("policy.Check(%q) = %v, want ok=%v", pw, err, ok)
		}
	}
}

func TestLoginLockoutAndSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := access.SeedRoles(ctx, db); err != nil {
			t.Fatal(err)
		}
		u, err := account.Create(ctx, db, audit.System, policy, account.NewUser{Username: "jane", DisplayName: "Jane Doe",
			Password: "Initial pass 123", MustChange: true, Grants: []access.Grant{{RoleCode: "crc"}}})
		if err != nil {
			t.Fatal(err)
		}
		lock := account.Lockout{Threshold: 3, Duration: time.Minute}
		if _, err := account.Authenticate(ctx, db, lock, "jane", "Initial pass 123"); err != nil {
			t.Fatalf("right password: %v", err)
		}
		for i := 0; i < 2; i++ {
			if _, err := account.Authenticate(ctx, db, lock, "jane", "wrong"); !errors.Is(err, account.ErrBadCredentials) {
				t.Fatalf("wrong password %d: %v", i, err)
			}
		}
		var locked *account.LockedError
		if _, err := account.Authenticate(ctx, db, lock, "jane", "wrong"); !errors.As(err, &locked) {
			t.Fatalf("third failure should lock: %v", err)
		}
		if _, err := account.Authenticate(ctx, db, lock, "jane", "Initial pass 123"); !errors.As(err, &locked) {
			t.Fatalf("a locked account accepted the right password: %v", err)
		}
		if _, err := account.Authenticate(ctx, db, lock, "nobody", "x"); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("unknown user: %v", err)
		}

		// Admin reset lifts the lockout and forces a change.
		admin := audit.Actor{ID: 99, Name: "admin"}
		if err := account.ResetPassword(ctx, db, admin, policy, u.ID, "Reset by admin 42", "forgotten"); err != nil {
			t.Fatal(err)
		}
		u2, err := account.Authenticate(ctx, db, lock, "jane", "Reset by admin 42")
		if err != nil || !u2.MustChangePassword {
			t.Fatalf("after reset: %+v %v", u2, err)
		}
		if err := account.ChangePassword(ctx, db, policy, u.ID, "Reset by admin 42", "Reset by admin 42"); err == nil {
			t.Fatal("reusing the current password was accepted")
		}
		if err := account.ChangePassword(ctx, db, policy, u.ID, "Reset by admin 42", "Brand new pass 7"); err != nil {
			t.Fatal(err)
		}

		// Sessions: rotated at login, end on deactivation, time out.
		tok1, _, err := account.StartSession(ctx, db, u.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		tok2, _, _ := account.StartSession(ctx, db, u.ID, tok1)
		to := account.Timeouts{Idle: time.Hour, Absolute: time.Hour}
		if _, _, err := account.LookupSession(ctx, db, tok1, to); !errors.Is(err, account.ErrNoSession) {
			t.Fatal("the pre-login session survived rotation")
		}
		if _, got, err := account.LookupSession(ctx, db, tok2, to); err != nil || got.Username != "jane" {
			t.Fatalf("live session: %v", err)
		}
		if _, _, err := account.LookupSession(ctx, db, tok2, account.Timeouts{Idle: -time.Second, Absolute: time.Hour}); !errors.Is(err, account.ErrNoSession) {
			t.Fatal("an idle session was accepted")
		}
		tok3, _, _ := account.StartSession(ctx, db, u.ID, "")
		cur, _ := account.Get(ctx, db, u.ID)
		if err := account.SetActive(ctx, db, admin, u.ID, cur.Version, false, "left the unit"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := account.LookupSession(ctx, db, tok3, to); !errors.Is(err, account.ErrNoSession) {
			t.Fatal("a deactivated user's session is still live")
		}
		if _, err := account.Authenticate(ctx, db, lock, "jane", "Brand new pass 7"); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("a deactivated user logged in: %v", err)
		}
		err = account.SetActive(ctx, db, admin, u.ID, cur.Version, true, "back")
		var conflict *check.Conflict
		if !errors.As(err, &conflict) {
			t.Fatalf("stale version accepted: %v", err)
		}

		entries, _, _ := audit.List(ctx, db, audit.Filter{Entity: "user", EntityID: "jane", Limit: 1000})
		counts := map[audit.Action]int{}
		for _, e := range entries {
			counts[e.Action]++
		}
		if counts[audit.Login] < 2 || counts[audit.LoginFailed] < 3 || counts[audit.Lockout] != 1 || counts[audit.PasswordReset] != 1 || counts[audit.Deactivate] != 1 {
			t.Fatalf("audit counts: %v", counts)
		}
		if res, _ := audit.Verify(ctx, db); !res.OK() {
			t.Fatalf("chain broken: %s", res.Problem)
		}
	})
}

package account

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/crypto/argon2"

	"github.com/cohort-clinical/cohort/internal/setting"
)

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1
// lane), which keeps a login near 30 ms on a small server while making
// offline guessing expensive. They are stored with each hash, so raising
// them later leaves old hashes verifiable.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns the argon2id hash of pw in the PHC string format.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches the PHC-encoded argon2id hash.
func VerifyPassword(encoded, pw string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("verify password: the stored hash is not argon2id")
	}
	var version int
	var mem, iter uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &threads); err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	got := argon2.IDKey([]byte(pw), salt, iter, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Policy is the password rule set, from the system settings.
type Policy struct {
	MinLength  int
	MinClasses int
}

// PolicyFrom reads the password policy from settings.
func PolicyFrom(v setting.Values) Policy {
	return Policy{MinLength: v.Int("password.min_length"), MinClasses: v.Int("password.min_classes")}
}

// Check returns a sentence saying why pw does not meet the policy, or nil.
func (p Policy) Check(pw, username string) error {
	if n := len([]rune(pw)); n < p.MinLength {
		return fmt.Errorf("Use at least %d characters (this one has %d).", p.MinLength, n)
	}
	if len(pw) > 256 {
		return errors.New("Use at most 256 characters.")
	}
	var lower, upper, digit, other bool
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			classes++
		}
	}
	if classes < p.MinClasses {
		return fmt.Errorf("Mix at least %d of: lower-case letters, capitals, digits, symbols.", p.MinClasses)
	}
	if username != "" && strings.Contains(strings.ToLower(pw), strings.ToLower(username)) {
		return errors.New("Do not use your user name in your password.")
	}
	return nil
}

// GeneratePassword returns a random password that meets any policy up to
// 20 characters and all four classes — for one-time passwords.
func GeneratePassword() string {
	const (
		lower  = "abcdefghijkmnopqrstuvwxyz"
		upper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		digits = "23456789"
		symbol = "-_.!"
	)
	sets := []string{lower, upper, digits, symbol}
	out := make([]byte, 20)
	buf := make([]byte, 20)
	rand.Read(buf)
	for i := range out {
		set := sets[i%4]
		if i >= 4 {
			set = lower + upper + digits
		}
		out[i] = set[int(buf[i])%len(set)]
	}
	return string(out)
}

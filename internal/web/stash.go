package web

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// stash keeps something a user uploaded between two steps of a page flow
// (preview then apply, check then import), so they apply exactly what they
// reviewed without uploading it twice. Entries belong to the user who
// uploaded them, expire after ttl, and at most slots are kept: the oldest
// goes first. The zero value is not usable; make one with newStash.
type stash[T any] struct {
	ttl   time.Duration
	slots int
	mu    sync.Mutex
	m     map[string]stashed[T]
}

type stashed[T any] struct {
	userID int64
	at     time.Time
	value  T
}

func newStash[T any](ttl time.Duration, slots int) *stash[T] {
	return &stash[T]{ttl: ttl, slots: slots, m: map[string]stashed[T]{}}
}

// put keeps v for userID and returns the token that fetches it.
func (st *stash[T]) put(userID int64, v T) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := time.Now()
	oldest := ""
	for k, e := range st.m {
		if now.Sub(e.at) > st.ttl {
			delete(st.m, k)
			continue
		}
		if oldest == "" || e.at.Before(st.m[oldest].at) {
			oldest = k
		}
	}
	if len(st.m) >= st.slots {
		delete(st.m, oldest)
	}
	var raw [16]byte
	rand.Read(raw[:])
	token := hex.EncodeToString(raw[:])
	st.m[token] = stashed[T]{userID: userID, at: now, value: v}
	return token
}

// get returns what token names if userID stashed it and it has not expired.
func (st *stash[T]) get(token string, userID int64) (T, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	e, ok := st.m[token]
	if !ok || e.userID != userID || time.Since(e.at) > st.ttl {
		var zero T
		return zero, false
	}
	return e.value, true
}

// take is get that also forgets the entry, so a token is spent once.
func (st *stash[T]) take(token string, userID int64) (T, bool) {
	v, ok := st.get(token, userID)
	if ok {
		st.mu.Lock()
		delete(st.m, token)
		st.mu.Unlock()
	}
	return v, ok
}

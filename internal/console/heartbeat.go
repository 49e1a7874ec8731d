package console

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cohort-clinical/cohort/internal/store"
)

// Heartbeat says which console process runs the registry and when it last
// said so.
type Heartbeat struct {
	Owner string
	PID   int
	Host  string
	At    time.Time
}

func (c *Console) heartbeatEvery() time.Duration {
	if c.HeartbeatEvery > 0 {
		return c.HeartbeatEvery
	}
	return 2 * time.Second
}

func (c *Console) staleAfter() time.Duration {
	if c.StaleAfter > 0 {
		return c.StaleAfter
	}
	return 10 * time.Second
}

func readHeartbeat(ctx context.Context, q store.Querier) (Heartbeat, bool, error) {
	var h Heartbeat
	err := q.QueryRow(ctx, "SELECT owner, pid, host, beat_at FROM console_heartbeat WHERE id = 1").Scan(&h.Owner, &h.PID, &h.Host, &h.At)
	if errors.Is(err, sql.ErrNoRows) {
		return h, false, nil
	}
	if err != nil {
		return h, false, fmt.Errorf("read the console heartbeat: %w", err)
	}
	return h, true, nil
}

// Alive reports whether a console has said within staleAfter that it runs
// this registry, and which one — the CLI uses it to say whether a queued
// request will be carried out now.
func Alive(ctx context.Context, db *store.DB, staleAfter time.Duration) (Heartbeat, bool, error) {
	h, ok, err := readHeartbeat(ctx, db)
	if err != nil || !ok {
		return h, false, err
	}
	return h, time.Since(h.At) < staleAfter, nil
}

// Claim makes this console the registry's owner, refusing while another
// console's heartbeat is fresh: two consoles would start every instance
// twice. Run claims the registry itself when Claim was not called first.
func (c *Console) Claim(ctx context.Context) error {
	var b [8]byte
	rand.Read(b[:])
	c.owner = hex.EncodeToString(b[:])
	host, _ := os.Hostname()
	return c.DB.InTx(ctx, func(tx *store.Tx) error {
		h, ok, err := readHeartbeat(ctx, tx)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		if ok && now.Sub(h.At) < c.staleAfter() && !(h.Host == host && processGone(h.PID)) {
			return fmt.Errorf("Another console (process %d on %s) is running on this registry; stop it first.", h.PID, h.Host)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM console_heartbeat"); err != nil {
			return fmt.Errorf("claim the registry: %w", err)
		}
		_, err = tx.Exec(ctx, "INSERT INTO console_heartbeat (id, owner, pid, host, beat_at) VALUES (1, ?, ?, ?, ?)", c.owner, os.Getpid(), host, now)
		return err
	})
}

// beat renews this console's claim.
func (c *Console) beat(ctx context.Context) error {
	res, err := c.DB.Exec(ctx, "UPDATE console_heartbeat SET beat_at = ? WHERE id = 1 AND owner = ?", time.Now().UTC(), c.owner)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errors.New("heartbeat: another console took over the registry")
	}
	return nil
}

// release gives the registry up when this console stops, so the next one
// need not wait for the heartbeat to go stale.
func (c *Console) release(ctx context.Context) {
	if _, err := c.DB.Exec(ctx, "DELETE FROM console_heartbeat WHERE owner = ?", c.owner); err != nil {
		c.logger().Error("release the registry", "err", err)
	}
}

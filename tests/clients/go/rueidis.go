// rueidis against slotgate: "standalone" (ForceSingleClient), "cluster" (rueidis sees
// slotgate's emulated one-node cluster and becomes a cluster client), both with
// DisableCache: true; "cache" = cluster with client-side caching left on (its default,
// CLIENT TRACKING ON OPTIN over RESP3) plus the "client_cache" feature, which measures
// the hit rate of DoCache reads and checks that a write from another client invalidates.
package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

type rueidisApp struct {
	s     settings
	mode  string
	c     rueidis.Client
	other rueidis.Client
}

func (r *rueidisApp) open() (rueidis.Client, error) {
	return rueidis.NewClient(rueidis.ClientOption{
		InitAddress: []string{r.s.addr()}, Password: r.s.Password,
		DisableCache:      r.mode != "cache",
		ForceSingleClient: r.mode == "standalone",
		ConnWriteTimeout:  40 * time.Second,
	})
}

func (r *rueidisApp) connect() (string, error) {
	c, err := r.open()
	if err != nil {
		return "", err
	}
	r.c = c
	if err := c.Do(ctx, c.B().Ping().Build()).Error(); err != nil {
		return "", err
	}
	nodes := c.Nodes()
	for a := range nodes {
		if a != r.s.addr() {
			return "", fmt.Errorf("client knows nodes other than slotgate: %v", nodes)
		}
	}
	return fmt.Sprintf("rueidis (%s) PING ok, nodes: %d at %s", r.mode, len(nodes), r.s.addr()), nil
}

func (r *rueidisApp) set(k, v string) (string, error) {
	return r.c.Do(ctx, r.c.B().Set().Key(k).Value(v).Build()).ToString()
}

func (r *rueidisApp) get(k string) (*string, error) {
	v, err := r.c.Do(ctx, r.c.B().Get().Key(k).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return nil, nil
	}
	return &v, err
}

func (r *rueidisApp) pipeline(ops [][]string) ([]string, error) {
	cmds := make(rueidis.Commands, 0, len(ops))
	for _, op := range ops {
		if op[0] == "set" {
			cmds = append(cmds, r.c.B().Set().Key(op[1]).Value(op[2]).Build())
		} else {
			cmds = append(cmds, r.c.B().Get().Key(op[1]).Build())
		}
	}
	var out []string
	for _, res := range r.c.DoMulti(ctx, cmds...) {
		v, err := res.ToString()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (r *rueidisApp) mget(keys []string) ([]*string, error) {
	out := make([]*string, len(keys))
	if r.mode == "standalone" {
		vals, err := r.c.Do(ctx, r.c.B().Mget().Key(keys...).Build()).ToArray()
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			if s, err := v.ToString(); err == nil {
				out[i] = &s
			}
		}
		return out, nil
	}
	// Cluster mode: rueidis refuses a cross-slot MGET in its command builder; its
	// documented helper splits it per slot.
	m, err := rueidis.MGet(r.c, ctx, keys)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		msg := m[k]
		if s, err := msg.ToString(); err == nil {
			out[i] = &s
		}
	}
	return out, nil
}

func (r *rueidisApp) mset(kv map[string]string, order []string) (string, error) {
	if r.mode == "standalone" {
		b := r.c.B().Mset().KeyValue()
		for _, k := range order {
			b = b.KeyValue(k, kv[k])
		}
		return r.c.Do(ctx, b.Build()).ToString()
	}
	for k, err := range rueidis.MSet(r.c, ctx, kv) {
		if err != nil {
			return "", fmt.Errorf("MSET %s: %w", k, err)
		}
	}
	return "OK", nil
}

func (r *rueidisApp) transaction(k1, v1, k2, v2 string) ([]string, error) {
	var out []string
	err := r.c.Dedicated(func(d rueidis.DedicatedClient) error {
		res := d.DoMulti(ctx, d.B().Multi().Build(), d.B().Set().Key(k1).Value(v1).Build(),
			d.B().Set().Key(k2).Value(v2).Build(), d.B().Get().Key(k1).Build(), d.B().Exec().Build())
		vals, err := res[len(res)-1].ToArray()
		if err != nil {
			return err
		}
		for _, v := range vals {
			s, err := v.ToString()
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		return nil
	})
	return out, err
}

func (r *rueidisApp) blockingPop(key string, timeout time.Duration) ([]string, error) {
	return r.c.Do(ctx, r.c.B().Blpop().Key(key).Timeout(timeout.Seconds()).Build()).AsStrSlice()
}

func (r *rueidisApp) push(key, value string) error {
	return r.c.Do(ctx, r.c.B().Rpush().Key(key).Element(value).Build()).Error()
}

func (r *rueidisApp) subscribe(channel string, on func(ch, msg string)) (func(), error) {
	cctx, cancel := context.WithCancel(ctx)
	subscribed := make(chan error, 1)
	go func() {
		err := r.c.Receive(cctx, r.c.B().Subscribe().Channel(channel).Build(), func(m rueidis.PubSubMessage) {
			on(m.Channel, m.Message)
		})
		subscribed <- err
	}()
	// Receive returns only on unsubscribe or error; give the subscription time to land.
	select {
	case err := <-subscribed:
		cancel()
		return nil, err
	case <-time.After(300 * time.Millisecond):
	}
	return cancel, nil
}

func (r *rueidisApp) publish(ch, msg string) (int64, error) {
	return r.c.Do(ctx, r.c.B().Publish().Channel(ch).Message(msg).Build()).AsInt64()
}

func (r *rueidisApp) pool(n int, keys []string) (string, error) {
	// rueidis runs blocking commands on dedicated pooled connections: n BLPOPs at once
	// hold n connections of that pool.
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			key := fmt.Sprintf("%s:pool:%d", keys[i%len(keys)], i)
			err := r.c.Do(ctx, r.c.B().Blpop().Key(key).Timeout(1).Build()).Error()
			if !rueidis.IsRedisNil(err) {
				errs <- fmt.Errorf("BLPOP %d: %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return "", err
	}
	return fmt.Sprintf("%d BLPOPs at once on rueidis' blocking pool", n), nil
}

func (r *rueidisApp) extras() map[string]func() (string, error) {
	return map[string]func() (string, error){"client_cache": r.clientCache}
}

// clientCache: 100 DoCache reads of each key; the first misses, the rest should hit;
// then another client writes each key and the next DoCache read must see the new value.
func (r *rueidisApp) clientCache() (string, error) {
	hits, total := 0, 0
	for _, k := range r.s.Keys {
		if _, err := r.set(k, "v1:"+k); err != nil {
			return "", err
		}
		for i := 0; i < 100; i++ {
			res := r.c.DoCache(ctx, r.c.B().Get().Key(k).Cache(), time.Minute)
			v, err := res.ToString()
			if err != nil {
				return "", err
			}
			if v != "v1:"+k {
				return "", fmt.Errorf("DoCache GET %s = %q", k, v)
			}
			total++
			if res.IsCacheHit() {
				hits++
			}
		}
	}
	other, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{r.s.addr()}, Password: r.s.Password,
		DisableCache: true})
	if err != nil {
		return "", err
	}
	defer other.Close()
	stale := 0
	for _, k := range r.s.Keys {
		if err := other.Do(ctx, other.B().Set().Key(k).Value("v2:"+k).Build()).Error(); err != nil {
			return "", err
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, k := range r.s.Keys {
		for {
			v, err := r.c.DoCache(ctx, r.c.B().Get().Key(k).Cache(), time.Minute).ToString()
			if err != nil {
				return "", err
			}
			if v == "v2:"+k {
				break
			}
			if time.Now().After(deadline) {
				stale++
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	rate := fmt.Sprintf("hit rate %d/%d (%.0f%%)", hits, total, 100*float64(hits)/float64(total))
	if stale > 0 {
		return "", fmt.Errorf("%s, but %d of %d keys still served stale 5 s after another client wrote them (no invalidation)", rate, stale, len(r.s.Keys))
	}
	if hits == 0 {
		return "", errors.New(rate + ": nothing was served from the client-side cache")
	}
	return rate + "; writes from another client invalidated every key", nil
}

func (r *rueidisApp) close() { r.c.Close() }

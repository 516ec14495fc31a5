// go-redis v9 against slotgate: Client (standalone) or ClusterClient (cluster), both
// with their defaults (RESP3 HELLO) and timeouts above slotgate's failover_hold.
package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

type goRedis struct {
	s       settings
	cluster bool
	c       redis.UniversalClient
	cc      *redis.ClusterClient
}

var ctx = context.Background()

func (g *goRedis) open(poolSize int) redis.UniversalClient {
	if g.cluster {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{g.s.addr()}, Password: g.s.Password,
			ReadTimeout: 40 * time.Second, WriteTimeout: 40 * time.Second, PoolSize: poolSize})
	}
	return redis.NewClient(&redis.Options{Addr: g.s.addr(), Password: g.s.Password,
		ReadTimeout: 40 * time.Second, WriteTimeout: 40 * time.Second, PoolSize: poolSize})
}

func (g *goRedis) connect() (string, error) {
	g.c = g.open(0)
	if err := g.c.Ping(ctx).Err(); err != nil {
		return "", err
	}
	if g.cluster {
		g.cc = g.c.(*redis.ClusterClient)
		var addrs []string
		var mu sync.Mutex
		err := g.cc.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error {
			mu.Lock()
			addrs = append(addrs, n.Options().Addr)
			mu.Unlock()
			return nil
		})
		if err != nil {
			return "", err
		}
		for _, a := range addrs {
			if a != g.s.addr() {
				return "", fmt.Errorf("cluster client knows nodes other than slotgate: %v", addrs)
			}
		}
		return fmt.Sprintf("ClusterClient PING ok, shards: %v", addrs), nil
	}
	return "Client PING ok", nil
}

func (g *goRedis) set(k, v string) (string, error) { return g.c.Set(ctx, k, v, 0).Result() }
func (g *goRedis) get(k string) (*string, error) {
	v, err := g.c.Get(ctx, k).Result()
	if err == redis.Nil {
		return nil, nil
	}
	return &v, err
}

func (g *goRedis) pipeline(ops [][]string) ([]string, error) {
	p := g.c.Pipeline()
	var cmds []redis.Cmder
	for _, op := range ops {
		if op[0] == "set" {
			cmds = append(cmds, p.Set(ctx, op[1], op[2], 0))
		} else {
			cmds = append(cmds, p.Get(ctx, op[1]))
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, err
	}
	var out []string
	for _, c := range cmds {
		switch c := c.(type) {
		case *redis.StatusCmd:
			out = append(out, c.Val())
		case *redis.StringCmd:
			out = append(out, c.Val())
		}
	}
	return out, nil
}

func (g *goRedis) mget(keys []string) ([]*string, error) {
	vals, err := g.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	out := make([]*string, len(vals))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = &s
		}
	}
	return out, nil
}

func (g *goRedis) mset(kv map[string]string, order []string) (string, error) {
	var args []any
	for _, k := range order {
		args = append(args, k, kv[k])
	}
	return g.c.MSet(ctx, args...).Result()
}

func (g *goRedis) transaction(k1, v1, k2, v2 string) ([]string, error) {
	var a, b *redis.StatusCmd
	var c *redis.StringCmd
	_, err := g.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		a = p.Set(ctx, k1, v1, 0)
		b = p.Set(ctx, k2, v2, 0)
		c = p.Get(ctx, k1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return []string{a.Val(), b.Val(), c.Val()}, nil
}

func (g *goRedis) blockingPop(key string, timeout time.Duration) ([]string, error) {
	// The client's pool hands BLPOP a connection of its own.
	return g.c.BLPop(ctx, timeout, key).Result()
}

func (g *goRedis) push(key, value string) error { return g.c.RPush(ctx, key, value).Err() }

func (g *goRedis) subscribe(channel string, on func(ch, msg string)) (func(), error) {
	ps := g.c.Subscribe(ctx, channel)
	if _, err := ps.Receive(ctx); err != nil {
		return nil, err
	}
	go func() {
		for m := range ps.Channel() {
			on(m.Channel, m.Payload)
		}
	}()
	return func() { ps.Close() }, nil
}

func (g *goRedis) publish(ch, msg string) (int64, error) { return g.c.Publish(ctx, ch, msg).Result() }

func (g *goRedis) pool(n int, keys []string) (string, error) {
	c := g.open(n)
	defer c.Close()
	// Every goroutine holds a connection in BLPOP for a second, so all n are open at once.
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			key := fmt.Sprintf("%s:pool:%d", keys[i%len(keys)], i)
			if err := c.BLPop(ctx, time.Second, key).Err(); err != redis.Nil {
				errs <- fmt.Errorf("BLPOP %d: %v", i, err)
				return
			}
			if err := c.Set(ctx, key, key, 0).Err(); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return "", err
	}
	var total uint32
	if cc, ok := c.(*redis.ClusterClient); ok {
		total = cc.PoolStats().TotalConns
	} else {
		total = c.(*redis.Client).PoolStats().TotalConns
	}
	if total < uint32(n) {
		return "", fmt.Errorf("pool holds %d connections, expected %d", total, n)
	}
	return fmt.Sprintf("%d BLPOPs at once on a pool of %d connections", n, total), nil
}

func (g *goRedis) extras() map[string]func() (string, error) { return nil }
func (g *goRedis) close()                                     { g.c.Close() }

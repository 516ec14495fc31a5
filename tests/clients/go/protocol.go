// The feature run every Go client program performs against slotgate, and the JSON
// line protocol that reports it to tests/clients/test_clients.py (the Go twin of
// python/protocol.py and java/common/.../Protocol.java: same features, same checks,
// same output). Settings: SG_HOST, SG_PORT, SG_PASSWORD, SG_KEYS (JSON list),
// SG_TAG, SG_NAME, SG_FEATURES (comma-separated, in order).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"
)

type settings struct {
	Host, Password, Tag, Name string
	Port                      int
	Keys, Features            []string
}

func env(k, d string) string {
	if v, ok := os.LookupEnv(k); ok {
		return v
	}
	return d
}

func loadSettings() settings {
	s := settings{Host: env("SG_HOST", "127.0.0.1"), Password: env("SG_PASSWORD", ""), Tag: env("SG_TAG", "tx"),
		Name: env("SG_NAME", fmt.Sprintf("client-%d", os.Getpid()))}
	fmt.Sscan(env("SG_PORT", "6379"), &s.Port)
	if err := json.Unmarshal([]byte(env("SG_KEYS", "[]")), &s.Keys); err != nil || len(s.Keys) < 3 {
		fmt.Fprintln(os.Stderr, "SG_KEYS must list at least 3 keys")
		os.Exit(2)
	}
	s.Features = strings.Split(env("SG_FEATURES", "connect,set_get,pipeline,mget,mset,transaction,blocking_pop,pubsub,failover"), ",")
	return s
}

func (s settings) addr() string { return fmt.Sprintf("%s:%d", s.Host, s.Port) }

// adapter: the library-specific calls. Missing values are returned as nil pointers.
type adapter interface {
	connect() (string, error)
	set(k, v string) (string, error)
	get(k string) (*string, error)
	pipeline(ops [][]string) ([]string, error) // {"set",k,v} / {"get",k} -> "OK" / value
	mget(keys []string) ([]*string, error)
	mset(kv map[string]string, order []string) (string, error)
	transaction(k1, v1, k2, v2 string) ([]string, error) // ["OK","OK",v1]
	blockingPop(key string, timeout time.Duration) ([]string, error)
	push(key, value string) error
	subscribe(channel string, onMessage func(ch, msg string)) (func(), error)
	publish(channel, msg string) (int64, error)
	pool(n int, keys []string) (string, error)
	extras() map[string]func() (string, error)
	close()
}

var outMu sync.Mutex

func emit(obj any) {
	b, _ := json.Marshal(obj)
	outMu.Lock()
	os.Stdout.Write(append(b, '\n'))
	outMu.Unlock()
}

func report(feature string, ok bool, detail string) {
	if len(detail) > 500 {
		detail = detail[:500]
	}
	emit(map[string]any{"feature": feature, "ok": ok, "detail": detail})
}

func withTimeout(fn func() (string, error), d time.Duration, what string) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- res{"", fmt.Errorf("panic: %v", r)}
			}
		}()
		s, err := fn()
		ch <- res{s, err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-time.After(d):
		return "", fmt.Errorf("%s: no answer within %v", what, d)
	}
}

func deref(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func setGetEveryKey(a adapter, s settings, suffix string) error {
	for _, key := range s.Keys {
		value := s.Name + ":" + suffix + ":" + key
		ok, err := a.set(key, value)
		if err != nil {
			return err
		}
		if ok != "OK" {
			return fmt.Errorf("SET %s replied %q", key, ok)
		}
		got, err := a.get(key)
		if err != nil {
			return err
		}
		if got == nil || *got != value {
			return fmt.Errorf("GET %s replied %v, expected %q", key, deref(got), value)
		}
	}
	return nil
}

var stdin = bufio.NewReader(os.Stdin)

func fault(a adapter, s settings, kind string) (string, error) {
	emit(map[string]any{"event": "fault_ready", "fault": kind})
	stop := make(chan struct{})
	var goLine string
	go func() {
		line, _ := stdin.ReadString('\n')
		goLine = strings.TrimSpace(line)
		time.Sleep(time.Second)
		close(stop)
	}()
	var errs []string
	rounds := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := setGetEveryKey(a, s, fmt.Sprintf("fo%d", rounds)); err != nil {
				errs = append(errs, err.Error())
				time.Sleep(50 * time.Millisecond)
			}
			rounds++
		}
	}()
	<-stop
	if goLine != "go" {
		return "", fmt.Errorf("test aborted the %s (%q)", kind, goLine)
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		return "", fmt.Errorf("a command hung after the %s", kind)
	}
	if err := setGetEveryKey(a, s, "after"); err != nil {
		return "", err
	}
	got, err := a.mget(s.Keys)
	if err != nil {
		return "", err
	}
	for i, k := range s.Keys {
		if got[i] == nil || *got[i] != s.Name+":after:"+k {
			return "", fmt.Errorf("MGET after the %s replied %v for %s", kind, deref(got[i]), k)
		}
	}
	// kill -9: the one command in flight to the killed master when it died cannot be
	// answered (slotgate says "outcome unknown"); everything sent later is held and
	// answered after the promotion.
	inFlight := 0
	for _, e := range errs {
		if kind == "kill9" && strings.Contains(e, "outcome unknown") {
			inFlight++
		}
	}
	if len(errs) > inFlight || inFlight > 1 {
		return "", fmt.Errorf("%d errors during the %s, first: %s", len(errs), kind, errs[0])
	}
	how := " without an error"
	if inFlight > 0 {
		how = ", only the command in flight at the kill failed (outcome unknown)"
	}
	return fmt.Sprintf("%d SET/GET rounds during the %s%s; works after it", rounds, kind, how), nil
}

func runSuite(newAdapter func(settings) adapter) {
	s := loadSettings()
	a := newAdapter(s)
	connected := false
	features := map[string]func() (string, error){
		"connect": func() (string, error) {
			d, err := a.connect()
			connected = err == nil
			return d, err
		},
		"set_get": func() (string, error) {
			return fmt.Sprintf("%d keys, one per master or more", len(s.Keys)), setGetEveryKey(a, s, "sg")
		},
		"pipeline": func() (string, error) {
			var ops [][]string
			var want []string
			for _, k := range s.Keys {
				ops = append(ops, []string{"set", k, s.Name + ":p:" + k}, []string{"get", k})
				want = append(want, "OK", s.Name+":p:"+k)
			}
			got, err := a.pipeline(ops)
			if err != nil {
				return "", err
			}
			if !reflect.DeepEqual(got, want) {
				return "", fmt.Errorf("pipeline replied %q", got)
			}
			return fmt.Sprintf("%d commands in one pipeline", len(ops)), nil
		},
		"mget": func() (string, error) {
			var keys []string
			for _, k := range s.Keys {
				if _, err := a.set(k, s.Name+":m:"+k); err != nil {
					return "", err
				}
				keys = append(keys, k)
			}
			keys = append(keys, s.Name+":missing")
			got, err := a.mget(keys)
			if err != nil {
				return "", err
			}
			for i, k := range s.Keys {
				if got[i] == nil || *got[i] != s.Name+":m:"+k {
					return "", fmt.Errorf("MGET replied %v for %s", deref(got[i]), k)
				}
			}
			if got[len(s.Keys)] != nil {
				return "", fmt.Errorf("MGET of a missing key replied %q", *got[len(s.Keys)])
			}
			return fmt.Sprintf("MGET of %d keys across masters, order kept", len(keys)), nil
		},
		"mset": func() (string, error) {
			kv := map[string]string{}
			for _, k := range s.Keys {
				kv[k] = s.Name + ":ms:" + k
			}
			ok, err := a.mset(kv, s.Keys)
			if err != nil {
				return "", err
			}
			if ok != "OK" {
				return "", fmt.Errorf("MSET replied %q", ok)
			}
			for _, k := range s.Keys {
				got, err := a.get(k)
				if err != nil {
					return "", err
				}
				if got == nil || *got != kv[k] {
					return "", fmt.Errorf("GET %s after MSET replied %v", k, deref(got))
				}
			}
			return fmt.Sprintf("MSET of %d keys across masters", len(kv)), nil
		},
		"transaction": func() (string, error) {
			k1, k2 := "{"+s.Tag+"}a", "{"+s.Tag+"}b"
			got, err := a.transaction(k1, "one", k2, "two")
			if err != nil {
				return "", err
			}
			if !reflect.DeepEqual(got, []string{"OK", "OK", "one"}) {
				return "", fmt.Errorf("MULTI/EXEC replied %q", got)
			}
			after, err := a.get(k2)
			if err != nil {
				return "", err
			}
			if after == nil || *after != "two" {
				return "", fmt.Errorf("GET after EXEC replied %v", deref(after))
			}
			return "MULTI SET SET GET EXEC on one slot", nil
		},
		"blocking_pop": func() (string, error) {
			key, value := s.Keys[0]+":list", s.Name+":bp"
			type res struct {
				v   []string
				err error
			}
			ch := make(chan res, 1)
			go func() {
				v, err := a.blockingPop(key, 10*time.Second)
				ch <- res{v, err}
			}()
			time.Sleep(500 * time.Millisecond)
			if err := a.push(key, value); err != nil {
				return "", err
			}
			select {
			case r := <-ch:
				if r.err != nil {
					return "", r.err
				}
				if !reflect.DeepEqual(r.v, []string{key, value}) {
					return "", fmt.Errorf("BLPOP on another connection returned %q", r.v)
				}
			case <-time.After(15 * time.Second):
				return "", errors.New("BLPOP did not return after RPUSH")
			}
			return "BLPOP on a second connection woken by RPUSH", nil
		},
		"pubsub": func() (string, error) {
			ch, msg := s.Name+":ch", s.Name+":hello"
			got := make(chan struct{}, 1)
			unsub, err := a.subscribe(ch, func(c, m string) {
				if c == ch && m == msg {
					select {
					case got <- struct{}{}:
					default:
					}
				}
			})
			if err != nil {
				return "", err
			}
			defer unsub()
			var receivers int64
			for i := 0; i < 50; i++ {
				receivers, err = a.publish(ch, msg)
				if err != nil {
					return "", err
				}
				select {
				case <-got:
					return "SUBSCRIBE on one connection received a PUBLISH from another", nil
				case <-time.After(200 * time.Millisecond):
				}
			}
			return "", fmt.Errorf("no message received (PUBLISH reported %d receivers)", receivers)
		},
		"pool200":  func() (string, error) { return a.pool(200, s.Keys) },
		"failover": func() (string, error) { return fault(a, s, "failover") },
		"kill9":    func() (string, error) { return fault(a, s, "kill9") },
	}
	for _, name := range s.Features {
		fn, ok := features[name]
		if !ok {
			fn, ok = a.extras()[name]
		}
		if !ok {
			report(name, false, "unknown feature")
			continue
		}
		if name != "connect" && !connected {
			report(name, false, "not connected")
			continue
		}
		limit := 30 * time.Second
		if name == "failover" || name == "kill9" {
			limit = 150 * time.Second
		}
		d, err := withTimeout(fn, limit, name)
		if err != nil {
			report(name, false, fmt.Sprintf("%T: %v", err, err))
		} else {
			report(name, true, d)
		}
	}
	withTimeout(func() (string, error) { a.close(); return "", nil }, 5*time.Second, "close")
	emit(map[string]any{"event": "done"})
	os.Exit(0)
}

// The feature run every Node.js client program performs against slotgate, and the
// line protocol that reports it to tests/clients/test_clients.py.
//
// A program supplies an adapter (the library-specific calls: connect, set, get,
// pipeline, mget, transaction, blockingPop, subscribe, publish, close); this file
// owns what is checked and how it is reported, so every library is held to the
// same assertions. Settings come from the environment:
//   SG_HOST, SG_PORT, SG_PASSWORD   slotgate address and client password
//   SG_KEYS                         JSON list of keys, at least one per cluster master
//   SG_TAG                          a hash tag; "{tag}a" and "{tag}b" share one slot
//   SG_NAME                         unique prefix for channel names and values
// Output, one JSON object per line on stdout:
//   {"feature": "<name>", "ok": true|false, "detail": "..."}
//   {"event": "failover_ready"}  then the program waits for one line on stdin
//                                ("go": the test has finished CLUSTER FAILOVER)
//   {"event": "done"}

import readline from 'node:readline';

export const FEATURES =
    ['connect', 'set_get', 'pipeline', 'mget', 'transaction', 'blocking_pop', 'pubsub', 'failover'];

const FEATURE_TIMEOUT_MS = 20000;
// Why this long: slotgate holds a request while its slot has no reachable master
// (failover_hold, 20 s by default); one command may legitimately wait that long.
const OP_TIMEOUT_MS = 25000;
// The test needs up to a minute to fail over and see the cluster healthy again.
const FAILOVER_TIMEOUT_MS = 150000;

export function settings() {
  const keys = JSON.parse(process.env.SG_KEYS || '[]');
  if (keys.length < 3) throw new Error('SG_KEYS must list at least one key per master (>= 3)');
  return {
    host: process.env.SG_HOST || '127.0.0.1',
    port: Number(process.env.SG_PORT || 6379),
    password: process.env.SG_PASSWORD || undefined,
    keys,
    tag: process.env.SG_TAG || 'tx',
    name: process.env.SG_NAME || `client-${process.pid}`,
  };
}

function emit(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }

export function report(feature, ok, detail = '') {
  emit({feature, ok, detail: String(detail).slice(0, 500)});
}

function describe(err) {
  if (err === undefined || err === null) return String(err);
  return err.message ? `${err.name || 'Error'}: ${err.message}` : String(err);
}

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

function check(cond, message) {
  if (!cond) throw new Error(message);
}

// Values come back as strings from every library here; Buffers are decoded.
function text(v) { return Buffer.isBuffer(v) ? v.toString() : v; }

function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

let stdinLines;
function nextStdinLine() {
  if (!stdinLines) {
    const rl = readline.createInterface({input: process.stdin});
    const queue = [];
    const waiters = [];
    rl.on('line', (line) => (waiters.length ? waiters.shift()(line) : queue.push(line)));
    rl.on('close', () => waiters.splice(0).forEach((w) => w(null)));
    stdinLines = () =>
        (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r)));
  }
  return stdinLines();
}

async function feature(name, fn, state, ms = FEATURE_TIMEOUT_MS) {
  if (!state.connected && name !== 'connect') {
    report(name, false, 'not connected');
    return false;
  }
  try {
    const detail = await withTimeout(fn(), ms, name);
    report(name, true, detail || '');
    return true;
  } catch (err) {
    report(name, false, describe(err));
    return false;
  }
}

async function setGetEveryKey(a, s, suffix) {
  for (const key of s.keys) {
    const value = `${s.name}:${suffix}:${key}`;
    const ok = await withTimeout(a.set(key, value), OP_TIMEOUT_MS, `SET ${key}`);
    check(text(ok) === 'OK', `SET ${key} replied ${JSON.stringify(ok)}`);
    const got = text(await withTimeout(a.get(key), OP_TIMEOUT_MS, `GET ${key}`));
    check(
        got === value,
        `GET ${key} replied ${JSON.stringify(got)}, expected ${JSON.stringify(value)}`);
  }
}

// Keeps SET/GET going on every master's keys until `stop` resolves; counts errors.
async function trafficUntil(a, s, stop) {
  let stopped = false;
  stop.then(() => (stopped = true));
  const stats = {rounds: 0, errors: []};
  while (!stopped) {
    try {
      await setGetEveryKey(a, s, `fo${stats.rounds}`);
    } catch (err) {
      stats.errors.push(describe(err));
      await sleep(50);
    }
    stats.rounds += 1;
  }
  return stats;
}

export async function runSuite(makeAdapter) {
  const s = settings();
  const state = {connected: false};
  let a;

  await feature('connect', async () => {
    a = makeAdapter(s);
    const detail = await a.connect();
    state.connected = true;
    return detail;
  }, state);

  await feature('set_get', async () => {
    await setGetEveryKey(a, s, 'sg');
    return `${s.keys.length} keys, one per master or more`;
  }, state);

  await feature('pipeline', async () => {
    const ops = [];
    for (const key of s.keys) ops.push(['set', key, `${s.name}:p:${key}`], ['get', key]);
    const replies = (await a.pipeline(ops)).map(text);
    const expected = s.keys.flatMap((key) => ['OK', `${s.name}:p:${key}`]);
    check(same(replies, expected), `pipeline replied ${JSON.stringify(replies)}`);
    return `${ops.length} commands in one pipeline`;
  }, state);

  await feature('mget', async () => {
    const values = s.keys.map((k) => `${s.name}:m:${k}`);
    for (let i = 0; i < s.keys.length; i++) await a.set(s.keys[i], values[i]);
    const got = (await a.mget([...s.keys, `${s.name}:missing`])).map(text);
    check(same(got, [...values, null]), `MGET replied ${JSON.stringify(got)}`);
    return `MGET of ${s.keys.length + 1} keys across masters, order kept`;
  }, state);

  await feature('transaction', async () => {
    const k1 = `{${s.tag}}a`;
    const k2 = `{${s.tag}}b`;
    const got = (await a.transaction(k1, 'one', k2, 'two')).map(text);
    check(same(got, ['OK', 'OK', 'one']), `MULTI/EXEC replied ${JSON.stringify(got)}`);
    const after = text(await a.get(k2));
    check(after === 'two', `GET after EXEC replied ${JSON.stringify(after)}`);
    return 'MULTI SET SET GET EXEC on one slot';
  }, state);

  await feature('blocking_pop', async () => {
    const key = `${s.keys[0]}:list`;
    const value = `${s.name}:bp`;
    const popped = a.blockingPop(key, 10);
    // Why wait: the push must arrive while BLPOP is blocked on the other connection,
    // not before it was sent.
    await sleep(500);
    await a.push(key, value);
    const got = await popped;
    check(
        got && text(got[0]) === key && text(got[1]) === value,
        `BLPOP on another connection returned ${JSON.stringify(got)}`);
    return 'BLPOP on a second connection woken by RPUSH';
  }, state);

  await feature('pubsub', async () => {
    const channel = `${s.name}:ch`;
    const message = `${s.name}:hello`;
    let resolveMessage;
    const received = new Promise((r) => (resolveMessage = r));
    const unsubscribe = await a.subscribe(channel, (ch, msg) => {
      if (text(ch) === channel && text(msg) === message) resolveMessage();
    });
    try {
      let delivered = false;
      received.then(() => (delivered = true));
      let receivers = 0;
      for (let i = 0; i < 50 && !delivered; i++) {
        receivers = Number(await a.publish(channel, message));
        await Promise.race([received, sleep(200)]);
      }
      check(delivered, `no message received (PUBLISH reported ${receivers} receivers)`);
    } finally {
      await unsubscribe().catch(() => {});
    }
    return 'SUBSCRIBE on one connection received a PUBLISH from another';
  }, state);

  // Failover: traffic runs while the test performs CLUSTER FAILOVER on a replica; the
  // feature passes when no command failed during it and everything works after it.
  if (state.connected) {
    emit({event: 'failover_ready'});
    const go = nextStdinLine();
    const traffic = trafficUntil(a, s, go.then(() => sleep(1000)));
    await feature('failover', async () => {
      const line = await go;
      check(line === 'go', `test aborted the failover (${JSON.stringify(line)})`);
      const stats = await traffic;
      await setGetEveryKey(a, s, 'after');
      const got = (await a.mget(s.keys)).map(text);
      check(
          same(got, s.keys.map((k) => `${s.name}:after:${k}`)),
          `MGET after failover replied ${JSON.stringify(got)}`);
      check(
          stats.errors.length === 0,
          `${stats.errors.length} errors during the failover, first: ${stats.errors[0]}`);
      return `${stats.rounds} SET/GET rounds during the failover without an error; works after it`;
    }, {connected: true}, FAILOVER_TIMEOUT_MS);
  } else {
    report('failover', false, 'not connected');
  }

  if (a) await withTimeout(a.close(), 5000, 'close').catch(() => {});
  emit({event: 'done'});
  // Why exit explicitly: a client stuck in a failed feature may keep sockets open.
  process.exit(0);
}

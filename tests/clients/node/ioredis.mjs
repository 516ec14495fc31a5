// ioredis (5 = RESP2, 6 = RESP3 by default) against slotgate, with its default
// settings apart from the address and password.
//   node ioredis.mjs ioredis5|ioredis6 standalone|cluster   (SG_TLS_CA=ca.crt: over TLS)
// standalone = `new Redis(...)`; cluster = `new Cluster([seed])`, which reads
// CLUSTER SLOTS from slotgate and must then keep every connection on slotgate.
// The checks and the output protocol live in protocol.mjs.

import {readFileSync} from 'node:fs';

import {runSuite} from './protocol.mjs';

const [pkg, mode] = process.argv.slice(2);
if (!['ioredis5', 'ioredis6'].includes(pkg) || !['standalone', 'cluster'].includes(mode)) {
  console.error('usage: node ioredis.mjs ioredis5|ioredis6 standalone|cluster');
  process.exit(2);
}
const {Redis, Cluster} = await import(pkg);

function ready(client) {
  return new Promise((resolve, reject) => {
    client.once('ready', resolve);
    client.once('error', reject);
  });
}

// Errors are reported through the failing command; an unhandled 'error' event would
// end the process instead.
function quiet(client) {
  client.on('error', () => {});
  return client;
}

// SG_TLS_CA set: TLS to slotgate's tls_listen, verifying it with that CA (`tls: {ca}`); a
// Cluster follows the TLS ports slotgate announces to a TLS session.
const tls = process.env.SG_TLS_CA ? {tls: {ca: readFileSync(process.env.SG_TLS_CA)}} : {};

function open(s) {
  if (mode === 'cluster') {
    return new Cluster([{host: s.host, port: s.port}],
                       {redisOptions: {password: s.password, ...tls}});
  }
  return new Redis({host: s.host, port: s.port, password: s.password, ...tls});
}

function unwrapPipeline(results) {
  if (!results) throw new Error('EXEC aborted (nil)');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

function adapter(s) {
  let main;
  const extra = [];

  async function second() {
    const c = main.duplicate();
    extra.push(c);
    await ready(c);
    quiet(c);
    return c;
  }

  return {
    async connect() {
      main = open(s);
      await ready(main);
      quiet(main);
      const pong = mode === 'cluster' ? await main.get(s.keys[0]) : await main.ping();
      const nodes = mode === 'cluster' ?
          main.nodes('all').map((n) => `${n.options.host}:${n.options.port}`) :
          [];
      if (mode === 'cluster' && !nodes.every((n) => n === `${s.host}:${s.port}`)) {
        throw new Error(`cluster client knows nodes other than slotgate: ${nodes.join(' ')}`);
      }
      return mode === 'cluster' ? `Cluster ready, nodes: ${nodes.join(' ')}` :
                                  `ready, PING -> ${pong}`;
    },
    set: (k, v) => main.set(k, v),
    get: (k) => main.get(k),
    async pipeline(ops) {
      const p = main.pipeline();
      for (const [cmd, ...args] of ops) p[cmd](...args);
      return unwrapPipeline(await p.exec());
    },
    mget: (keys) => main.mget(...keys),
    async transaction(
        k1, v1, k2,
        v2) { return unwrapPipeline(await main.multi().set(k1, v1).set(k2, v2).get(k1).exec()); },
    async blockingPop(key, timeoutSeconds) {
      const other = await second();
      return other.blpop(key, timeoutSeconds);
    },
    push: (key, value) => main.rpush(key, value),
    async subscribe(channel, onMessage) {
      const sub = await second();
      sub.on('message', onMessage);
      await sub.subscribe(channel);
      return async () => {
        await sub.unsubscribe(channel);
      };
    },
    publish: (channel, message) => main.publish(channel, message),
    async close() {
      for (const c of [...extra, main]) c.disconnect();
    },
  };
}

await runSuite(adapter);

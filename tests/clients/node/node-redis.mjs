// node-redis (4 = RESP2 only, 6 = RESP3 by default, no fallback) against slotgate,
// with its default settings apart from the address and password.
//   node node-redis.mjs redis4|redis6 standalone|cluster
// standalone = `createClient`; cluster = `createCluster({rootNodes: [slotgate]})`,
// which reads CLUSTER SLOTS and must then keep every connection on slotgate.
// The checks and the output protocol live in protocol.mjs.

import {runSuite} from './protocol.mjs';

const [pkg, mode] = process.argv.slice(2);
if (!['redis4', 'redis6'].includes(pkg) || !['standalone', 'cluster'].includes(mode)) {
  console.error('usage: node node-redis.mjs redis4|redis6 standalone|cluster');
  process.exit(2);
}
const {createClient, createCluster} = await import(pkg);

// node-redis emits 'error' for connection problems; without a listener the process
// dies. Remember the last one so a failed connect says why.
function watch(client, errors) {
  client.on('error', (err) => errors.push(err));
  return client;
}

function open(s, errors) {
  if (mode === 'cluster') {
    return watch(
        createCluster({
          rootNodes: [{socket: {host: s.host, port: s.port}}],
          defaults: {password: s.password},
        }),
        errors);
  }
  return watch(createClient({socket: {host: s.host, port: s.port}, password: s.password}), errors);
}

// BLPOP's reply is {key, element} in both versions.
function pair(reply) { return reply ? [reply.key, reply.element] : reply; }

function adapter(s) {
  const errors = [];
  let main;
  const extra = [];

  async function second() {
    const c = watch(main.duplicate(), errors);
    extra.push(c);
    await c.connect();
    return c;
  }

  return {
    async connect() {
      main = open(s, errors);
      try {
        await main.connect();
      } catch (err) {
        throw new Error(`${err.message}${
            errors.length ? ` (last error event: ${errors.at(-1).message})` : ''}`);
      }
      if (mode === 'cluster') {
        const nodes = main.masters.concat(main.replicas).map((n) => `${n.host}:${n.port}`);
        if (!nodes.every((n) => n === `${s.host}:${s.port}`)) {
          throw new Error(`cluster client knows nodes other than slotgate: ${nodes.join(' ')}`);
        }
        await main.get(s.keys[0]);
        return `cluster connected, nodes: ${nodes.join(' ')}`;
      }
      return `connected, PING -> ${await main.ping()}`;
    },
    set: (k, v) => main.set(k, v),
    get: (k) => main.get(k),
    async pipeline(ops) {
      const m = mode === 'cluster' ? main.multi(ops[0][1]) : main.multi();
      for (const [cmd, ...args] of ops) m[cmd](...args);
      return m.execAsPipeline();
    },
    mget: (keys) => main.mGet(keys),
    async transaction(k1, v1, k2, v2) {
      const m = mode === 'cluster' ? main.multi(k1) : main.multi();
      return m.set(k1, v1).set(k2, v2).get(k1).exec();
    },
    async blockingPop(key, timeoutSeconds) {
      const other = await second();
      return pair(await other.blPop(key, timeoutSeconds));
    },
    push: (key, value) => main.rPush(key, value),
    async subscribe(channel, onMessage) {
      const sub = mode === 'cluster' ? main : await second();
      const listener = (message, ch) => onMessage(ch, message);
      await sub.subscribe(channel, listener);
      return async () => {
        await sub.unsubscribe(channel, listener);
      };
    },
    publish: (channel, message) => main.publish(channel, message),
    async close() {
      for (const c of [...extra, main]) {
        try {
          await (c.destroy ? c.destroy() : c.disconnect());
        } catch {
          // already closed
        }
      }
    },
  };
}

await runSuite(adapter);

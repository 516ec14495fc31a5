package slotgate.clients;

import java.util.*;
import java.util.concurrent.*;
import java.util.function.BiConsumer;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.*;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * Jedis (5.x / 8.x, the same source built against both) against slotgate.
 *
 *   java -jar jedis5.jar standalone|cluster
 *
 * standalone = JedisPooled (Jedis 5) / RedisClient (Jedis 8, which replaced JedisPooled);
 * cluster = JedisCluster seeded with slotgate only: its CLUSTER SLOTS view must name
 * slotgate alone. Socket timeout 40 s, above slotgate's failover_hold.
 */
public final class JedisApp implements Protocol.Adapter {
    final Protocol.Settings s;
    final boolean cluster;
    UnifiedJedis jedis;

    JedisApp(Protocol.Settings s, boolean cluster) {
        this.s = s;
        this.cluster = cluster;
    }

    JedisClientConfig config() {
        return DefaultJedisClientConfig.builder().password(s.password).socketTimeoutMillis(40000)
                .connectionTimeoutMillis(5000).build();
    }

    UnifiedJedis open(int maxTotal) throws Exception {
        GenericObjectPoolConfig<Connection> pool = new GenericObjectPoolConfig<>();
        pool.setMaxTotal(maxTotal);
        pool.setMaxIdle(maxTotal);
        HostAndPort hp = new HostAndPort(s.host, s.port);
        if (cluster) return new JedisCluster(hp, config(), 5, pool);
        try {
            Class<?> pooled = Class.forName("redis.clients.jedis.JedisPooled"); // Jedis <= 7
            return (UnifiedJedis) pooled.getConstructor(GenericObjectPoolConfig.class, HostAndPort.class,
                    JedisClientConfig.class).newInstance(pool, hp, config());
        } catch (ClassNotFoundException e) {
            // Jedis 8: RedisClient.builder().hostAndPort(..).clientConfig(..).poolConfig(..).build()
            Object b = Class.forName("redis.clients.jedis.RedisClient").getMethod("builder").invoke(null);
            b.getClass().getMethod("hostAndPort", HostAndPort.class).invoke(b, hp);
            b.getClass().getMethod("clientConfig", JedisClientConfig.class).invoke(b, config());
            b.getClass().getMethod("poolConfig", GenericObjectPoolConfig.class).invoke(b, pool);
            return (UnifiedJedis) b.getClass().getMethod("build").invoke(b);
        }
    }

    @Override
    public String connect() throws Exception {
        jedis = open(16);
        String pong = jedis.ping();
        if (cluster) {
            Set<String> nodes = ((JedisCluster) jedis).getClusterNodes().keySet();
            Protocol.check(nodes.equals(Set.of(s.host + ":" + s.port)), "JedisCluster knows nodes other than slotgate: " + nodes);
            return "JedisCluster " + pong + ", nodes: " + nodes;
        }
        return jedis.getClass().getSimpleName() + " PING -> " + pong;
    }

    @Override
    public String set(String k, String v) {
        return jedis.set(k, v);
    }

    @Override
    public String get(String k) {
        return jedis.get(k);
    }

    @Override
    public List<String> pipeline(List<String[]> ops) {
        var p = jedis.pipelined();
        List<Response<String>> rs = new ArrayList<>();
        for (String[] op : ops) rs.add(op[0].equals("set") ? p.set(op[1], op[2]) : p.get(op[1]));
        p.sync();
        List<String> out = new ArrayList<>();
        for (Response<String> r : rs) out.add(r.get());
        p.close();
        return out;
    }

    @Override
    public List<String> mget(List<String> keys) {
        return jedis.mget(keys.toArray(new String[0]));
    }

    @Override
    public String mset(Map<String, String> kv) {
        List<String> args = new ArrayList<>();
        kv.forEach((k, v) -> {
            args.add(k);
            args.add(v);
        });
        return jedis.mset(args.toArray(new String[0]));
    }

    @Override
    public List<String> transaction(String k1, String v1, String k2, String v2) {
        List<Object> res;
        if (cluster) {
            // JedisCluster: a transaction runs on the connection of the key's slot.
            try (Connection c = ((JedisCluster) jedis).getConnectionFromSlot(JedisClusterCRC16.getSlot(k1))) {
                Transaction t = new Transaction(c);
                t.set(k1, v1);
                t.set(k2, v2);
                t.get(k1);
                res = t.exec();
            }
        } else {
            var t = jedis.multi();
            t.set(k1, v1);
            t.set(k2, v2);
            t.get(k1);
            res = t.exec();
        }
        List<String> out = new ArrayList<>();
        for (Object o : res) out.add(o == null ? null : o.toString());
        return out;
    }

    @Override
    public List<String> blockingPop(String key, int timeoutSeconds) {
        return jedis.blpop(timeoutSeconds, key); // a pooled connection of its own
    }

    @Override
    public void push(String key, String value) {
        jedis.rpush(key, value);
    }

    @Override
    public Runnable subscribe(String channel, BiConsumer<String, String> onMessage) throws Exception {
        CountDownLatch subscribed = new CountDownLatch(1);
        JedisPubSub ps = new JedisPubSub() {
            @Override
            public void onMessage(String ch, String msg) {
                onMessage.accept(ch, msg);
            }

            @Override
            public void onSubscribe(String ch, int n) {
                subscribed.countDown();
            }
        };
        Thread t = new Thread(() -> jedis.subscribe(ps, channel));
        t.setDaemon(true);
        t.start();
        Protocol.check(subscribed.await(10, TimeUnit.SECONDS), "SUBSCRIBE not confirmed");
        return ps::unsubscribe;
    }

    @Override
    public long publish(String channel, String message) {
        return jedis.publish(channel, message);
    }

    @Override
    public String pool(int n, List<String> keys) throws Exception {
        try (UnifiedJedis p = open(n)) {
            ExecutorService ex = Executors.newFixedThreadPool(n);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    String key = keys.get(i % keys.size()) + ":pool:" + i;
                    fs.add(ex.submit(() -> {
                        // Each BLPOP holds its pooled connection for a second: n at once.
                        Protocol.check(p.blpop(1, key) == null, "BLPOP " + key + " returned a value");
                        p.set(key, key);
                        return null;
                    }));
                }
                for (Future<?> f : fs) f.get(90, TimeUnit.SECONDS);
            } finally {
                ex.shutdownNow();
            }
            return n + " BLPOPs at once through one pool of " + n + " connections";
        }
    }

    @Override
    public void close() {
        jedis.close();
    }

    public static void main(String[] args) {
        boolean cluster = args.length > 0 && args[0].equals("cluster");
        Protocol.run(s -> new JedisApp(s, cluster));
    }
}

package slotgate.clients;

import io.lettuce.core.*;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.support.ConnectionPoolSupport;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.*;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.apache.commons.pool2.impl.GenericObjectPool;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;

/**
 * Lettuce (6.x / 7.x, the same source built against both) against slotgate.
 *
 *   java -jar lettuce6.jar standalone|cluster
 *
 * standalone = RedisClient (RESP3 HELLO by default); cluster = RedisClusterClient with
 * periodic (1 s) and all adaptive topology refresh triggers: every connection it opens
 * and every node of its partitions must be slotgate's address ("topology" feature).
 */
public final class LettuceApp implements Protocol.Adapter {
    final Protocol.Settings s;
    final boolean cluster;
    RedisClient client;
    RedisClusterClient clusterClient;
    StatefulRedisConnection<String, String> conn;
    StatefulRedisClusterConnection<String, String> cconn;
    final List<AutoCloseable> extra = new ArrayList<>();

    LettuceApp(Protocol.Settings s, boolean cluster) {
        this.s = s;
        this.cluster = cluster;
    }

    RedisURI uri() {
        RedisURI.Builder b = RedisURI.builder().withHost(s.host).withPort(s.port).withTimeout(Duration.ofSeconds(40));
        if (s.password != null) b.withPassword(s.password.toCharArray());
        return b.build();
    }

    io.lettuce.core.cluster.api.sync.RedisClusterCommands<String, String> cmd() {
        return cluster ? cconn.sync() : conn.sync();
    }

    String expectedAddress() {
        return s.host + ":" + s.port;
    }

    String partitionProblems() {
        List<String> bad = new ArrayList<>();
        for (RedisClusterNode n : clusterClient.getPartitions()) {
            String addr = n.getUri().getHost() + ":" + n.getUri().getPort();
            if (!addr.equals(expectedAddress())) bad.add(addr);
        }
        return bad.isEmpty() ? null : "partitions name other nodes than slotgate: " + bad;
    }

    @Override
    public String connect() {
        if (cluster) {
            ClusterTopologyRefreshOptions refresh = ClusterTopologyRefreshOptions.builder()
                    .enablePeriodicRefresh(Duration.ofSeconds(1)).enableAllAdaptiveRefreshTriggers().build();
            clusterClient = RedisClusterClient.create(uri());
            clusterClient.setOptions(ClusterClientOptions.builder().topologyRefreshOptions(refresh).build());
            cconn = clusterClient.connect();
            String ping = cconn.sync().ping();
            String bad = partitionProblems();
            Protocol.check(bad == null, bad);
            return "RedisClusterClient " + ping + ", partitions: " + clusterClient.getPartitions().size() + " node(s) at "
                    + expectedAddress();
        }
        client = RedisClient.create(uri());
        conn = client.connect();
        return "RedisClient PING -> " + conn.sync().ping();
    }

    @Override
    public Map<String, Callable<String>> extras() {
        if (!cluster) return Map.of();
        return Map.of("topology", () -> {
            // Let periodic refresh run a few times, force one, then check again.
            Thread.sleep(3000);
            clusterClient.refreshPartitions();
            String bad = partitionProblems();
            Protocol.check(bad == null, bad);
            return "after periodic + forced refresh the partitions only name " + expectedAddress();
        });
    }

    @Override
    public String set(String k, String v) {
        return cmd().set(k, v);
    }

    @Override
    public String get(String k) {
        return cmd().get(k);
    }

    @Override
    public List<String> pipeline(List<String[]> ops) throws Exception {
        List<RedisFuture<String>> fs = new ArrayList<>();
        for (String[] op : ops) {
            if (cluster) fs.add(op[0].equals("set") ? cconn.async().set(op[1], op[2]) : cconn.async().get(op[1]));
            else fs.add(op[0].equals("set") ? conn.async().set(op[1], op[2]) : conn.async().get(op[1]));
        }
        List<String> out = new ArrayList<>();
        for (RedisFuture<String> f : fs) out.add(f.get(30, TimeUnit.SECONDS));
        return out;
    }

    @Override
    public List<String> mget(List<String> keys) {
        List<String> out = new ArrayList<>();
        for (KeyValue<String, String> kv : cmd().mget(keys.toArray(new String[0]))) out.add(kv.getValueOrElse(null));
        return out;
    }

    @Override
    public String mset(Map<String, String> kv) {
        return cmd().mset(kv);
    }

    @Override
    public List<String> transaction(String k1, String v1, String k2, String v2) {
        // RedisClusterClient: MULTI runs on the node connection of the key's slot (slotgate).
        RedisCommands<String, String> c;
        if (cluster) {
            c = null;
            var node = cconn.getConnection(s.host, s.port).sync();
            node.multi();
            node.set(k1, v1);
            node.set(k2, v2);
            node.get(k1);
            return strings(node.exec());
        }
        c = conn.sync();
        c.multi();
        c.set(k1, v1);
        c.set(k2, v2);
        c.get(k1);
        return strings(c.exec());
    }

    static List<String> strings(TransactionResult r) {
        Protocol.check(!r.wasDiscarded(), "EXEC discarded");
        List<String> out = new ArrayList<>();
        for (Object o : r) out.add(o == null ? null : o.toString());
        return out;
    }

    @Override
    public List<String> blockingPop(String key, int timeoutSeconds) {
        KeyValue<String, String> kv;
        if (cluster) {
            StatefulRedisClusterConnection<String, String> other = clusterClient.connect();
            extra.add(other);
            kv = other.sync().blpop(timeoutSeconds, key);
        } else {
            StatefulRedisConnection<String, String> other = client.connect();
            extra.add(other);
            kv = other.sync().blpop(timeoutSeconds, key);
        }
        return kv == null ? null : List.of(kv.getKey(), kv.getValue());
    }

    @Override
    public void push(String key, String value) {
        cmd().rpush(key, value);
    }

    @Override
    public Runnable subscribe(String channel, BiConsumer<String, String> onMessage) {
        StatefulRedisPubSubConnection<String, String> ps = cluster ? clusterClient.connectPubSub() : client.connectPubSub();
        ps.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String ch, String msg) {
                onMessage.accept(ch, msg);
            }
        });
        ps.sync().subscribe(channel);
        return () -> {
            ps.sync().unsubscribe(channel);
            ps.close();
        };
    }

    @Override
    public long publish(String channel, String message) {
        return cmd().publish(channel, message);
    }

    @Override
    public String pool(int n, List<String> keys) throws Exception {
        GenericObjectPoolConfig<StatefulConnection<String, String>> cfg = new GenericObjectPoolConfig<>();
        cfg.setMaxTotal(n);
        cfg.setMaxIdle(n);
        Supplier<StatefulConnection<String, String>> make = cluster ? () -> clusterClient.connect() : () -> client.connect();
        GenericObjectPool<StatefulConnection<String, String>> pool = ConnectionPoolSupport.createGenericObjectPool(make, cfg);
        ExecutorService ex = Executors.newFixedThreadPool(n);
        CyclicBarrier all = new CyclicBarrier(n);
        try {
            List<Future<String>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String key = keys.get(i % keys.size()) + ":pool:" + i;
                fs.add(ex.submit(() -> {
                    try (StatefulConnection<String, String> c = pool.borrowObject()) {
                        all.await(60, TimeUnit.SECONDS); // every connection is held at once
                        var sync = c instanceof StatefulRedisClusterConnection<String, String> cc ? cc.sync()
                                : ((StatefulRedisConnection<String, String>) c).sync();
                        sync.set(key, key);
                        return sync.get(key);
                    }
                }));
            }
            for (int i = 0; i < n; i++) {
                String key = keys.get(i % keys.size()) + ":pool:" + i;
                String got = fs.get(i).get(90, TimeUnit.SECONDS);
                Protocol.check(key.equals(got), "pooled connection " + i + " read " + got);
            }
            return n + " pooled connections open at once, each SET/GET" + " (created " + pool.getCreatedCount() + ")";
        } finally {
            ex.shutdownNow();
            pool.close();
        }
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable c : extra) c.close();
        if (cconn != null) cconn.close();
        if (conn != null) conn.close();
        if (clusterClient != null) clusterClient.shutdown();
        if (client != null) client.shutdown();
    }

    public static void main(String[] args) {
        boolean cluster = args.length > 0 && args[0].equals("cluster");
        Protocol.run(s -> new LettuceApp(s, cluster));
    }
}

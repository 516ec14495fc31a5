package slotgate.clients;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cache.CacheManager;
import org.springframework.cache.annotation.Cacheable;
import org.springframework.cache.annotation.EnableCaching;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.dao.DataAccessException;
import org.springframework.data.annotation.Id;
import org.springframework.data.redis.cache.RedisCacheManager;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.RedisClusterConnection;
import org.springframework.data.redis.core.*;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.RedisMessageListenerContainer;
import org.springframework.data.redis.connection.MessageListener;
import org.springframework.data.redis.repository.configuration.EnableRedisRepositories;
import org.springframework.data.repository.CrudRepository;
import org.springframework.stereotype.Service;

/**
 * A Spring Boot application (3.5 / 4.0 with Lettuce, 3.5 with Jedis; one source) against
 * slotgate, in either configuration Spring offers:
 *
 *   java -jar boot35.jar single    spring.data.redis.host/port = slotgate
 *   java -jar boot35.jar cluster   spring.data.redis.cluster.nodes = slotgate
 *
 * Besides the common features (through StringRedisTemplate, executePipelined, multiGet,
 * multiSet, a SessionCallback transaction, a blocking leftPop, a
 * RedisMessageListenerContainer) it checks: actuator /actuator/health with Redis UP
 * ("health"), RedisTemplate values/hashes/lists/sets/zsets on keys of every master
 * ("types"), @Cacheable with RedisCacheManager ("cacheable"), and a @RedisHash
 * repository with enableKeyspaceEvents = ON_STARTUP, which sets notify-keyspace-events
 * through CONFIG SET while the context starts ("repository").
 */
@SpringBootApplication
@EnableCaching
@EnableRedisRepositories(enableKeyspaceEvents = RedisKeyValueAdapter.EnableKeyspaceEvents.ON_STARTUP,
        considerNestedRepositories = true)
public class SpringApp {

    @org.springframework.data.redis.core.RedisHash("sgperson")
    public static class Person {
        @Id
        public String id;
        public String name;

        public Person() {}

        Person(String id, String name) {
            this.id = id;
            this.name = name;
        }
    }

    public interface PersonRepository extends CrudRepository<Person, String> {}

    @Service
    public static class Expensive {
        final AtomicInteger calls = new AtomicInteger();

        @Cacheable("sgcache")
        public String compute(String arg) {
            calls.incrementAndGet();
            return "computed:" + arg;
        }

        public int calls() { // through the proxy: its own fields are not the target's
            return calls.get();
        }
    }

    @Bean
    RedisMessageListenerContainer sgListenerContainer(RedisConnectionFactory f) {
        RedisMessageListenerContainer c = new RedisMessageListenerContainer();
        c.setConnectionFactory(f);
        return c;
    }

    static final class Adapter implements Protocol.Adapter {
        final Protocol.Settings s;
        final String mode;
        ConfigurableApplicationContext ctx;
        StringRedisTemplate t;

        Adapter(Protocol.Settings s, String mode) {
            this.s = s;
            this.mode = mode;
        }

        @Override
        public String connect() {
            List<String> args = new ArrayList<>(List.of("--server.port=0", "--server.address=127.0.0.1",
                    "--spring.main.banner-mode=off", "--logging.level.root=ERROR",
                    "--management.endpoints.web.exposure.include=health",
                    "--management.endpoint.health.show-details=always",
                    "--spring.cache.type=redis", "--spring.data.redis.timeout=40s",
                    "--spring.data.redis.connect-timeout=5s",
                    "--spring.data.redis.lettuce.cluster.refresh.period=2s",
                    "--spring.data.redis.lettuce.cluster.refresh.adaptive=true"));
            if (s.password != null) args.add("--spring.data.redis.password=" + s.password);
            if (mode.equals("cluster")) {
                args.add("--spring.data.redis.cluster.nodes=" + s.host + ":" + s.port);
            } else {
                args.add("--spring.data.redis.host=" + s.host);
                args.add("--spring.data.redis.port=" + s.port);
            }
            ctx = SpringApplication.run(SpringApp.class, args.toArray(new String[0]));
            t = ctx.getBean(StringRedisTemplate.class);
            RedisConnectionFactory f = ctx.getBean(RedisConnectionFactory.class);
            String pong;
            try (RedisConnection c = f.getConnection()) {
                pong = c.ping();
                if (mode.equals("cluster")) {
                    Protocol.check(c instanceof RedisClusterConnection, "not a cluster connection: " + c.getClass());
                    var nodes = ((RedisClusterConnection) c).clusterGetNodes();
                    for (var n : nodes) {
                        Protocol.check((n.getHost() + ":" + n.getPort()).equals(s.host + ":" + s.port),
                                "cluster nodes name other addresses than slotgate: " + nodes);
                    }
                }
            }
            return f.getClass().getSimpleName() + " (" + mode + ") PING -> " + pong;
        }

        @Override
        public Map<String, Callable<String>> extras() {
            Map<String, Callable<String>> m = new LinkedHashMap<>();
            m.put("health", this::health);
            m.put("types", this::types);
            m.put("cacheable", this::cacheable);
            m.put("repository", this::repository);
            return m;
        }

        String health() throws Exception {
            String port = ctx.getEnvironment().getProperty("local.server.port");
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/actuator/health")).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            String body = r.body().replace(" ", "");
            // Boot 3 writes "status" before "details", Boot 4 after.
            Protocol.check(r.statusCode() == 200 && java.util.regex.Pattern.compile(
                    "\"redis\":\\{(\"details\":\\{[^}]*\\},)?\"status\":\"UP\"").matcher(body).find(),
                    "/actuator/health -> " + r.statusCode() + " " + body);
            return "/actuator/health: redis UP";
        }

        @SuppressWarnings("unchecked")
        String types() {
            RedisTemplate<Object, Object> rt = (RedisTemplate<Object, Object>) ctx.getBean("redisTemplate");
            for (String k : s.keys) {
                String tag = "{" + k + "}"; // same slot as k, so each master gets its share
                rt.opsForValue().set(tag + ":v", List.of(1, 2, 3));
                Protocol.check(List.of(1, 2, 3).equals(rt.opsForValue().get(tag + ":v")), "value " + k);
                rt.opsForHash().putAll(tag + ":h", Map.of("a", 1, "b", "two"));
                Protocol.check(Map.of("a", 1, "b", "two").equals(rt.opsForHash().entries(tag + ":h")), "hash " + k);
                rt.delete(tag + ":l");
                rt.opsForList().rightPushAll(tag + ":l", "x", "y", "z");
                Protocol.check(List.of("x", "y", "z").equals(rt.opsForList().range(tag + ":l", 0, -1)), "list " + k);
                rt.opsForSet().add(tag + ":s", "p", "q");
                Protocol.check(Set.of("p", "q").equals(rt.opsForSet().members(tag + ":s")), "set " + k);
                rt.opsForZSet().add(tag + ":z", "low", 1.0);
                rt.opsForZSet().add(tag + ":z", "high", 2.0);
                Protocol.check(List.of("low", "high").equals(new ArrayList<>(rt.opsForZSet().range(tag + ":z", 0, -1))),
                        "zset " + k);
            }
            return "RedisTemplate value/hash/list/set/zset on keys of every master";
        }

        String cacheable() {
            CacheManager cm = ctx.getBean(CacheManager.class);
            Protocol.check(cm instanceof RedisCacheManager, "cache manager is " + cm.getClass());
            Expensive e = ctx.getBean(Expensive.class);
            String arg = s.name + ":c";
            String a = e.compute(arg);
            // Spring Data Redis 4 may write the cache entry after the method returned
            // (seen with the cluster connection): wait for it before the second call.
            Boolean stored = false;
            for (int i = 0; i < 40 && !Boolean.TRUE.equals(stored); i++) {
                stored = t.hasKey("sgcache::" + arg);
                if (!Boolean.TRUE.equals(stored)) sleep(50);
            }
            String b = e.compute(arg);
            Protocol.check(a.equals(b) && e.calls() == 1, "@Cacheable ran " + e.calls() + " times (key stored after the "
                    + "first call: " + stored + ", now: " + t.hasKey("sgcache::" + arg) + ", cache "
                    + cm.getCache("sgcache") + ")");
            Protocol.check(Boolean.TRUE.equals(t.hasKey("sgcache::" + arg)), "no sgcache::" + arg + " key in Redis");
            return "@Cacheable served the second call from RedisCacheManager";
        }

        String repository() {
            PersonRepository repo = ctx.getBean(PersonRepository.class);
            String id = s.name + "-p";
            repo.save(new Person(id, "Ada"));
            Person p = repo.findById(id).orElse(null);
            Protocol.check(p != null && "Ada".equals(p.name), "findById returned " + (p == null ? null : p.name));
            repo.deleteById(id);
            Protocol.check(repo.findById(id).isEmpty(), "still found after delete");
            String events;
            try (RedisConnection c = ctx.getBean(RedisConnectionFactory.class).getConnection()) {
                Properties props = c.serverCommands().getConfig("notify-keyspace-events");
                events = String.valueOf(props);
            }
            Protocol.check(events.contains("E") || events.contains("A"),
                    "notify-keyspace-events after start-up: " + events);
            return "@RedisHash repository save/find/delete; keyspace events on (" + events + ")";
        }

        static void sleep(long ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public String set(String k, String v) {
            t.opsForValue().set(k, v);
            return "OK";
        }

        @Override
        public String get(String k) {
            return t.opsForValue().get(k);
        }

        static String str(Object o) {
            return o == null ? null : Boolean.TRUE.equals(o) ? "OK" : o.toString();
        }

        @Override
        public List<String> pipeline(List<String[]> ops) {
            List<Object> res = t.executePipelined(new SessionCallback<Object>() {
                @Override
                @SuppressWarnings("unchecked")
                public <K, V> Object execute(RedisOperations<K, V> o) throws DataAccessException {
                    var v = ((RedisOperations<String, String>) o).opsForValue();
                    for (String[] op : ops) {
                        if (op[0].equals("set")) v.set(op[1], op[2]);
                        else v.get(op[1]);
                    }
                    return null;
                }
            });
            List<String> out = new ArrayList<>();
            for (Object o : res) out.add(str(o));
            return out;
        }

        @Override
        public List<String> mget(List<String> keys) {
            return t.opsForValue().multiGet(keys);
        }

        @Override
        public String mset(Map<String, String> kv) {
            t.opsForValue().multiSet(kv);
            return "OK";
        }

        @Override
        public List<String> transaction(String k1, String v1, String k2, String v2) {
            List<Object> res = t.execute(new SessionCallback<List<Object>>() {
                @Override
                @SuppressWarnings("unchecked")
                public <K, V> List<Object> execute(RedisOperations<K, V> o) throws DataAccessException {
                    var ops = (RedisOperations<String, String>) o;
                    ops.multi();
                    ops.opsForValue().set(k1, v1);
                    ops.opsForValue().set(k2, v2);
                    ops.opsForValue().get(k1);
                    return ops.exec();
                }
            });
            List<String> out = new ArrayList<>();
            for (Object o : res) out.add(str(o));
            return out;
        }

        @Override
        public List<String> blockingPop(String key, int timeoutSeconds) {
            String v = t.opsForList().leftPop(key, Duration.ofSeconds(timeoutSeconds));
            return v == null ? null : List.of(key, v);
        }

        @Override
        public void push(String key, String value) {
            t.opsForList().rightPush(key, value);
        }

        @Override
        public Runnable subscribe(String channel, BiConsumer<String, String> onMessage) throws Exception {
            RedisMessageListenerContainer c = ctx.getBean(RedisMessageListenerContainer.class);
            MessageListener l = (message, pattern) -> onMessage.accept(new String(message.getChannel()),
                    new String(message.getBody()));
            c.addMessageListener(l, new ChannelTopic(channel));
            Thread.sleep(500);
            return () -> c.removeMessageListener(l);
        }

        @Override
        public long publish(String channel, String message) {
            Long n = t.convertAndSend(channel, message);
            return n == null ? -1 : n;
        }

        @Override
        public String pool(int n, List<String> keys) {
            throw new UnsupportedOperationException("not run for Spring");
        }

        @Override
        public void close() {
            if (ctx != null) ctx.close();
        }
    }

    public static void main(String[] args) {
        String mode = args.length > 0 ? args[0] : "single";
        Protocol.run(s -> new Adapter(s, mode));
    }
}

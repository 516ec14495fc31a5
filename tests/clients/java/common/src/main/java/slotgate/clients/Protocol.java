package slotgate.clients;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.*;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * The feature run every JVM client app performs against slotgate, and the JSON line
 * protocol that reports it to tests/clients/test_clients.py (the Java twin of
 * python/protocol.py and node/protocol.mjs: same features, same checks, same output).
 *
 * Settings come from the environment: SG_HOST, SG_PORT, SG_PASSWORD, SG_KEYS (JSON
 * list of plain key strings, at least one per master), SG_TAG (hash tag), SG_NAME
 * (unique prefix), SG_FEATURES (comma-separated feature names to run, in order).
 * Output on stdout, one JSON object per line: {"feature","ok","detail"} per feature;
 * {"event":"fault_ready","fault":"failover"|"kill9"} before waiting for one stdin line
 * ("go" once the test has done it); {"event":"done"} at the end.
 */
public final class Protocol {
    public static final long FEATURE_TIMEOUT_S = 30;
    public static final long FAULT_TIMEOUT_S = 150;

    /** The library-specific calls. Values are Strings; "OK" replies are "OK". */
    public interface Adapter {
        String connect() throws Exception;
        String set(String k, String v) throws Exception;
        String get(String k) throws Exception;
        /** ops: {"set", k, v} or {"get", k}; replies as strings ("OK" or the value). */
        List<String> pipeline(List<String[]> ops) throws Exception;
        List<String> mget(List<String> keys) throws Exception;
        String mset(Map<String, String> kv) throws Exception;
        /** MULTI SET k1 v1 SET k2 v2 GET k1 EXEC -> ["OK","OK",v1]. */
        List<String> transaction(String k1, String v1, String k2, String v2) throws Exception;
        /** BLPOP on another connection than push() uses: [key, value] or null. */
        List<String> blockingPop(String key, int timeoutSeconds) throws Exception;
        void push(String key, String value) throws Exception;
        /** Returns the unsubscribe action. */
        Runnable subscribe(String channel, BiConsumer<String, String> onMessage) throws Exception;
        long publish(String channel, String message) throws Exception;
        /** Run n commands at once, each on its own connection of one pool; detail. */
        String pool(int n, List<String> keys) throws Exception;
        /** App-specific extra features (name -> check returning a detail). */
        default Map<String, Callable<String>> extras() { return Map.of(); }
        void close() throws Exception;
    }

    public static final class Settings {
        public final String host;
        public final int port;
        public final String password;
        public final List<String> keys;
        public final String tag;
        public final String name;
        public final List<String> features;

        Settings() {
            host = env("SG_HOST", "127.0.0.1");
            port = Integer.parseInt(env("SG_PORT", "6379"));
            String pw = env("SG_PASSWORD", "");
            password = pw.isEmpty() ? null : pw;
            keys = parseStringList(env("SG_KEYS", "[]"));
            if (keys.size() < 3) throw new IllegalStateException("SG_KEYS must list at least 3 keys");
            tag = env("SG_TAG", "tx");
            name = env("SG_NAME", "client-" + ProcessHandle.current().pid());
            features = Arrays.asList(env("SG_FEATURES", "connect,set_get,pipeline,mget,mset,transaction,"
                    + "blocking_pop,pubsub,failover").split(","));
        }
    }

    public static Settings settings() { return new Settings(); }

    static String env(String k, String d) {
        String v = System.getenv(k);
        return v == null ? d : v;
    }

    /** The keys are plain strings from the test (no quotes or escapes inside). */
    static List<String> parseStringList(String json) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while ((i = json.indexOf('"', i)) >= 0) {
            int j = json.indexOf('"', i + 1);
            out.add(json.substring(i + 1, j));
            i = j + 1;
        }
        return out;
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }

    static synchronized void emitRaw(String json) {
        System.out.println(json);
        System.out.flush();
    }

    public static void report(String feature, boolean ok, String detail) {
        if (detail == null) detail = "";
        if (detail.length() > 500) detail = detail.substring(0, 500);
        emitRaw("{\"feature\":" + quote(feature) + ",\"ok\":" + ok + ",\"detail\":" + quote(detail) + "}");
    }

    public static void check(boolean cond, String message) {
        if (!cond) throw new AssertionError(message);
    }

    public static String describe(Throwable e) {
        if (e instanceof ExecutionException && e.getCause() != null) e = e.getCause();
        StringBuilder b = new StringBuilder(e.getClass().getSimpleName() + ": " + e.getMessage());
        Throwable c = e.getCause();
        for (int i = 0; c != null && i < 3; i++, c = c.getCause()) b.append(" <- ").append(c.getClass().getSimpleName())
                .append(": ").append(c.getMessage());
        return b.toString();
    }

    static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r);
        t.setDaemon(true);
        return t;
    });

    public static <T> T withTimeout(Callable<T> fn, long seconds, String what) throws Exception {
        Future<T> f = POOL.submit(fn);
        try {
            return f.get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new TimeoutException(what + ": no answer within " + seconds + " s");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof Exception ex) throw ex;
            throw new RuntimeException(c);
        }
    }

    static void setGetEveryKey(Adapter a, Settings s, String suffix) throws Exception {
        for (String key : s.keys) {
            String value = s.name + ":" + suffix + ":" + key;
            String ok = a.set(key, value);
            check("OK".equals(ok), "SET " + key + " replied " + ok);
            String got = a.get(key);
            check(value.equals(got), "GET " + key + " replied " + got + ", expected " + value);
        }
    }

    private static BufferedReader stdin;

    static synchronized String readStdinLine() throws Exception {
        if (stdin == null) stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line = stdin.readLine();
        return line == null ? null : line.trim();
    }

    public static void run(java.util.function.Function<Settings, Adapter> factory) {
        Settings s = settings();
        Adapter[] holder = new Adapter[1];
        boolean[] connected = {false};
        Map<String, Callable<String>> features = new LinkedHashMap<>();
        features.put("connect", () -> {
            holder[0] = factory.apply(s);
            String d = holder[0].connect();
            connected[0] = true;
            return d;
        });
        features.put("set_get", () -> {
            setGetEveryKey(holder[0], s, "sg");
            return s.keys.size() + " keys, one per master or more";
        });
        features.put("pipeline", () -> {
            List<String[]> ops = new ArrayList<>();
            List<String> expected = new ArrayList<>();
            for (String k : s.keys) {
                ops.add(new String[] {"set", k, s.name + ":p:" + k});
                ops.add(new String[] {"get", k});
                expected.add("OK");
                expected.add(s.name + ":p:" + k);
            }
            List<String> got = holder[0].pipeline(ops);
            check(expected.equals(got), "pipeline replied " + got);
            return ops.size() + " commands in one pipeline";
        });
        features.put("mget", () -> {
            List<String> values = new ArrayList<>();
            for (String k : s.keys) {
                values.add(s.name + ":m:" + k);
                holder[0].set(k, s.name + ":m:" + k);
            }
            List<String> keys = new ArrayList<>(s.keys);
            keys.add(s.name + ":missing");
            values.add(null);
            List<String> got = holder[0].mget(keys);
            check(values.equals(got), "MGET replied " + got);
            return "MGET of " + keys.size() + " keys across masters, order kept";
        });
        features.put("mset", () -> {
            Map<String, String> kv = new LinkedHashMap<>();
            for (String k : s.keys) kv.put(k, s.name + ":ms:" + k);
            String ok = holder[0].mset(kv);
            check("OK".equals(ok), "MSET replied " + ok);
            for (String k : s.keys) {
                String got = holder[0].get(k);
                check(kv.get(k).equals(got), "GET " + k + " after MSET replied " + got);
            }
            return "MSET of " + kv.size() + " keys across masters";
        });
        features.put("transaction", () -> {
            String k1 = "{" + s.tag + "}a", k2 = "{" + s.tag + "}b";
            List<String> got = holder[0].transaction(k1, "one", k2, "two");
            check(List.of("OK", "OK", "one").equals(got), "MULTI/EXEC replied " + got);
            String after = holder[0].get(k2);
            check("two".equals(after), "GET after EXEC replied " + after);
            return "MULTI SET SET GET EXEC on one slot";
        });
        features.put("blocking_pop", () -> {
            String key = s.keys.get(0) + ":list", value = s.name + ":bp";
            Future<List<String>> f = POOL.submit(() -> holder[0].blockingPop(key, 10));
            Thread.sleep(500); // the push must arrive while BLPOP is blocked
            holder[0].push(key, value);
            List<String> got = f.get(15, TimeUnit.SECONDS);
            check(List.of(key, value).equals(got), "BLPOP on another connection returned " + got);
            return "BLPOP on a second connection woken by RPUSH";
        });
        features.put("pubsub", () -> {
            String ch = s.name + ":ch", msg = s.name + ":hello";
            CountDownLatch received = new CountDownLatch(1);
            Runnable unsub = holder[0].subscribe(ch, (c, m) -> {
                if (ch.equals(c) && msg.equals(m)) received.countDown();
            });
            try {
                long receivers = -1;
                for (int i = 0; i < 50 && received.getCount() > 0; i++) {
                    receivers = holder[0].publish(ch, msg);
                    received.await(200, TimeUnit.MILLISECONDS);
                }
                check(received.getCount() == 0, "no message received (PUBLISH reported " + receivers + " receivers)");
            } finally {
                try {
                    unsub.run();
                } catch (Exception ignored) {
                    // cleanup only
                }
            }
            return "SUBSCRIBE on one connection received a PUBLISH from another";
        });
        features.put("pool200", () -> holder[0].pool(200, s.keys));
        features.put("failover", () -> fault(holder[0], s, "failover"));
        features.put("kill9", () -> fault(holder[0], s, "kill9"));

        for (String name : s.features) {
            Callable<String> fn = features.get(name);
            if (fn == null && holder[0] != null) fn = holder[0].extras().get(name);
            if (fn == null) {
                report(name, false, connected[0] ? "unknown feature" : "not connected");
                continue;
            }
            if (!name.equals("connect") && !connected[0]) {
                report(name, false, "not connected");
                continue;
            }
            long limit = name.equals("failover") || name.equals("kill9") ? FAULT_TIMEOUT_S : FEATURE_TIMEOUT_S;
            if (name.equals("connect")) limit = 90; // a Spring context starts within it
            try {
                report(name, true, withTimeout(fn, limit, name));
            } catch (Throwable e) {
                report(name, false, describe(e));
            }
        }
        try {
            if (holder[0] != null) withTimeout(() -> {
                holder[0].close();
                return null;
            }, 5, "close");
        } catch (Exception ignored) {
            // best effort
        }
        emitRaw("{\"event\":\"done\"}");
        Runtime.getRuntime().halt(0); // a library thread stuck in a failed feature must not keep us alive
    }

    /** Traffic runs while the test fails a master over (or kills it); passes when no command
     * failed during it and everything works after it. */
    static String fault(Adapter a, Settings s, String fault) throws Exception {
        emitRaw("{\"event\":\"fault_ready\",\"fault\":\"" + fault + "\"}");
        CountDownLatch stop = new CountDownLatch(1);
        String[] go = {null};
        AtomicInteger rounds = new AtomicInteger();
        List<String> errors = new CopyOnWriteArrayList<>();
        POOL.submit(() -> {
            try {
                go[0] = readStdinLine();
                Thread.sleep(1000);
            } catch (Exception ignored) {
                // reported through go[0]
            }
            stop.countDown();
            return null;
        });
        Future<?> worker = POOL.submit(() -> {
            while (stop.getCount() > 0) {
                try {
                    setGetEveryKey(a, s, "fo" + rounds.get());
                } catch (Throwable e) {
                    errors.add(describe(e));
                    Thread.sleep(50);
                }
                rounds.incrementAndGet();
            }
            return null;
        });
        stop.await();
        check("go".equals(go[0]), "test aborted the " + fault + " (" + go[0] + ")");
        try {
            worker.get(60, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("a command hung after the " + fault);
        }
        setGetEveryKey(a, s, "after");
        if (s.features.contains("mget")) {
            List<String> got = a.mget(s.keys);
            List<String> want = new ArrayList<>();
            for (String k : s.keys) want.add(s.name + ":after:" + k);
            check(want.equals(got), "MGET after the " + fault + " replied " + got);
        }
        // kill -9: the one command in flight to the killed master when it died cannot be
        // answered (slotgate says "outcome unknown"); everything sent later is held and
        // answered after the promotion.
        List<String> inFlight = new ArrayList<>();
        if (fault.equals("kill9")) for (String e : errors) if (e.contains("outcome unknown")) inFlight.add(e);
        List<String> other = new ArrayList<>(errors);
        other.removeAll(inFlight);
        check(other.isEmpty() && inFlight.size() <= 1, errors.size() + " errors during the " + fault + ", first: "
                + (errors.isEmpty() ? "" : errors.get(0)));
        return rounds.get() + " SET/GET rounds during the " + fault + (inFlight.isEmpty() ? " without an error"
                : ", only the command in flight at the kill failed (outcome unknown)") + "; works after it";
    }

    private Protocol() {}
}

package hello;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.ssl.SSLContext;

/** {@code server [flags]}: serves ws (and wss with --tls) until SIGINT or SIGTERM. */
public final class ServerMain {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

  private ServerMain() {}

  public static void main(String[] args) throws InterruptedException {
    ServerConfig config;
    try {
      config = ServerConfig.parse(args, Path.of(System.getProperty("hello.repo.root", ".")));
    } catch (Flags.HelpRequested e) {
      Log.out("%s", ServerConfig.USAGE);
      System.exit(0);
      return;
    } catch (UsageException e) {
      Log.err("server: %s (see --help)", e.getMessage());
      System.exit(2);
      return;
    }
    System.exit(serve(config));
  }

  private static int serve(ServerConfig config) throws InterruptedException {
    ScheduledExecutorService timers =
        Executors.newScheduledThreadPool(
            2,
            task -> {
              Thread thread = new Thread(task, "session-timers");
              thread.setDaemon(true);
              return thread;
            });
    Set<Session> sessions = ConcurrentHashMap.newKeySet();
    ServerContext context = ServerContext.of(config, timers, sessions);
    ConnectionLimit limit = new ConnectionLimit(config.maxConnections());
    CountDownLatch stop = new CountDownLatch(1);
    Signals.onInterruptOrTerminate(stop::countDown);

    List<HelloServer> servers = new ArrayList<>();
    try {
      Lingerer lingerer = new Lingerer(config.closeTimeout());
      servers.add(new HelloServer(null, config.port(), context, limit, lingerer));
      if (config.tls()) {
        SSLContext tls =
            Tls.serverContext(
                config.certsDir().resolve("server.crt"), config.certsDir().resolve("server.key"));
        servers.add(new HelloServer(tls, config.tlsPort(), context, limit, lingerer));
      }
      // Every port is known to the origin policy before a script reads a listening line.
      List<String> urls = new ArrayList<>();
      for (HelloServer server : servers) {
        urls.add(server.listen(START_TIMEOUT));
        context.origins().addPort(server.getPort());
      }
      urls.forEach(url -> Log.out("listening on %s", url));
    } catch (Exception e) {
      Log.err("server: cannot start: %s", e);
      stopAll(servers);
      return 1;
    }

    stop.await();
    sessions.forEach(Session::shutdown);
    long deadline = System.currentTimeMillis() + config.closeTimeout().toMillis();
    while (System.currentTimeMillis() < deadline
        && servers.stream().anyMatch(server -> !server.getConnections().isEmpty())) {
      Thread.sleep(20);
    }
    stopAll(servers);
    return 0;
  }

  private static void stopAll(List<HelloServer> servers) throws InterruptedException {
    for (HelloServer server : servers) {
      server.stop(200);
    }
  }
}

package hello;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** {@code client [flags]}: one session against a server; exits 0 only if it all went right. */
public final class ClientMain {
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

  private ClientMain() {}

  public static void main(String[] args) throws InterruptedException {
    ClientConfig config;
    try {
      config = ClientConfig.parse(args, Path.of(System.getProperty("hello.repo.root", ".")));
    } catch (Flags.HelpRequested e) {
      Log.out("%s", ClientConfig.USAGE);
      System.exit(0);
      return;
    } catch (UsageException e) {
      Log.err("client: %s (see --help)", e.getMessage());
      System.exit(2);
      return;
    }
    System.exit(run(config));
  }

  private static int run(ClientConfig config) throws InterruptedException {
    Messages.KissResponse kissResponse = SystemFacts.client(System.getenv());
    // Loads the JSON classes now, so that a cold JVM answers the first Pings in time.
    Messages.readByClient(Messages.kissResponse(kissResponse));
    HelloClient client = new HelloClient(config, kissResponse);
    if (config.url().getScheme().equals("wss")) {
      try {
        client.setSocketFactory(Tls.clientContext(config.ca()).getSocketFactory());
      } catch (Exception e) {
        Log.err("client: cannot use the CA %s: %s", config.ca(), e);
        return 1;
      }
    }
    Signals.onInterruptOrTerminate(client::stop);

    if (!client.connectBlocking(config.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
      Log.err("client: cannot connect to %s: %s", config.url(), client.connectionError());
      return 1;
    }
    long openedAt = System.nanoTime();
    Log.out("connected to %s", config.url());
    ScheduledExecutorService watchdog =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "silent-server-watchdog");
              thread.setDaemon(true);
              return thread;
            });
    long pingMillis = config.pingInterval().toMillis();
    watchdog.scheduleAtFixedRate(
        () -> client.warnIfServerSilent(config.pingInterval()),
        pingMillis,
        pingMillis,
        TimeUnit.MILLISECONDS);

    client.sendEchoRequests();
    if (client.awaitAnswers(config.timeout())) {
      Duration remaining =
          config.hasDuration()
              ? config.duration().minus(Duration.ofNanos(System.nanoTime() - openedAt))
              : null;
      client.awaitFinished(remaining);
    }
    client.closeNormally(CLOSE_WAIT, config.timeout());
    watchdog.shutdownNow();
    return client.exitStatus(config.hasDuration());
  }
}

package hello;

import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What every session of the server shares: the settings, the timer threads, the registry of live
 * sessions, the origin policy, and the Kiss requests of both dialects (the host's facts do not
 * change).
 */
record ServerContext(
    ServerConfig config,
    ScheduledExecutorService timers,
    Set<Session> registry,
    OriginPolicy origins,
    String jsonKissRequest,
    byte[] v1KissRequest) {

  static ServerContext of(
      ServerConfig config, ScheduledExecutorService timers, Set<Session> registry) {
    Messages.KissRequest facts = SystemFacts.host();
    return new ServerContext(
        config,
        timers,
        registry,
        new OriginPolicy(config.host(), config.sans(), config.allowOrigins()),
        Messages.kissRequest(facts),
        V1Codec.encode(
            new V1Message.KissRequest(
                facts.osName(), facts.osVersion(), facts.osRelease(), facts.osArchitecture())));
  }
}

package io.jnsq.auth;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code --auth-match}: our default matches the server's patterns against the whole name, nsqd anywhere in it. */
class AuthMatchTest {
  private static final String REPLY = "{\"ttl\":60,\"identity\":\"i\",\"authorizations\":["
      + "{\"permissions\":[\"publish\"],\"topic\":\"clicks\",\"channels\":[\".*\"]},"
      + "{\"permissions\":[\"subscribe\"],\"topic\":\"clicks\",\"channels\":[\"arch\"]}]}";

  @Test
  void wholeNamesByDefault() throws Exception {
    AuthServers.Grant g = AuthServers.parse(REPLY, 0);
    assertTrue(g.allows("clicks", "", true));
    assertTrue(g.allows("clicks", "arch", false));
    assertFalse(g.allows("xclicksy", "", true));
    assertFalse(g.allows("clicks", "archive", false));
    assertFalse(AuthServers.parse(REPLY, 0, AuthServers.Match.WHOLE).allows("clicks2", "", true));
  }

  @Test
  void anywhereInTheNameAsNsqdMatches() throws Exception {
    AuthServers.Grant g = AuthServers.parse(REPLY, 0, AuthServers.Match.NSQD);
    assertTrue(g.allows("clicks", "", true));
    assertTrue(g.allows("xclicksy", "", true));
    assertTrue(g.allows("clicks", "archive", false));
    assertFalse(g.allows("click", "", true));
    assertFalse(g.allows("clicks", "ar", false));
  }

  @Test
  void theServersCarryTheirMode() {
    AuthServers s = new AuthServers(java.util.List.of("127.0.0.1:1"), java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(1));
    assertTrue(s.match() == AuthServers.Match.WHOLE);
    assertTrue(s.withMatch(AuthServers.Match.NSQD).match() == AuthServers.Match.NSQD);
  }
}

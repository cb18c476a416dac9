package io.jnsq.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The proxy between a client socket and an echo server on loopback, in each mode and across mode changes. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FaultProxyTest {
  private ServerSocket echo;
  private FaultProxy proxy;

  @BeforeEach
  void start() throws IOException {
    echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(() -> {
      while (true) {
        Socket s;
        try {
          s = echo.accept();
        } catch (IOException closed) {
          return;
        }
        Thread e = new Thread(() -> {
          try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            in.transferTo(out);   // echoes until the client ends its side, then closes
          } catch (IOException ignored) {
            // reset
          }
        });
        e.setDaemon(true);
        e.start();
      }
    });
    t.setDaemon(true);
    t.start();
    proxy = FaultProxy.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), echo.getLocalPort()));
  }

  @AfterEach
  void stop() throws IOException {
    proxy.close();
    echo.close();
  }

  private Socket connect() throws IOException {
    Socket s = new Socket();
    s.connect(proxy.address(), 5000);
    s.setSoTimeout(5000);
    return s;
  }

  private static void send(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
  }

  private static String read(Socket s, int n) throws IOException {
    byte[] b = s.getInputStream().readNBytes(n);
    return new String(b, StandardCharsets.US_ASCII);
  }

  @Test
  void passForwardsBothWaysAndPassesAnOrderlyEndOn() throws IOException {
    try (Socket s = connect()) {
      send(s, "hello");
      assertEquals("hello", read(s, 5));
      s.shutdownOutput();
      assertEquals(-1, s.getInputStream().read(), "the echo server's close came through as an end of stream");
    }
    assertTrue(proxy.forwardedBytes() >= 10);
  }

  @Test
  void delayHoldsEveryChunkForTheGivenTime() throws IOException {
    proxy.delay(150);
    try (Socket s = connect()) {
      long start = System.nanoTime();
      send(s, "slow");
      assertEquals("slow", read(s, 4));
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertTrue(millis >= 300, "one chunk up and one down, 150 ms each: " + millis + " ms");
      proxy.pass();
      send(s, "fast");
      assertEquals("fast", read(s, 4));
    }
  }

  @Test
  void blackholeStallsOpenAndNewConnectionsWithoutClosingOrLosingBytes() throws IOException {
    try (Socket open = connect()) {
      send(open, "a");
      assertEquals("a", read(open, 1));
      proxy.blackhole();
      send(open, "bcd");
      open.setSoTimeout(300);
      assertThrows(SocketTimeoutException.class, () -> open.getInputStream().read());
      try (Socket fresh = connect()) {   // the kernel accepts; the proxy does not dial onwards
        send(fresh, "xyz");
        fresh.setSoTimeout(300);
        assertThrows(SocketTimeoutException.class, () -> fresh.getInputStream().read());
        proxy.pass();
        open.setSoTimeout(5000);
        fresh.setSoTimeout(5000);
        assertEquals("bcd", read(open, 3), "what was sent during the blackhole arrives after it, in order");
        assertEquals("xyz", read(fresh, 3));
      }
    }
  }

  @Test
  void resetClosesOpenConnectionsAndRefusesNewOnesUntilPass() throws IOException {
    try (Socket open = connect()) {
      send(open, "a");
      assertEquals("a", read(open, 1));
      proxy.reset();
      assertTrue(endsAbruptly(open), "an open connection is reset");
      assertTrue(newConnectionIsReset(), "a new connection is reset too");
    }
    proxy.pass();
    try (Socket s = connect()) {
      send(s, "back");
      assertEquals("back", read(s, 4));
    }
  }

  @Test
  void blackholeThenResetEndsTheStalledConnections() throws IOException {
    try (Socket open = connect()) {
      proxy.blackhole();
      send(open, "held");
      proxy.reset();
      assertTrue(endsAbruptly(open));
    }
  }

  @Test
  void aTargetThatIsGoneResetsTheClient() throws IOException {
    // The target's port stays bound but never listens, so nothing else on the machine can take it
    // and every dial is refused (a closed server's port could be reused by a busy machine's next bind).
    try (Socket gone = new Socket()) {
      gone.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      try (FaultProxy toGone = FaultProxy.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), gone.getLocalPort()))) {
        assertTrue(newConnectionIsReset(toGone));
      }
    }
  }

  /** True when a new connection is reset, whether while it is set up or at its first read. */
  private boolean newConnectionIsReset() {
    return newConnectionIsReset(proxy);
  }

  private static boolean newConnectionIsReset(FaultProxy through) {
    try (Socket s = new Socket()) {
      s.connect(through.address(), 5000);
      return endsAbruptly(s);
    } catch (IOException reset) {
      return true;
    }
  }

  /** True when the next read sees a reset or an end of stream (within the socket's timeout). */
  private static boolean endsAbruptly(Socket s) {
    try {
      s.setSoTimeout(5000);
      return s.getInputStream().read() == -1;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }
}

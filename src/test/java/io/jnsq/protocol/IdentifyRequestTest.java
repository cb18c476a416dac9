package io.jnsq.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** IDENTIFY bounds, defaults and the negotiated answer, as nsqd 1.3.0. */
class IdentifyRequestTest {
  private static final IdentifyBounds BOUNDS = IdentifyBounds.defaults();
  private static final NodeFeatures PLAIN = new NodeFeatures(false, false, false, 6, false, 2500, 900000, "1.3.0");

  private static IdentifyRequest.Result parse(String json) { return IdentifyRequest.parse(ByteString.fromString(json), BOUNDS); }

  private static IdentifyRequest ok(String json) {
    IdentifyRequest.Result r = parse(json);
    assertNull(r.error(), () -> r.error().frameText());
    return r.request();
  }

  @Test
  void transcriptRequestGetsNsqdsExactJson() {
    IdentifyRequest r = ok("{\"client_id\": \"probe\", \"hostname\": \"probe\", \"feature_negotiation\": true, "
        + "\"user_agent\": \"tcp-probe/0.1\", \"heartbeat_interval\": 30000}");
    assertEquals("{\"max_rdy_count\":2500,\"version\":\"1.3.0\",\"max_msg_timeout\":900000,\"msg_timeout\":60000,"
        + "\"tls_v1\":false,\"deflate\":false,\"deflate_level\":6,\"max_deflate_level\":6,\"snappy\":false,"
        + "\"sample_rate\":0,\"auth_required\":false,\"output_buffer_size\":16384,\"output_buffer_timeout\":250}",
        r.negotiate(PLAIN).response().toJson());
    assertEquals("probe", r.clientId());
    assertEquals("tcp-probe/0.1", r.userAgent());
  }

  @Test
  void emptyAndNullBodiesKeepDefaults() {
    for (String json : new String[] {"{}", "null", " {} "}) {
      IdentifyRequest r = ok(json);
      assertEquals(30000, r.heartbeatIntervalMs());
      assertEquals(16384, r.outputBufferSize());
      assertEquals(250, r.outputBufferTimeoutMs());
      assertEquals(60000, r.msgTimeoutMs());
      assertEquals("", r.clientId());
      assertFalse(r.featureNegotiation());
    }
  }

  @Test
  void disabledValuesAreReportedAsNsqdDoes() {
    IdentifyRequest r = ok("{\"heartbeat_interval\":-1,\"output_buffer_size\":-1,\"output_buffer_timeout\":-1,\"feature_negotiation\":true}");
    assertEquals(-1, r.heartbeatIntervalMs());
    IdentifyResponse resp = r.negotiate(PLAIN).response();
    assertEquals(1, resp.outputBufferSize());
    assertEquals(0, resp.outputBufferTimeoutMs());
  }

  @Test
  void unknownAndRetiredKeysAreIgnoredAndKeysMatchAnyCase() {
    IdentifyRequest r = ok("{\"short_id\":\"a\",\"long_id\":\"b\",\"topology_zone\":\"z\",\"Client_ID\":\"w1\",\"extra\":[1,2]}");
    assertEquals("w1", r.clientId());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "{\"heartbeat_interval\":999}|E_BAD_BODY IDENTIFY heartbeat interval (999) is invalid",
      "{\"heartbeat_interval\":60001}|E_BAD_BODY IDENTIFY heartbeat interval (60001) is invalid",
      "{\"heartbeat_interval\":-2}|E_BAD_BODY IDENTIFY heartbeat interval (-2) is invalid",
      "{\"output_buffer_timeout\":24}|E_BAD_BODY IDENTIFY output buffer timeout (24) is invalid",
      "{\"output_buffer_timeout\":30001}|E_BAD_BODY IDENTIFY output buffer timeout (30001) is invalid",
      "{\"output_buffer_size\":63}|E_BAD_BODY IDENTIFY output buffer size (63) is invalid",
      "{\"output_buffer_size\":65537}|E_BAD_BODY IDENTIFY output buffer size (65537) is invalid",
      "{\"sample_rate\":100}|E_BAD_BODY IDENTIFY sample rate (100) is invalid",
      "{\"sample_rate\":-1}|E_BAD_BODY IDENTIFY sample rate (-1) is invalid",
      "{\"msg_timeout\":999}|E_BAD_BODY IDENTIFY msg timeout (999) is invalid",
      "{\"msg_timeout\":900001}|E_BAD_BODY IDENTIFY msg timeout (900001) is invalid",
      "{\"heartbeat_interval\":999,\"msg_timeout\":1}|E_BAD_BODY IDENTIFY heartbeat interval (999) is invalid",
      "{\"sample_rate\":100,\"output_buffer_size\":1}|E_BAD_BODY IDENTIFY output buffer size (1) is invalid",
      "{nope|E_BAD_BODY IDENTIFY failed to decode JSON body",
      "[]|E_BAD_BODY IDENTIFY failed to decode JSON body",
      "{\"client_id\":5}|E_BAD_BODY IDENTIFY failed to decode JSON body",
      "{\"feature_negotiation\":\"yes\"}|E_BAD_BODY IDENTIFY failed to decode JSON body",
      "{\"heartbeat_interval\":1.5}|E_BAD_BODY IDENTIFY failed to decode JSON body",
      "{} {}|E_BAD_BODY IDENTIFY failed to decode JSON body",
  })
  void refusesOutOfBoundsValuesInNsqdsOrder(String json, String expected) {
    assertEquals(expected, parse(json).error().frameText());
  }

  @Test
  void deflateLevelIsCappedNeverAnError() {
    NodeFeatures deflating = new NodeFeatures(false, true, true, 6, false, 2500, 900000, "1.3.0");
    assertEquals(6, ok("{\"feature_negotiation\":true,\"deflate\":true,\"deflate_level\":9}").negotiate(deflating).response().deflateLevel());
    assertEquals(3, ok("{\"feature_negotiation\":true,\"deflate\":true,\"deflate_level\":3}").negotiate(deflating).response().deflateLevel());
    assertEquals(6, ok("{\"feature_negotiation\":true,\"deflate\":true,\"deflate_level\":-4}").negotiate(deflating).response().deflateLevel());
    assertEquals("E_IDENTIFY_FAILED cannot enable both deflate and snappy compression",
        ok("{\"feature_negotiation\":true,\"deflate\":true,\"snappy\":true}").negotiate(deflating).error().frameText());
  }

  @Test
  void featuresTheNodeLacksAreAnsweredAsNotEnabled() {
    IdentifyResponse r = ok("{\"feature_negotiation\":true,\"tls_v1\":true,\"deflate\":true,\"snappy\":true}").negotiate(PLAIN).response();
    assertFalse(r.tlsV1());
    assertFalse(r.snappy());
    assertFalse(r.deflate());
    assertTrue(r.toJson().startsWith("{\"max_rdy_count\":2500,"));
  }
}

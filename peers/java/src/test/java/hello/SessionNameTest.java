package hello;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** Names (PROTOCOL.md sections 2 and 2.1), the whoami query parameter among them. */
class SessionNameTest {
  private static final String ID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";

  @Test
  void queryParameterIsDecodedAsAFormValue() {
    assertEquals("q name", SessionName.whoamiQuery("/ws?whoami=q+name"));
    assertEquals("alice", SessionName.whoamiQuery("/ws?x=1&whoami=alice&whoami=bob"));
    assertEquals("a&b=c d+", SessionName.whoamiQuery("/ws?whoami=a%26b%3Dc%20d%2B"));
    assertEquals(
        "こんにちは",
        SessionName.whoamiQuery("/ws?whoami=%E3%81%93%E3%82%93%E3%81%AB%E3%81%A1%E3%81%AF"));
    assertEquals("\ufffd", SessionName.whoamiQuery("/ws?whoami=%FF"), "not UTF-8: U+FFFD");
    assertEquals("", SessionName.whoamiQuery("/ws?whoami"));
    assertEquals("", SessionName.whoamiQuery("/ws?whoami="));
    assertEquals("alice", SessionName.whoamiQuery("/ws?who%61mi=alice"), "the key is decoded too");
  }

  @Test
  void queryWithoutTheParameter() {
    assertNull(SessionName.whoamiQuery("/ws"));
    assertNull(SessionName.whoamiQuery("/ws?"));
    assertNull(SessionName.whoamiQuery("/ws?WhoAmI=alice"), "query keys keep their case");
    assertNull(SessionName.whoamiQuery("/ws?userId=alice"));
    assertNull(SessionName.whoamiQuery("/ws?whoami=%zz"), "a broken escape is skipped");
    assertEquals("bob", SessionName.whoamiQuery("/ws?whoami=%zz&whoami=bob"));
  }

  @Test
  void headersComeFirstThenTheQueryThenTheId() {
    assertEquals("h", SessionName.of("h", "u", "q", ID));
    assertEquals("u", SessionName.of(" ", "u", "q", ID));
    assertEquals(
        "q name", SessionName.of(null, "", SessionName.whoamiQuery("/ws?whoami=+q+name+"), ID));
    assertEquals(ID, SessionName.of(null, null, null, ID));
    assertEquals(ID, SessionName.of("", "", SessionName.whoamiQuery("/ws?whoami=++%20"), ID));
  }

  @Test
  void queryNameIsCutTo128BytesAtACharacterBoundary() {
    String name =
        SessionName.of(
            null, null, SessionName.whoamiQuery("/ws?whoami=" + "%C3%A9".repeat(100)), ID);
    assertEquals("é".repeat(64), name);
    assertEquals("a" + "é".repeat(63), SessionName.of(null, null, "a" + "é".repeat(100), ID));
  }
}

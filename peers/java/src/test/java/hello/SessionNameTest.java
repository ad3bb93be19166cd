package hello;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
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

  /** Found by the reference's fuzz target untrusted_name: 127 bytes, a space, then more. */
  @Test
  void aCutThatEndsInWhiteSpaceIsTrimmedAgain() {
    Map<String, String> cases =
        Map.of(
            "a".repeat(127) + " b", "a".repeat(127),
            "a".repeat(122) + "\u3000\u3000b", "a".repeat(122));
    cases.forEach(
        (raw, want) -> {
          assertEquals(want, SessionName.untrusted(raw));
          assertEquals(want, SessionName.of(raw, null, null, ID), "WhoAmI");
          assertEquals(want, SessionName.of(null, raw, null, ID), "userId");
          String query = "/ws?whoami=" + URLEncoder.encode(raw, StandardCharsets.UTF_8);
          assertEquals(want, SessionName.of(null, null, SessionName.whoamiQuery(query), ID));
        });
  }

  /** Rust's char::is_whitespace (Unicode's White_Space property), as rustc lists it. */
  @Test
  void whiteSpaceIsTheSetRustTrims() {
    Set<Integer> rust =
        new HashSet<>(List.of(0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000));
    IntStream.rangeClosed(0x09, 0x0D).forEach(rust::add);
    IntStream.rangeClosed(0x2000, 0x200A).forEach(rust::add);
    Matcher property = Pattern.compile("\\p{IsWhite_Space}").matcher("");
    List<String> wrong = new ArrayList<>();
    for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
      String ch = Character.toString(c);
      boolean white = rust.contains(c);
      // Trimming is tried on the BMP, where every White_Space character is, less the surrogates,
      // which no name decoded from UTF-8 has.
      boolean tried = c <= 0xFFFF && Character.getType(c) != Character.SURROGATE;
      String padded = ch + "x" + ch;
      if (SessionName.isWhiteSpace(c) != white
          || property.reset(ch).matches() != white
          || tried && !SessionName.untrusted(padded).equals(white ? "x" : padded)) {
        wrong.add(String.format("U+%04X", c));
      }
    }
    assertEquals(List.of(), wrong);
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

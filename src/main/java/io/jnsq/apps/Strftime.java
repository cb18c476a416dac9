package io.jnsq.apps;

import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.Locale;

/** The strftime conversions nsq_to_file's {@code -datetime-format} understands ({@code %Y-%m-%d_%H}). */
final class Strftime {
  private Strftime() {}

  static String format(String pattern, ZonedDateTime t) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < pattern.length(); i++) {
      char c = pattern.charAt(i);
      if (c != '%' || i + 1 == pattern.length()) {
        b.append(c);
        continue;
      }
      char f = pattern.charAt(++i);
      switch (f) {
        case 'Y': b.append(String.format("%04d", t.getYear())); break;
        case 'y': b.append(String.format("%02d", t.getYear() % 100)); break;
        case 'm': b.append(String.format("%02d", t.getMonthValue())); break;
        case 'd': b.append(String.format("%02d", t.getDayOfMonth())); break;
        case 'e': b.append(String.format("%2d", t.getDayOfMonth())); break;
        case 'H': b.append(String.format("%02d", t.getHour())); break;
        case 'I': b.append(String.format("%02d", t.getHour() % 12 == 0 ? 12 : t.getHour() % 12)); break;
        case 'M': b.append(String.format("%02d", t.getMinute())); break;
        case 'S': b.append(String.format("%02d", t.getSecond())); break;
        case 'j': b.append(String.format("%03d", t.getDayOfYear())); break;
        case 'p': b.append(t.getHour() < 12 ? "AM" : "PM"); break;
        case 'a': b.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ROOT)); break;
        case 'A': b.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ROOT)); break;
        case 'b': b.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ROOT)); break;
        case 'B': b.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ROOT)); break;
        case 'Z': b.append(t.getZone().getDisplayName(TextStyle.SHORT, Locale.ROOT)); break;
        case 's': b.append(t.toEpochSecond()); break;
        case '%': b.append('%'); break;
        default: b.append('%').append(f);
      }
    }
    return b.toString();
  }
}

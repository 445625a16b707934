import { afterEach, describe, expect, it } from 'vitest';
import { brokenDownTime, formatBrokenDownTime, strftime, zoneAbbreviation } from '../../src/log/strftime.js';

/**
 * Every expected string below is what glibc 2.36's strftime() returned for the
 * same format, zone and time (through Python's time.strftime, which calls it;
 * the generating script is in docs/logging.md). The formats cover every
 * conversion, the flags _ - 0 ^ #, widths, the E and O modifiers, and the
 * conversions glibc does not know, which it copies as written.
 */
const GLIBC: Array<{ zone: string; time: number; expected: Record<string, string> }> = [
  {
    zone: "UTC", time: 1795297022,
    expected: {
      "%a %A %b %B %h": "Sat Saturday Nov November Nov",
      "%c": "Sat Nov 21 21:37:02 2026",
      "%C %d %e %j %m %y %Y": "20 21 21 325 11 26 2026",
      "%D|%F|%R|%T|%r|%x|%X": "11/21/26|2026-11-21|21:37|21:37:02|09:37:02 PM|11/21/26|21:37:02",
      "%H %I %k %l %M %S %p %P": "21 09 21  9 37 02 PM pm",
      "%s": "1795297022",
      "%u %w %U %W %V %G %g": "6 6 46 46 47 2026 26",
      "%z %Z": "+0000 UTC",
      "%n%t%%": "\n\t%",
      "%-d %-m %-H %-j": "21 11 21 325",
      "%_d %_m %_H": "21 11 21",
      "%0e %0k": "21 21",
      "%5S %-5S %_5S": "00002     2     2",
      "%10a|%-10a|%010a": "       Sat|       Sat|0000000Sat",
      "%^a %^B %^c %^p %^P": "SAT NOVEMBER SAT NOV 21 21:37:02 2026 PM pm",
      "%#a %#b %#p %#Z": "SAT NOV pm utc",
      "%Ey %EY %Od %OH %Ec": "26 2026 21 21 Sat Nov 21 21:37:02 2026",
      "%EH %OY": "%EH %OY",
      "%Q %+ %:z %5Q %-Q": "%Q %+ %:z   %5Q %-Q",
      "100%": "100%",
      "%-": "%-",
      "%5%": "    %",
      "%3n|": "  \n|",
      "%b %d %H:%M:%S": "Nov 21 21:37:02",
    },
  },
  {
    zone: "UTC", time: 1609632000,
    expected: {
      "%a %A %b %B %h": "Sun Sunday Jan January Jan",
      "%c": "Sun Jan  3 00:00:00 2021",
      "%C %d %e %j %m %y %Y": "20 03  3 003 01 21 2021",
      "%D|%F|%R|%T|%r|%x|%X": "01/03/21|2021-01-03|00:00|00:00:00|12:00:00 AM|01/03/21|00:00:00",
      "%H %I %k %l %M %S %p %P": "00 12  0 12 00 00 AM am",
      "%s": "1609632000",
      "%u %w %U %W %V %G %g": "7 0 01 00 53 2020 20",
      "%z %Z": "+0000 UTC",
      "%n%t%%": "\n\t%",
      "%-d %-m %-H %-j": "3 1 0 3",
      "%_d %_m %_H": " 3  1  0",
      "%0e %0k": "03 00",
      "%5S %-5S %_5S": "00000     0     0",
      "%10a|%-10a|%010a": "       Sun|       Sun|0000000Sun",
      "%^a %^B %^c %^p %^P": "SUN JANUARY SUN JAN  3 00:00:00 2021 AM am",
      "%#a %#b %#p %#Z": "SUN JAN am utc",
      "%Ey %EY %Od %OH %Ec": "21 2021 03 00 Sun Jan  3 00:00:00 2021",
      "%EH %OY": "%EH %OY",
      "%Q %+ %:z %5Q %-Q": "%Q %+ %:z   %5Q %-Q",
      "100%": "100%",
      "%-": "%-",
      "%5%": "    %",
      "%3n|": "  \n|",
      "%b %d %H:%M:%S": "Jan 03 00:00:00",
    },
  },
  {
    zone: "UTC", time: 1230681600,
    expected: {
      "%a %A %b %B %h": "Wed Wednesday Dec December Dec",
      "%c": "Wed Dec 31 00:00:00 2008",
      "%C %d %e %j %m %y %Y": "20 31 31 366 12 08 2008",
      "%D|%F|%R|%T|%r|%x|%X": "12/31/08|2008-12-31|00:00|00:00:00|12:00:00 AM|12/31/08|00:00:00",
      "%H %I %k %l %M %S %p %P": "00 12  0 12 00 00 AM am",
      "%s": "1230681600",
      "%u %w %U %W %V %G %g": "3 3 52 52 01 2009 09",
      "%z %Z": "+0000 UTC",
      "%n%t%%": "\n\t%",
      "%-d %-m %-H %-j": "31 12 0 366",
      "%_d %_m %_H": "31 12  0",
      "%0e %0k": "31 00",
      "%5S %-5S %_5S": "00000     0     0",
      "%10a|%-10a|%010a": "       Wed|       Wed|0000000Wed",
      "%^a %^B %^c %^p %^P": "WED DECEMBER WED DEC 31 00:00:00 2008 AM am",
      "%#a %#b %#p %#Z": "WED DEC am utc",
      "%Ey %EY %Od %OH %Ec": "08 2008 31 00 Wed Dec 31 00:00:00 2008",
      "%EH %OY": "%EH %OY",
      "%Q %+ %:z %5Q %-Q": "%Q %+ %:z   %5Q %-Q",
      "100%": "100%",
      "%-": "%-",
      "%5%": "    %",
      "%3n|": "  \n|",
      "%b %d %H:%M:%S": "Dec 31 00:00:00",
    },
  },
  {
    zone: "Europe/Berlin", time: 1795297022,
    expected: {
      "%a %A %b %B %h": "Sat Saturday Nov November Nov",
      "%c": "Sat Nov 21 22:37:02 2026",
      "%C %d %e %j %m %y %Y": "20 21 21 325 11 26 2026",
      "%D|%F|%R|%T|%r|%x|%X": "11/21/26|2026-11-21|22:37|22:37:02|10:37:02 PM|11/21/26|22:37:02",
      "%H %I %k %l %M %S %p %P": "22 10 22 10 37 02 PM pm",
      "%s": "1795297022",
      "%u %w %U %W %V %G %g": "6 6 46 46 47 2026 26",
      "%z %Z": "+0100 CET",
      "%n%t%%": "\n\t%",
      "%-d %-m %-H %-j": "21 11 22 325",
      "%_d %_m %_H": "21 11 22",
      "%0e %0k": "21 22",
      "%5S %-5S %_5S": "00002     2     2",
      "%10a|%-10a|%010a": "       Sat|       Sat|0000000Sat",
      "%^a %^B %^c %^p %^P": "SAT NOVEMBER SAT NOV 21 22:37:02 2026 PM pm",
      "%#a %#b %#p %#Z": "SAT NOV pm cet",
      "%Ey %EY %Od %OH %Ec": "26 2026 21 22 Sat Nov 21 22:37:02 2026",
      "%EH %OY": "%EH %OY",
      "%Q %+ %:z %5Q %-Q": "%Q %+ %:z   %5Q %-Q",
      "100%": "100%",
      "%-": "%-",
      "%5%": "    %",
      "%3n|": "  \n|",
      "%b %d %H:%M:%S": "Nov 21 22:37:02",
    },
  },
  {
    zone: "Europe/Berlin", time: 1783000000,
    expected: {
      "%a %A %b %B %h": "Thu Thursday Jul July Jul",
      "%c": "Thu Jul  2 15:46:40 2026",
      "%C %d %e %j %m %y %Y": "20 02  2 183 07 26 2026",
      "%D|%F|%R|%T|%r|%x|%X": "07/02/26|2026-07-02|15:46|15:46:40|03:46:40 PM|07/02/26|15:46:40",
      "%H %I %k %l %M %S %p %P": "15 03 15  3 46 40 PM pm",
      "%s": "1783000000",
      "%u %w %U %W %V %G %g": "4 4 26 26 27 2026 26",
      "%z %Z": "+0200 CEST",
      "%n%t%%": "\n\t%",
      "%-d %-m %-H %-j": "2 7 15 183",
      "%_d %_m %_H": " 2  7 15",
      "%0e %0k": "02 15",
      "%5S %-5S %_5S": "00040    40    40",
      "%10a|%-10a|%010a": "       Thu|       Thu|0000000Thu",
      "%^a %^B %^c %^p %^P": "THU JULY THU JUL  2 15:46:40 2026 PM pm",
      "%#a %#b %#p %#Z": "THU JUL pm cest",
      "%Ey %EY %Od %OH %Ec": "26 2026 02 15 Thu Jul  2 15:46:40 2026",
      "%EH %OY": "%EH %OY",
      "%Q %+ %:z %5Q %-Q": "%Q %+ %:z   %5Q %-Q",
      "100%": "100%",
      "%-": "%-",
      "%5%": "    %",
      "%3n|": "  \n|",
      "%b %d %H:%M:%S": "Jul 02 15:46:40",
    },
  },
  {
    zone: "America/New_York", time: 1609459199,
    expected: {
      "%a %A %b %B %h": "Thu Thursday Dec December Dec",
      "%c": "Thu Dec 31 18:59:59 2020",
      "%C %d %e %j %m %y %Y": "20 31 31 366 12 20 2020",
      "%D|%F|%R|%T|%r|%x|%X": "12/31/20|2020-12-31|18:59|18:59:59|06:59:59 PM|12/31/20|18:59:59",
      "%H %I %k %l %M %S %p %P": "18 06 18  6 59 59 PM pm",
      "%s": "1609459199",
      "%u %w %U %W %V %G %g": "4 4 52 52 53 2020 20",
      "%z %Z": "-0500 EST",
      "%n%t%%": "\n\t%",
      "%-d %-m %-H %-j": "31 12 18 366",
      "%_d %_m %_H": "31 12 18",
      "%0e %0k": "31 18",
      "%5S %-5S %_5S": "00059    59    59",
      "%10a|%-10a|%010a": "       Thu|       Thu|0000000Thu",
      "%^a %^B %^c %^p %^P": "THU DECEMBER THU DEC 31 18:59:59 2020 PM pm",
      "%#a %#b %#p %#Z": "THU DEC pm est",
      "%Ey %EY %Od %OH %Ec": "20 2020 31 18 Thu Dec 31 18:59:59 2020",
      "%EH %OY": "%EH %OY",
      "%Q %+ %:z %5Q %-Q": "%Q %+ %:z   %5Q %-Q",
      "100%": "100%",
      "%-": "%-",
      "%5%": "    %",
      "%3n|": "  \n|",
      "%b %d %H:%M:%S": "Dec 31 18:59:59",
    },
  },
  {
    zone: "Asia/Kolkata", time: 1704067200,
    expected: {
      "%a %A %b %B %h": "Mon Monday Jan January Jan",
      "%c": "Mon Jan  1 05:30:00 2024",
      "%C %d %e %j %m %y %Y": "20 01  1 001 01 24 2024",
      "%D|%F|%R|%T|%r|%x|%X": "01/01/24|2024-01-01|05:30|05:30:00|05:30:00 AM|01/01/24|05:30:00",
      "%H %I %k %l %M %S %p %P": "05 05  5  5 30 00 AM am",
      "%s": "1704067200",
      "%u %w %U %W %V %G %g": "1 1 00 01 01 2024 24",
      "%z %Z": "+0530 IST",
      "%n%t%%": "\n\t%",
      "%-d %-m %-H %-j": "1 1 5 1",
      "%_d %_m %_H": " 1  1  5",
      "%0e %0k": "01 05",
      "%5S %-5S %_5S": "00000     0     0",
      "%10a|%-10a|%010a": "       Mon|       Mon|0000000Mon",
      "%^a %^B %^c %^p %^P": "MON JANUARY MON JAN  1 05:30:00 2024 AM am",
      "%#a %#b %#p %#Z": "MON JAN am ist",
      "%Ey %EY %Od %OH %Ec": "24 2024 01 05 Mon Jan  1 05:30:00 2024",
      "%EH %OY": "%EH %OY",
      "%Q %+ %:z %5Q %-Q": "%Q %+ %:z   %5Q %-Q",
      "100%": "100%",
      "%-": "%-",
      "%5%": "    %",
      "%3n|": "  \n|",
      "%b %d %H:%M:%S": "Jan 01 05:30:00",
    },
  },
  {
    zone: "America/St_Johns", time: 1783000000,
    expected: {
      "%a %A %b %B %h": "Thu Thursday Jul July Jul",
      "%c": "Thu Jul  2 11:16:40 2026",
      "%C %d %e %j %m %y %Y": "20 02  2 183 07 26 2026",
      "%D|%F|%R|%T|%r|%x|%X": "07/02/26|2026-07-02|11:16|11:16:40|11:16:40 AM|07/02/26|11:16:40",
      "%H %I %k %l %M %S %p %P": "11 11 11 11 16 40 AM am",
      "%s": "1783000000",
      "%u %w %U %W %V %G %g": "4 4 26 26 27 2026 26",
      "%z %Z": "-0230 NDT",
      "%n%t%%": "\n\t%",
      "%-d %-m %-H %-j": "2 7 11 183",
      "%_d %_m %_H": " 2  7 11",
      "%0e %0k": "02 11",
      "%5S %-5S %_5S": "00040    40    40",
      "%10a|%-10a|%010a": "       Thu|       Thu|0000000Thu",
      "%^a %^B %^c %^p %^P": "THU JULY THU JUL  2 11:16:40 2026 AM am",
      "%#a %#b %#p %#Z": "THU JUL am ndt",
      "%Ey %EY %Od %OH %Ec": "26 2026 02 11 Thu Jul  2 11:16:40 2026",
      "%EH %OY": "%EH %OY",
      "%Q %+ %:z %5Q %-Q": "%Q %+ %:z   %5Q %-Q",
      "100%": "100%",
      "%-": "%-",
      "%5%": "    %",
      "%3n|": "  \n|",
      "%b %d %H:%M:%S": "Jul 02 11:16:40",
    },
  },
];

describe('strftime matches glibc in the C locale', () => {
  for (const { zone, time, expected } of GLIBC) {
    for (const [format, output] of Object.entries(expected)) {
      it(`${JSON.stringify(format)} at ${time} in ${zone}`, () => {
        expect(strftime(format, new Date(time * 1000), { timeZone: zone })).toBe(output);
      });
    }
  }
});

describe('local time', () => {
  const saved = process.env['TZ'];
  afterEach(() => {
    if (saved === undefined) delete process.env['TZ'];
    else process.env['TZ'] = saved;
  });

  it('without a zone, the process time zone (TZ) is used, as localtime() does', () => {
    process.env['TZ'] = 'Europe/Berlin';
    const date = new Date(1795297022 * 1000);
    expect(strftime('%b %d %H:%M:%S %z %Z', date)).toBe('Nov 21 22:37:02 +0100 CET');
    process.env['TZ'] = 'America/New_York';
    expect(strftime('%b %d %H:%M:%S %z %Z', date)).toBe('Nov 21 16:37:02 -0500 EST');
  });

  it('a broken-down time in a zone agrees with the local one in the same zone', () => {
    process.env['TZ'] = 'Australia/Sydney';
    for (const t of [0, 1609632000, 1783000000, 1795297022]) {
      const date = new Date(t * 1000 + 999);
      expect(brokenDownTime(date, 'Australia/Sydney')).toEqual(brokenDownTime(date));
    }
  });
});

describe('details', () => {
  const tm = { year: 2026, month: 1, day: 4, hour: 0, minute: 5, second: 6, weekday: 0, yearDay: 3, offsetMinutes: 330, zoneName: 'IST', epochSeconds: 1 };

  it('formats a broken-down time without any zone lookup', () => {
    expect(formatBrokenDownTime('%a %e %I:%M %p %z %Z %j', tm)).toBe('Sun  4 12:05 AM +0530 IST 004');
  });

  it('midnight and noon on the 12-hour clock', () => {
    expect(formatBrokenDownTime('%I %l %p', { ...tm, hour: 0 })).toBe('12 12 AM');
    expect(formatBrokenDownTime('%I %l %p', { ...tm, hour: 12 })).toBe('12 12 PM');
  });

  it('a format with nothing to convert is returned as it is; an empty one is empty', () => {
    expect(formatBrokenDownTime('plain text', tm)).toBe('plain text');
    expect(formatBrokenDownTime('', tm)).toBe('');
  });

  it('negative epoch seconds keep their sign', () => {
    expect(strftime('%s', new Date(-1500), { timeZone: 'UTC' })).toBe('-2');
  });

  it('zones without an abbreviation get tzdata-style offsets', () => {
    const date = new Date(1795297022 * 1000);
    expect(zoneAbbreviation(date, 'Asia/Dubai', 240)).toBe('+04');
    expect(zoneAbbreviation(date, 'Asia/Kathmandu', 345)).toBe('+0545');
    expect(zoneAbbreviation(date, 'America/Sao_Paulo', -180)).toBe('-03');
    expect(zoneAbbreviation(date, 'Asia/Tokyo', 540)).toBe('JST');
    expect(zoneAbbreviation(date, 'Europe/London', 0)).toBe('GMT');
    expect(zoneAbbreviation(new Date(1783000000 * 1000), 'Europe/London', 60)).toBe('BST');
  });
});

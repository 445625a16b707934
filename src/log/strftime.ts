/**
 * strftime(3) as glibc does it in the C locale, for `logfile_time_format`.
 *
 * Conversions: %a %A %b %B %c %C %d %D %e %F %g %G %h %H %I %j %k %l %m %M %n
 * %p %P %r %R %s %S %t %T %u %U %V %w %W %x %X %y %Y %z %Z %%, with glibc's
 * flags (`_` pad with spaces, `-` do not pad, `0` pad with zeros, `^` upper
 * case, `#` swap case), a field width, and the `E`/`O` modifiers (which change
 * nothing in the C locale). Anything else is copied as written, as glibc does.
 *
 * Checked against glibc 2.36 (through Python's time.strftime and msmtp's own
 * log lines); the expected values in test/unit/log-strftime.test.ts come from
 * there. The one approximation is %Z, the zone abbreviation: JavaScript has no
 * tzdata abbreviations, so it is taken from Intl (see zoneAbbreviation()).
 */

/** The fields of `struct tm` that the conversions need. */
export interface BrokenDownTime {
  readonly year: number;
  /** 1–12. */
  readonly month: number;
  /** 1–31. */
  readonly day: number;
  /** 0–23. */
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** 0 = Sunday. */
  readonly weekday: number;
  /** 0–365. */
  readonly yearDay: number;
  /** Minutes east of UTC (tm_gmtoff / 60). */
  readonly offsetMinutes: number;
  /** The zone abbreviation for %Z. */
  readonly zoneName: string;
  /** Seconds since the epoch, for %s. */
  readonly epochSeconds: number;
}

export interface StrftimeOptions {
  /** An IANA zone name; the process's local time zone (TZ) when absent. */
  readonly timeZone?: string;
}

/** `strftime(format, localtime(date))`; with `timeZone`, in that zone instead. */
export function strftime(format: string, date: Date, options: StrftimeOptions = {}): string {
  return formatBrokenDownTime(format, brokenDownTime(date, options.timeZone));
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
] as const;

const C_LOCALE_FORMATS: Readonly<Record<string, string>> = {
  c: '%a %b %e %H:%M:%S %Y',
  D: '%m/%d/%y',
  F: '%Y-%m-%d',
  r: '%I:%M:%S %p',
  R: '%H:%M',
  T: '%H:%M:%S',
  x: '%m/%d/%y',
  X: '%H:%M:%S',
};

/** Conversions that accept the E modifier, and those that accept O (glibc's rules). */
const E_ALLOWED = new Set('cCxXyY');
const O_ALLOWED = new Set('deHIklmMSuUVwWy');

type Conversion =
  | { kind: 'number'; digits: number; value: number; spacePad?: boolean }
  | { kind: 'text'; text: string; hashMeans?: 'upper' | 'lower'; alwaysLower?: boolean }
  | { kind: 'composite'; format: string };

/** The formatting itself, on an already broken-down time: pure and zone-free. */
export function formatBrokenDownTime(format: string, tm: BrokenDownTime): string {
  let out = '';
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    const start = i;
    i++;
    let pad = '';
    let upper = false;
    let swap = false;
    for (; i < format.length; i++) {
      const f = format[i]!;
      if (f === '_' || f === '-' || f === '0' || f === '+') pad = f === '+' ? '0' : f;
      else if (f === '^') upper = true;
      else if (f === '#') swap = true;
      else break;
    }
    let width = -1;
    while (i < format.length && isDigit(format[i]!)) {
      width = Math.max(width, 0) * 10 + Number(format[i]);
      i++;
    }
    let modifier = '';
    if (format[i] === 'E' || format[i] === 'O') modifier = format[i++]!;
    if (i >= format.length) {
      // A '%' (with whatever flags and width followed it) at the end: copied as written.
      out += widen(format.slice(start), width, pad);
      break;
    }
    const conv = format[i]!;
    i++;
    const allowed = modifier === '' || (modifier === 'E' ? E_ALLOWED : O_ALLOWED).has(conv);
    const conversion = allowed ? convert(conv, tm) : undefined;
    if (!conversion) {
      out += widen(format.slice(start, i), width, pad);
      continue;
    }
    switch (conversion.kind) {
      case 'number':
        out += formatNumber(conversion, width, pad);
        break;
      case 'text': {
        let text = conversion.text;
        if (conversion.alwaysLower || (swap && conversion.hashMeans === 'lower')) text = text.toLowerCase();
        else if (upper || (swap && conversion.hashMeans === 'upper')) text = text.toUpperCase();
        out += widen(text, width, pad);
        break;
      }
      case 'composite': {
        const text = formatBrokenDownTime(conversion.format, tm);
        out += widen(upper ? text.toUpperCase() : text, width, pad);
        break;
      }
    }
  }
  return out;
}

function convert(conv: string, tm: BrokenDownTime): Conversion | undefined {
  const hour12 = tm.hour % 12 === 0 ? 12 : tm.hour % 12;
  switch (conv) {
    case 'a': return { kind: 'text', text: DAYS[tm.weekday]!.slice(0, 3), hashMeans: 'upper' };
    case 'A': return { kind: 'text', text: DAYS[tm.weekday]!, hashMeans: 'upper' };
    case 'b':
    case 'h': return { kind: 'text', text: MONTHS[tm.month - 1]!.slice(0, 3), hashMeans: 'upper' };
    case 'B': return { kind: 'text', text: MONTHS[tm.month - 1]!, hashMeans: 'upper' };
    case 'C': return { kind: 'number', digits: 2, value: Math.floor(tm.year / 100) };
    case 'd': return { kind: 'number', digits: 2, value: tm.day };
    case 'e': return { kind: 'number', digits: 2, value: tm.day, spacePad: true };
    case 'g': return { kind: 'number', digits: 2, value: mod(isoWeek(tm).year, 100) };
    case 'G': return { kind: 'number', digits: 4, value: isoWeek(tm).year };
    case 'H': return { kind: 'number', digits: 2, value: tm.hour };
    case 'I': return { kind: 'number', digits: 2, value: hour12 };
    case 'j': return { kind: 'number', digits: 3, value: tm.yearDay + 1 };
    case 'k': return { kind: 'number', digits: 2, value: tm.hour, spacePad: true };
    case 'l': return { kind: 'number', digits: 2, value: hour12, spacePad: true };
    case 'm': return { kind: 'number', digits: 2, value: tm.month };
    case 'M': return { kind: 'number', digits: 2, value: tm.minute };
    case 'n': return { kind: 'text', text: '\n' };
    case 'p': return { kind: 'text', text: tm.hour < 12 ? 'AM' : 'PM', hashMeans: 'lower' };
    case 'P': return { kind: 'text', text: tm.hour < 12 ? 'am' : 'pm', alwaysLower: true };
    case 's': return { kind: 'number', digits: 1, value: tm.epochSeconds };
    case 'S': return { kind: 'number', digits: 2, value: tm.second };
    case 't': return { kind: 'text', text: '\t' };
    case 'u': return { kind: 'number', digits: 1, value: tm.weekday === 0 ? 7 : tm.weekday };
    case 'U': return { kind: 'number', digits: 2, value: Math.floor((tm.yearDay + 7 - tm.weekday) / 7) };
    case 'V': return { kind: 'number', digits: 2, value: isoWeek(tm).week };
    case 'w': return { kind: 'number', digits: 1, value: tm.weekday };
    case 'W': return { kind: 'number', digits: 2, value: Math.floor((tm.yearDay + 7 - ((tm.weekday + 6) % 7)) / 7) };
    case 'y': return { kind: 'number', digits: 2, value: mod(tm.year, 100) };
    case 'Y': return { kind: 'number', digits: 4, value: tm.year };
    case 'z': {
      const abs = Math.abs(tm.offsetMinutes);
      const hhmm = Math.floor(abs / 60) * 100 + (abs % 60);
      return { kind: 'text', text: `${tm.offsetMinutes < 0 ? '-' : '+'}${String(hhmm).padStart(4, '0')}` };
    }
    case 'Z': return { kind: 'text', text: tm.zoneName, hashMeans: 'lower' };
    case '%': return { kind: 'text', text: '%' };
    default: {
      const composite = C_LOCALE_FORMATS[conv];
      return composite === undefined ? undefined : { kind: 'composite', format: composite };
    }
  }
}

/** glibc's DO_NUMBER: a width widens the number's own padding; `-` drops it, `_` uses spaces. */
function formatNumber(conversion: { digits: number; value: number; spacePad?: boolean }, width: number, flag: string): string {
  const pad = flag === '' && conversion.spacePad ? '_' : flag;
  const digits = Math.max(conversion.digits, width);
  const negative = conversion.value < 0;
  let text = String(Math.abs(conversion.value));
  if (pad !== '-') {
    const room = digits - text.length - (negative ? 1 : 0);
    if (room > 0) {
      if (pad === '_') return widen(' '.repeat(room) + (negative ? '-' : '') + text, width, pad);
      text = '0'.repeat(room) + text;
    }
  }
  return widen((negative ? '-' : '') + text, width, pad);
}

/** glibc's add(): a field narrower than the width is padded on the left, with zeros under the `0` flag. */
function widen(text: string, width: number, pad: string): string {
  return text.length >= width ? text : (pad === '0' ? '0' : ' ').repeat(width - text.length) + text;
}

function isoWeek(tm: BrokenDownTime): { year: number; week: number } {
  // ISO 8601: weeks start on Monday; week 1 holds the year's first Thursday.
  const isoWeekday = (tm.weekday + 6) % 7; // 0 = Monday
  const thursdayYearDay = tm.yearDay - isoWeekday + 3;
  if (thursdayYearDay < 0) {
    const previous = tm.year - 1;
    return { year: previous, week: Math.floor((thursdayYearDay + daysInYear(previous)) / 7) + 1 };
  }
  if (thursdayYearDay >= daysInYear(tm.year)) return { year: tm.year + 1, week: 1 };
  return { year: tm.year, week: Math.floor(thursdayYearDay / 7) + 1 };
}

function daysInYear(year: number): number {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 366 : 365;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/* ---- Breaking a Date down, in local time or in a named zone ---- */

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

/** `localtime(date)`, or the same in `timeZone`. */
export function brokenDownTime(date: Date, timeZone?: string): BrokenDownTime {
  const ms = date.getTime();
  const epochSeconds = Math.floor(ms / 1000);
  if (timeZone === undefined) {
    const year = date.getFullYear();
    const month = date.getMonth() + 1;
    const day = date.getDate();
    const offsetMinutes = -date.getTimezoneOffset();
    return {
      year, month, day,
      hour: date.getHours(), minute: date.getMinutes(), second: date.getSeconds(),
      weekday: date.getDay(), yearDay: dayOfYear(year, month, day),
      offsetMinutes, zoneName: zoneAbbreviation(date, localTimeZone(), offsetMinutes), epochSeconds,
    };
  }
  let formatter = partsFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short',
    });
    partsFormatters.set(timeZone, formatter);
  }
  const parts: Record<string, string> = {};
  for (const part of formatter.formatToParts(date)) parts[part.type] = part.value;
  const yearOfEra = Number(parts['year']);
  const year = parts['era'] === 'BC' ? 1 - yearOfEra : yearOfEra;
  const month = Number(parts['month']);
  const day = Number(parts['day']);
  const hour = Number(parts['hour']);
  const minute = Number(parts['minute']);
  const second = Number(parts['second']);
  const asUtc = utcMs(year, month, day, hour, minute, second);
  const offsetMinutes = Math.round((asUtc - (ms - mod(ms, 1000))) / 60_000);
  return {
    year, month, day, hour, minute, second,
    weekday: new Date(utcMs(year, month, day, 0, 0, 0)).getUTCDay(),
    yearDay: dayOfYear(year, month, day),
    offsetMinutes, zoneName: zoneAbbreviation(date, timeZone, offsetMinutes), epochSeconds,
  };
}

function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

function dayOfYear(year: number, month: number, day: number): number {
  return Math.round((utcMs(year, month, day, 0, 0, 0) - utcMs(year, 1, 1, 0, 0, 0)) / 86_400_000);
}

function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * English locales whose CLDR data has the abbreviations tzdata uses: en-US
 * knows the American ones, en-150 (English in Europe) the European ones,
 * en-GB adds BST, and a few regional locales the rest of what CLDR has.
 */
const REGION_LOCALES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^(Europe|Africa|Asia|Atlantic|Arctic)\/|^(GB|GB-Eire|Eire|Portugal|Poland|Turkey|WET|CET|MET|EET|Iceland|Egypt|Libya|Israel)$/, 'en-150'],
  [/^(Europe\/|GB|GB-Eire|Eire)/, 'en-GB'],
  [/^(Africa|Indian)\//, 'en-ZA'],
  [/^(America|Canada)\//, 'en-CA'],
  [/^Australia\/(?!Eucla|Lord_Howe|LHI)/, 'en-AU'],
  [/^(Pacific\/Auckland|Antarctica\/McMurdo|Antarctica\/South_Pole|NZ)$/, 'en-NZ'],
  [/^Asia\/(Kolkata|Calcutta)$/, 'en-IN'],
];
/** tzdata's names for a few populous zones without daylight saving time that no English locale names. */
const FIXED_ABBREVIATIONS: Readonly<Record<string, string>> = {
  'Asia/Tokyo': 'JST', Japan: 'JST', 'Asia/Seoul': 'KST', ROK: 'KST', 'Asia/Shanghai': 'CST', PRC: 'CST',
  'Asia/Taipei': 'CST', ROC: 'CST', 'Asia/Hong_Kong': 'HKT', Hongkong: 'HKT', 'Asia/Karachi': 'PKT',
  'Asia/Jakarta': 'WIB', 'Asia/Manila': 'PST', 'Europe/Moscow': 'MSK', 'W-SU': 'MSK', 'Europe/Kirov': 'MSK',
  'Europe/Simferopol': 'MSK', 'Europe/Volgograd': 'MSK',
};
const abbreviationFormatters = new Map<string, Intl.DateTimeFormat>();

/**
 * %Z. glibc prints tzdata's abbreviation ("CET", "EST", "IST", "+04"). Intl
 * knows the common ones only per locale, so this asks en-US and then the
 * English locales of the zone's region; when none has a name, it writes the
 * offset the way tzdata does for zones without one ("+04", "-03", "+0545").
 * Against glibc and every zone Intl knows, at two dates (winter and summer),
 * this gives tzdata's abbreviation for all but about 5% of the zones (Israel,
 * Ireland's summer time, Guam, Samoa, some of Indonesia and Mexico, …).
 */
export function zoneAbbreviation(date: Date, timeZone: string, offsetMinutes: number): string {
  const fixed = FIXED_ABBREVIATIONS[timeZone];
  if (fixed !== undefined) return fixed;
  const locales = ['en-US'];
  for (const [pattern, locale] of REGION_LOCALES) if (pattern.test(timeZone)) locales.push(locale);
  for (const locale of locales) {
    const key = `${locale} ${timeZone}`;
    let formatter = abbreviationFormatters.get(key);
    if (!formatter) {
      try {
        formatter = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' });
      } catch {
        break;
      }
      abbreviationFormatters.set(key, formatter);
    }
    const name = formatter.formatToParts(date).find((part) => part.type === 'timeZoneName')?.value ?? '';
    if (/^[A-Z]{2,6}$/.test(name)) return name;
  }
  const abs = Math.abs(offsetMinutes);
  const hours = String(Math.floor(abs / 60)).padStart(2, '0');
  const minutes = abs % 60 === 0 ? '' : String(abs % 60).padStart(2, '0');
  return `${offsetMinutes < 0 ? '-' : '+'}${hours}${minutes}`;
}

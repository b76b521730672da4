/** The hour of the day (0–23) of an instant in a time zone; formatters are built once per zone. */
const formatters = new Map<string, Intl.DateTimeFormat>();

export function hourOfDay(at: number, timeZone: string | undefined): number {
  const zone = timeZone ?? '';
  let format = formatters.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      hour: 'numeric',
      hourCycle: 'h23',
      ...(timeZone === undefined ? {} : { timeZone }),
    });
    formatters.set(zone, format);
  }
  return Number(format.formatToParts(at).find((part) => part.type === 'hour')?.value ?? 0) % 24;
}

/** True when `timeZone` is a zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

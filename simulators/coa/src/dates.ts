/**
 * Calendar dates as whole days since 1970-01-01 (UTC), so date arithmetic never meets time
 * zones or daylight saving.
 */

const MS_PER_DAY = 86_400_000;

export function isoToDay(iso: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new RangeError(`'${iso}' is not an ISO date (jjjj-mm-dd)`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) {
    throw new RangeError(`'${iso}' is not a calendar date`);
  }
  return ms / MS_PER_DAY;
}

export function dayToIso(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(day: number): number {
  return new Date(day * MS_PER_DAY).getUTCDay();
}

/** COA and the IND work on weekdays: a Saturday or Sunday moves on to the Monday. */
export function nextWorkday(day: number): number {
  const wd = weekday(day);
  return wd === 6 ? day + 2 : wd === 0 ? day + 1 : day;
}

/** A Saturday or Sunday moves back to the Friday. */
export function previousWorkday(day: number): number {
  const wd = weekday(day);
  return wd === 6 ? day - 1 : wd === 0 ? day - 2 : day;
}

/** The same calendar day `years` earlier (29 February falls on 1 March). */
export function yearsBefore(day: number, years: number): number {
  const d = new Date(day * MS_PER_DAY);
  return Date.UTC(d.getUTCFullYear() - years, d.getUTCMonth(), d.getUTCDate()) / MS_PER_DAY;
}

/** Age in completed years on `on`. */
export function ageOn(birthDay: number, on: number): number {
  const b = new Date(birthDay * MS_PER_DAY);
  const o = new Date(on * MS_PER_DAY);
  let age = o.getUTCFullYear() - b.getUTCFullYear();
  if (
    o.getUTCMonth() < b.getUTCMonth() ||
    (o.getUTCMonth() === b.getUTCMonth() && o.getUTCDate() < b.getUTCDate())
  ) {
    age -= 1;
  }
  return age;
}

/** jjjj-mm-dd → dd-mm-jjjj, the way TVS exports dates. */
export function toDutchDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new RangeError(`'${iso}' is not an ISO date (jjjj-mm-dd)`);
  return `${m[3]}-${m[2]}-${m[1]}`;
}

/**
 * The keys the SQLite racer processes (`sqlite-racer.ts`) and their test
 * (`sqlite-processes.test.ts`) share.
 *
 * @module
 */

/** Keys of round `r` of a race, shared by every racer (the test uses the same). */
export const raceKeys = (race: string, r: number) => ({
  tag: `${race}-${r}`,
  record: `lm:{${race}-${r}}:s:shared`,
  mine: (racer: string) => `lm:{${race}-${r}}:s:${racer}`,
  index: `lm:{${race}-${r}}:idx`,
})

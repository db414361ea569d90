/**
 * `--spacing z,y,x` (µm), the scan's voxel size given on the command line, as `petromap import`,
 * `info` and `run` take it: one declaration (the parser checks it before any work) and one note for a
 * size in another unit. Kept apart from import.ts, which loads the importers, so that `run` can check
 * its options before anything slow is loaded.
 */

/** The option as lib/cli/args declares it: three positive numbers z,y,x. */
export const SPACING_OPTION = { kind: 'triple' } as const;

/**
 * A --spacing outside 0.01 µm – 1 mm is almost always a unit mix-up (the size in mm typed as it is:
 * 0.002 for 2 µm), said as a note (the import goes on). Before, only a size read from the file was
 * checked so; a typed one went into the store without a word. `again` is what the user does next
 * (`petromap run` says "run again").
 */
export function givenSpacingNote(um: readonly number[], again = 'import again'): string | undefined {
  const big = Math.max(...um) > 1000, small = Math.min(...um) < 0.01;
  if (!big && !small) return undefined;
  return `--spacing ${um.join(',')} is read in µm: ${big ? 'larger than 1 mm' : 'smaller than 0.01 µm'}, unusual for XRM or micro-CT. ` +
    `If it is in ${big ? 'nm' : 'mm'}, ${again} with --spacing ${um.map((v) => +(big ? v / 1000 : v * 1000).toPrecision(6)).join(',')} (µm).`;
}

/**
 * Ground-truth class codes of the synthetic sandstone and the default mineral classes.
 * 0 is reserved for "no label" / air everywhere a label volume is stored.
 */
export const SANDSTONE_CLASSES = [
  { code: 0, name: 'air', color: [0, 0, 0] },
  { code: 1, name: 'pore', color: [40, 40, 160] },
  { code: 2, name: 'quartz', color: [230, 230, 200] },
  { code: 3, name: 'feldspar', color: [230, 140, 160] },
  { code: 4, name: 'clay', color: [120, 170, 90] },
  { code: 5, name: 'pyrite', color: [240, 200, 30] },
] as const satisfies readonly { code: number; name: string; color: [number, number, number] }[];

export type SandstoneClassName = (typeof SANDSTONE_CLASSES)[number]['name'];

/**
 * The default class of a legend mineral, from its name: pore, quartz, feldspar, clay or pyrite
 * (codes of SANDSTONE_CLASSES); null = left out of training. XRM grey values cannot tell
 * K-feldspar from albite or kaolinite from illite, so those merge into one class each. The web
 * app's class table and `petromap run`/`train` without --classes both start from this.
 */
export function defaultClassFor(name: string): number | null {
  const n = name.toLowerCase();
  if (/pore|epoxy|resin|void|air|background/.test(n)) return 1; // "Background": the resin below the BSE threshold (lib/eds/legend.ts)
  if (/quartz|chert|silica/.test(n)) return 2;
  if (/feldspar|albite|orthoclase|microcline|plagioclase|anorthite|sanidine|oligoclase|andesine/.test(n)) return 3;
  if (/clay|kaolin|illite|smectite|montmorillonite|chlorite|glauconite|mixed.?layer/.test(n)) return 4;
  if (/pyrite|marcasite/.test(n)) return 5;
  return null;
}

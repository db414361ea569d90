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

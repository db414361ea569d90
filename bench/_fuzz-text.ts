/**
 * The fuzzer's text mutation operators (bench/fuzz.ts): header lines of NRRD and MHA files, legend
 * rows, XML values and elements (TIMA), JSON metadata values (zarr.json).
 */
import { bitFlips } from './_fuzz-binary';
import type { Mutation, Rng } from './_fuzz-seeds';

// --- text: header lines (NRRD, MHA), legend rows, XML values

const HOSTILE_VALUES = [
  '0', '-1', '-4096', '1e308', 'NaN', 'Infinity', '-0', '0.0000001', '4294967296', '2147483648', '18446744073709551616',
  '1000000 1000000 1000000', '65535 65535 65535', '40000 40000 40000', '0 0 0', '1 1', '1 1 1 1 1 1 1', '8 6 4 1000',
  '../../etc/passwd', '/etc/passwd', '..', '.', 'C:\\Windows\\win.ini', 'LIST', 'scan.raw\u0000.png', '%s%n',
  'x'.repeat(5000), '', ' ', '"', '#000000', '#zzzzzz', '256', '-255', '1.5', 'gzip', 'bzip2', 'bz2', 'zstd',
  'MET_DOUBLE', 'MET_STRING', 'float64', 'block', 'big', 'True', '<a>', '&xxe;', ']]>', 'ÿÿ', '\u202e',
];
const HOSTILE_LINES = [
  'data file: ../../etc/passwd', 'data file: /etc/passwd', 'data file: LIST', 'data file: scan%03d.raw 0 1000000 1',
  'byte skip: -1', 'byte skip: 99999999999', 'line skip: 1000000000', 'encoding: gzip', 'encoding: bzip2',
  'sizes: 1000000 1000000 1000000', 'dimension: 4', 'type: double', 'endian: big', 'space directions: (1e308,0,0) (0,0,0) (0,0,NaN)',
  'ElementDataFile = ../../etc/passwd', 'HeaderSize = -1', 'HeaderSize = 99999999999', 'CompressedData = True', 'CompressedDataSize = 99999999999',
  'ElementNumberOfChannels = 1000000', 'DimSize = 1000000 1000000 1000000', 'NDims = 100', 'ElementType = MET_DOUBLE', 'BinaryDataByteOrderMSB = True',
  'x'.repeat(100_000),
];

/** End of the text header in a header + binary file (NRRD: the blank line; MHA: the ElementDataFile line). */
function headerEnd(b: Buffer): number {
  const s = b.toString('latin1', 0, Math.min(b.length, 65536));
  const blank = s.indexOf('\n\n');
  if (blank >= 0) return blank + 1;
  const m = /ElementDataFile\s*=[^\n]*\n/.exec(s);
  if (m) return m.index + m[0].length;
  return b.length;
}

export function headerLines(src: Buffer, rng: Rng): Mutation {
  const end = headerEnd(src);
  const lines = src.toString('latin1', 0, end).replace(/\n$/, '').split('\n');
  const tail = src.subarray(end);
  const op = rng.int(5);
  let desc: string;
  if (op <= 1) {
    const candidates = lines.map((l, i) => [l, i] as const).filter(([l]) => /[:=]/.test(l));
    if (!candidates.length) return bitFlips(src, rng);
    const [line, i] = rng.pick(candidates);
    const sep = line.includes(':=') ? ':=' : line.includes(':') ? ':' : '=';
    const key = line.slice(0, line.indexOf(sep));
    const v = rng.pick(HOSTILE_VALUES);
    lines[i] = `${key}${sep} ${v}`;
    desc = `header "${key.trim()}" := ${JSON.stringify(v.length > 40 ? v.slice(0, 12) + `…(${v.length})` : v)}`;
  } else if (op === 2) {
    const l = rng.pick(HOSTILE_LINES);
    const i = 1 + rng.int(Math.max(1, lines.length - 1));
    lines.splice(i, 0, l);
    desc = `header line inserted at ${i}: ${JSON.stringify(l.length > 60 ? l.slice(0, 12) + `…(${l.length})` : l)}`;
  } else if (op === 3) {
    const i = rng.int(lines.length);
    desc = `header line ${i} (${JSON.stringify(lines[i]!.slice(0, 30))}) removed`;
    lines.splice(i, 1);
  } else {
    const i = rng.int(lines.length);
    const k = rng.pick([2, 1000]);
    desc = `header line ${i} (${JSON.stringify(lines[i]!.slice(0, 30))}) repeated ${k}x`;
    lines.splice(i, 0, ...Array.from({ length: k - 1 }, () => lines[i]!));
  }
  return { bytes: Buffer.concat([Buffer.from(lines.join('\n') + '\n', 'latin1'), tail]), desc };
}

export function csvRows(src: Buffer, rng: Rng): Mutation {
  const rows = src.toString('utf8').replace(/\n$/, '').split('\n');
  const op = rng.int(4);
  let desc: string;
  if (op <= 1) {
    const i = rng.int(rows.length);
    const cells = rows[i]!.split(',');
    const j = rng.int(cells.length + 1);
    const v = rng.pick(HOSTILE_VALUES);
    cells[j] = v;
    rows[i] = cells.join(',');
    desc = `legend row ${i} cell ${j} := ${JSON.stringify(v.length > 40 ? v.slice(0, 12) + `…(${v.length})` : v)}`;
  } else if (op === 2) {
    const i = rng.int(rows.length);
    const k = rng.pick([2, 999, 1001, 5000]);
    rows.splice(i, 0, ...Array.from({ length: k - 1 }, () => rows[i]!));
    desc = `legend row ${i} repeated ${k}x`;
  } else {
    const i = rng.int(rows.length);
    const sep = rng.pick([';', '\t', '\r\n', ',,', '']);
    rows[i] = rows[i]!.split(',').join(sep);
    desc = `legend row ${i} separators -> ${JSON.stringify(sep)}`;
  }
  return { bytes: Buffer.from(rows.join('\n') + '\n'), desc };
}

export function xmlValues(src: Buffer, rng: Rng): Mutation {
  const s = src.toString('utf8');
  const spots: [number, number][] = [];
  for (const m of s.matchAll(/="([^"]*)"/g)) spots.push([m.index! + 2, m.index! + 2 + m[1]!.length]);
  for (const m of s.matchAll(/>([^<]+)</g)) spots.push([m.index! + 1, m.index! + 1 + m[1]!.length]);
  const op = rng.int(4);
  if (op <= 2 && spots.length) {
    const [a, z] = rng.pick(spots);
    const v = rng.pick(HOSTILE_VALUES);
    return { bytes: Buffer.from(s.slice(0, a) + v + s.slice(z)), desc: `xml value ${JSON.stringify(s.slice(a, z).slice(0, 30))} at ${a} := ${JSON.stringify(v.length > 40 ? v.slice(0, 12) + `…(${v.length})` : v)}` };
  }
  const els = [...s.matchAll(/<([A-Za-z]+)[^<>]*\/>|<([A-Za-z]+)[^<>]*>[^<]*<\/\2>/g)];
  if (!els.length) return bitFlips(src, rng);
  const m = rng.pick(els);
  const k = rng.pick([2, 100, 20_000]);
  const at = m.index! + m[0].length;
  return { bytes: Buffer.from(s.slice(0, at) + m[0].repeat(k - 1) + s.slice(at)), desc: `xml element ${JSON.stringify(m[0].slice(0, 30))} repeated ${k}x` };
}

/** JSON metadata (zarr.json): a number or string value replaced by an extreme or wrong-typed one. */
const JSON_VALUES = ['0', '-1', '1', '4096', '2147483648', '9007199254740993', '1e308', '"x"', 'null', '[]', '{}', '"big"', '"sharding_indexed"', '"../../etc"'];
export function jsonValues(src: Buffer, rng: Rng): Mutation {
  let doc: unknown;
  try {
    doc = JSON.parse(src.toString('utf8'));
  } catch {
    return bitFlips(src, rng);
  }
  // every leaf (number, string, boolean, null) with its parent and key, in document order
  const leaves: { parent: Record<string, unknown> | unknown[]; key: string | number; path: string }[] = [];
  const walk = (v: unknown, path: string) => {
    if (v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      const key = Array.isArray(v) ? Number(k) : k;
      if (x !== null && typeof x === 'object') walk(x, `${path}/${k}`);
      else leaves.push({ parent: v as Record<string, unknown>, key, path: `${path}/${k}` });
    }
  };
  walk(doc, '');
  if (!leaves.length) return bitFlips(src, rng);
  const leaf = rng.pick(leaves);
  const v = rng.pick(JSON_VALUES);
  (leaf.parent as Record<string | number, unknown>)[leaf.key] = JSON.parse(v);
  return { bytes: Buffer.from(JSON.stringify(doc, null, 2)), desc: `json ${leaf.path.slice(0, 60)} := ${v}` };
}

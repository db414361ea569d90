/**
 * A zod input error in the words a mineralogist reads: each problem's field and what is wrong
 * ("Epochs: must be at least 1."), not zod's JSON issue array. A message written in the schema
 * (`.min(1, 'Give the project a name.')`) is kept as written; zod's own default wording is
 * rephrased from the issue's fields. Used by server/trpc.ts for every procedure's input.
 */
import type { z } from 'zod';

export type InputIssue = { path: (string | number)[]; field: string; message: string };

/** shown at most; the rest are counted */
const MAX_SHOWN = 4;

/** zod 4's default (locale) messages start with one of these; anything else was written in a schema */
const DEFAULT_MESSAGE = /^(Too small:|Too big:|Invalid |Unrecognized keys?:)/;

/**
 * Keys whose plain words are not their camelCase split: abbreviations and units a mineralogist
 * would not read out of `fovZ` or `pixelUm` ("Fov z", "Pixel um").
 */
const FIELD_WORDS: Record<string, string> = {
  fovZ: 'field of view in z (µm)',
  fovY: 'field of view in y (µm)',
  fovX: 'field of view in x (µm)',
  fovUm: 'field of view (µm)',
  pixelUm: 'pixel size (µm)',
  sigmaUm: 'scale (µm)',
  spacing: 'voxel size',
  hidden: 'hidden layers',
  specs: 'features',
  eds: 'EDS map',
};

/** unit suffixes of keys: `angleDeg` → `angle (°)`, `misfitVox` → `misfit (voxels)` */
const UNIT_WORDS: Record<string, string> = { um: 'µm', deg: '°', px: 'px', vox: 'voxels', mm: 'mm' };

function keyWords(key: string): string {
  if (FIELD_WORDS[key]) return FIELD_WORDS[key];
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase().split(' ').filter(Boolean);
  const last = words[words.length - 1];
  const unit = words.length > 1 && last ? UNIT_WORDS[last] : undefined;
  if (unit) words.pop();
  const s = words.map((w) => (w === 'fov' ? 'field of view' : w === 'eds' ? 'EDS' : w)).join(' ');
  return unit ? `${s} (${unit})` : s;
}

/** `projectId` → `project id`, `fovZ` → `field of view in z (µm)`, `classMap[2].code` → `class map, item 3, code` */
export function fieldName(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'The request';
  const words = path.map((p) => (typeof p === 'number' ? `item ${p + 1}` : keyWords(String(p))));
  const s = words.join(', ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** the value at `path` in `input`, undefined where any step is missing */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

const bound = (v: unknown) => String(v);

const TYPE_WORDS: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'a set of named values',
  bigint: 'a whole number',
  date: 'a date',
};

/**
 * One issue's text (without the field), a message written in the schema as written. `input`, when
 * given, tells a missing value from a wrong one where zod cannot: a query's number is coerced, so
 * a missing `index` and `index=abc` both reach zod as NaN.
 */
function issueText(i: z.core.$ZodIssue, input?: { value: unknown }): string {
  if (!DEFAULT_MESSAGE.test(i.message)) return i.message;
  switch (i.code) {
    case 'too_small': {
      const m = bound(i.minimum);
      if (i.origin === 'number' || i.origin === 'bigint' || i.origin === 'int') return i.inclusive === false ? `must be greater than ${m}` : `must be at least ${m}`;
      if (i.origin === 'string') return m === '1' ? 'must not be empty' : `must have at least ${m} characters`;
      if (i.origin === 'array' || i.origin === 'set') return `needs at least ${m} ${m === '1' ? 'entry' : 'entries'}`;
      if (i.origin === 'date') return `must be on or after ${m}`;
      return i.message;
    }
    case 'too_big': {
      const m = bound(i.maximum);
      if (i.origin === 'number' || i.origin === 'bigint' || i.origin === 'int') return i.inclusive === false ? `must be less than ${m}` : `must be at most ${m}`;
      if (i.origin === 'string') return `must have at most ${m} characters`;
      if (i.origin === 'array' || i.origin === 'set') return `takes at most ${m} ${m === '1' ? 'entry' : 'entries'}`;
      if (i.origin === 'date') return `must be on or before ${m}`;
      return i.message;
    }
    case 'invalid_type': {
      if (/received undefined$/.test(i.message)) return 'is missing';
      if (/received NaN$/.test(i.message)) {
        if (!input) return 'is missing or not a number';
        const v = input.value;
        return v === undefined || v === null || (typeof v === 'string' && v.trim() === '') ? 'is missing' : 'must be a number';
      }
      const w = TYPE_WORDS[i.expected];
      return w ? `must be ${w}` : i.message;
    }
    case 'invalid_value':
      return i.values.length === 1 ? `must be ${JSON.stringify(i.values[0])}` : `must be one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return i.format === 'regex' ? 'has a form or characters that are not allowed here' : `is not a valid ${i.format.replace(/_/g, ' ')}`;
    case 'unrecognized_keys':
      return `has ${i.keys.length === 1 ? 'a field' : 'fields'} it does not know: ${i.keys.join(', ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${bound(i.divisor)}`;
    default:
      return i.message;
  }
}

/**
 * Each issue as { path, field, message } (the structured form the client may use). `input`: what
 * was parsed (e.g. a route's query as an object), to say "is missing" where coercion hid it.
 */
export function inputIssues(err: z.core.$ZodError, input?: unknown): InputIssue[] {
  return err.issues.map((i) => ({
    path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    field: fieldName(i.path),
    message: issueText(i, input === undefined ? undefined : { value: valueAt(input, i.path) }),
  }));
}

/** The issues as sentences, "Epochs: must be at least 1. Name: is missing.", at most MAX_SHOWN of them. */
export function inputIssuesMessage(err: z.core.$ZodError, input?: unknown): string {
  const all = inputIssues(err, input);
  const shown = all.slice(0, MAX_SHOWN).map((i) => {
    const t = `${i.field}: ${i.message}`;
    return /[.!?]$/.test(t) ? t : `${t}.`;
  });
  if (all.length > MAX_SHOWN) shown.push(`(${all.length - MAX_SHOWN} more ${all.length - MAX_SHOWN === 1 ? 'problem' : 'problems'} of the same request.)`);
  return shown.join(' ') || 'The request was not understood.';
}

/** duck-typed: the zod error tRPC wraps may come from another zod copy than this file's */
export function isZodError(e: unknown): e is z.core.$ZodError {
  return e instanceof Error && Array.isArray((e as { issues?: unknown }).issues) && (e.name === 'ZodError' || e.name === '$ZodError');
}

/**
 * A new user's real TESCAN TIMA export (../shared/data/tima-sta: sample STA, 308 fields of 83 px,
 * an iron formation: 53 % hematite/magnetite, 19 % quartz) through the web app's server: the zipped
 * export uploaded as the EDS map imports as one dataset named as uploaded, with its field layout,
 * "not measured" and "unclassified" apart. Its main mineral has no default class (the class list
 * starts as a sandstone's): the Correlate step drops it until the user gives it one, and a class
 * named after the mineral can be added in a mineralogy project (the "+ new class" of the class
 * map) and mapped. Skips where ../shared is absent.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaller } from '@/server/routers/_app';
import { startImportJob } from '@/server/storage/import-job';
import type { Services } from '@/server/services';
import { makeServices, type Fixture } from './annotate-helpers';

const TIMA = path.join(__dirname, '../../../shared/data/tima-sta');
let fx: Fixture;
let svc: Services;
let caller: ReturnType<typeof createCaller>;

describe.skipIf(!existsSync(path.join(TIMA, 'measurement.xml')))('the real TIMA export tima-sta in the web app', () => {
  beforeAll(() => {
    fx = makeServices();
    svc = fx.svc;
    caller = createCaller({ svc });
  });
  afterAll(() => fx?.cleanup());

  it('imports as the uploaded map; its main mineral is dropped until the user adds it as a class of its own', async () => {
    const projectId = svc.repo.createProject('STA iron formation', 'mineralogy').id;
    const zip = svc.ws.tmpPath('upload') + '.zip';
    execFileSync('zip', ['-qr', zip, '.'], { cwd: TIMA });
    const done = await svc.jobs.wait(startImportJob(svc, { projectId, kind: 'eds', name: 'STA-export.zip', file: zip }).id);
    expect(done.state, done.error ?? '').toBe('done');
    const [map] = await caller.datasets.list({ projectId });
    expect(map).toMatchObject({ name: 'STA-export.zip', kind: 'eds', face: 'top' });
    expect([map!.eds!.width, map!.eds!.height]).toEqual([1660, 1660]);
    expect(map!.eds!.notMeasuredFraction).toBeCloseTo(0.23, 2);
    expect(map!.eds!.unclassifiedFraction).toBeCloseTo(0.0444, 3);

    const st = await caller.correlate.state({ projectId });
    expect(st.eds?.timaFields).toBe(308);
    const hm = st.classMap.find((m) => m.name === 'Hematite_Magnetite')!;
    expect(hm.classCode).toBeNull(); // no default class: dropped until the user decides
    expect(st.classMap.find((m) => m.name === 'Quartz')?.classCode).toBe(2);

    // "+ new class": a class named after the mineral, in its colour, then the mineral maps to it
    const c = await caller.annotate.addClass({ projectId, name: hm.name, color: hm.color });
    expect(c.code).toBe(6); // after the five sandstone classes
    await caller.correlate.setClassMap({ projectId, mapping: [{ phaseId: hm.phaseId, classCode: c.code }] });
    const after = await caller.correlate.state({ projectId });
    expect(after.classMap.find((m) => m.phaseId === hm.phaseId)?.classCode).toBe(6);
    expect(after.classes.map((k) => k.name)).toEqual(['pore', 'quartz', 'feldspar', 'clay', 'pyrite', 'Hematite_Magnetite']);
    // a second class of the same name is refused in words
    await expect(caller.annotate.addClass({ projectId, name: 'hematite_magnetite', color: [1, 2, 3] })).rejects.toThrow(/already a class called "Hematite_Magnetite"/);
  }, 300_000);
});

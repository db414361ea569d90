/**
 * A new user going step by step (petromap --help: "import, import-eds, register, train, predict"):
 * - `import-eds map.png legend.csv` (the legend as `register` takes it) was refused as "only one
 *   map can be imported at a time"; it now reads the second word as the legend;
 * - the folder `import-eds` writes (what `train --eds` reads) was refused by `register --map` as
 *   "not a TESCAN TIMA export"; it is now read as stored (see voxel-size-assumed.test.ts for a
 *   register run on one), and a --legend / --pixel-um given with it is refused, not ignored
 *   (`run --eds <folder> --pixel-um` used to ignore it silently);
 * - each step ends with the next command on stderr, written with the files it wrote.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { capture, cliTempDir } from './cli-session';
import { main } from '../../../lib/cli/main';
import { nextAfterRegister, nextAfterTrain } from '../../../lib/cli/next-step';

const tmp = cliTempDir('petromap-steps-');


describe('step by step on the command line', () => {
  const demo = path.join(tmp, 'demo'), eds = path.join(tmp, 'demo-eds'), store = path.join(tmp, 'demo.ome.zarr');

  it('import-eds takes the legend as register does (a second word), and says what comes next', async () => {
    const s = await capture(() => main(['synth', demo, '--options', '{"shape":[24,64,64],"seed":4,"grainDiameterVox":12}']));
    expect(s.code, s.err).toBe(0);
    const px = String(JSON.parse(s.out).eds.pixelSizeUm);
    const r = await capture(() => main(['import-eds', path.join(demo, 'eds-map.png'), path.join(demo, 'eds-legend.csv'), '--pixel-um', px, '--out', eds]));
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).phases.map((p: { name: string }) => p.name)).toContain('Quartz');
    expect(r.err).toContain(`petromap import-eds: next: register it on the volume: petromap register --volume <store.ome.zarr> --map ${eds} --out registration.json`);
    // a map whose image was registered already (register's next line names this import, then train): train is named too
    expect(r.err).toContain(`; or, with a registration of this map made already: petromap train --volume <store.ome.zarr> --eds ${eds} --registration <registration.json> --out model\n`);
    // two legends: refused, naming both
    const two = await capture(() => main(['import-eds', path.join(demo, 'eds-map.png'), path.join(demo, 'eds-legend.csv'), '--legend', path.join(demo, 'eds-legend.csv'), '--pixel-um', px, '--out', path.join(tmp, 'x')]));
    expect(two.code).toBe(1);
    expect(two.err).toMatch(/two legends were given/);
    // a second image is still refused
    const img = await capture(() => main(['import-eds', path.join(demo, 'eds-map.png'), path.join(demo, 'bse.png'), '--out', path.join(tmp, 'y')]));
    expect(img.code).toBe(1);
    expect(img.err).toMatch(/only one map can be imported at a time/);
  }, 60_000);

  it('import says what comes next', async () => {
    const r = await capture(() => main(['import', path.join(demo, 'volume.nrrd'), '--out', store]));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`petromap import: next: register an EDS map of the sample's top face on it: petromap register --volume ${store} --map `);
  }, 60_000);

  it('a map folder from import-eds with --legend or --pixel-um is refused by register and run, before any work', async () => {
    const reg = await capture(() => main(['register', '--volume', store, '--map', eds, path.join(demo, 'eds-legend.csv'), '--out', path.join(tmp, 'reg.json')]));
    expect(reg.code).toBe(1);
    expect(reg.err).toMatch(/--map .*demo-eds is a map imported with "petromap import-eds": it carries its own legend and pixel size, so --legend would be ignored/);
    expect(existsSync(path.join(tmp, 'reg.json'))).toBe(false);
    const out = path.join(tmp, 'run-out');
    const run = await capture(() => main(['run', '--volume', store, '--eds', eds, '--pixel-um', '3', '--out', out]));
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/--eds .*demo-eds is a map imported with "petromap import-eds": it carries its own legend and pixel size, so --pixel-um would be ignored/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it('register and train end with the next command, importing first what train cannot read', () => {
    // register was given a store and a folder from import-eds: train takes them as they are
    expect(nextAfterRegister({ volume: store, map: eds, out: 'reg.json' }))
      .toBe(`next: train on it: petromap train --volume ${store} --eds ${eds} --registration reg.json --out model`);
    // register was given a volume file and a map image: train needs both imported
    expect(nextAfterRegister({ volume: '/data/core 4/scan.tif', map: '/data/maps/top.png', legend: '/data/maps/legend.csv', pixelUm: 2.5, out: 'reg.json' }))
      .toBe("next: train on it (training reads an imported volume and map): petromap import '/data/core 4/scan.tif' --out scan.ome.zarr && " +
        'petromap import-eds /data/maps/top.png --legend /data/maps/legend.csv --pixel-um 2.5 --out top-eds && ' +
        'petromap train --volume scan.ome.zarr --eds top-eds --registration reg.json --out model');
    expect(nextAfterTrain(store, 'model')).toBe(`next: the whole volume: petromap predict --volume ${store} --model model --out prediction [--export nrrd,tiff]`);
  });
});

import { describe, expect, it } from 'vitest';
import { isPetromapError } from '../../../lib/errors';
import { defaultClassFor } from '../../../lib/classes';
import { isUnclassifiedName, parseHexColor, parseLegend } from '../../../lib/eds/legend';

function err(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    expect(isPetromapError(e, 'InvalidInput')).toBe(true);
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('parseLegend', () => {
  it('reads name,r,g,b with a header, ids in file order', () => {
    const l = parseLegend('name,r,g,b\nQuartz,236,220,180\n"Pore, epoxy",40,40,110\n', 'legend.csv');
    expect(l.phases).toEqual([
      { id: 1, name: 'Quartz', color: [236, 220, 180] },
      { id: 2, name: 'Pore, epoxy', color: [40, 40, 110] },
    ]);
    expect(l.explicitIds).toBe(false);
  });

  it('reads name,r,g,b without header, CRLF and BOM', () => {
    const l = parseLegend('\uFEFFQuartz,236,220,180\r\nPyrite,255,230,0\r\n', 'l.csv');
    expect(l.phases.map((p) => p.name)).toEqual(['Quartz', 'Pyrite']);
  });

  it('reads id,name,r,g,b and keeps the ids', () => {
    const l = parseLegend('id,name,r,g,b\n5,Quartz,1,2,3\n9,Pyrite,4,5,6', 'l.csv');
    expect(l.phases.map((p) => p.id)).toEqual([5, 9]);
    expect(l.explicitIds).toBe(true);
    const l2 = parseLegend('5,Quartz,1,2,3\n9,Pyrite,4,5,6', 'l.csv');
    expect(l2.phases.map((p) => p.id)).toEqual([5, 9]);
  });

  it('reads hex colours, semicolons and named header columns in any order', () => {
    expect(parseLegend('Quartz,#ECDCB4\nPyrite,#ffe600', 'l.csv').phases[1].color).toEqual([255, 230, 0]);
    expect(parseLegend('3;Quartz;#ecdcb4', 'l.csv').phases[0]).toEqual({ id: 3, name: 'Quartz', color: [236, 220, 180] });
    const l = parseLegend('Colour,Mineral,Area %\n#010203,Quartz,50\n#040506,Calcite,2', 'l.csv');
    expect(l.phases[1]).toEqual({ id: 2, name: 'Calcite', color: [4, 5, 6] });
    const l2 = parseLegend('Mineral\tRed\tGreen\tBlue\tid\nQuartz\t1\t2\t3\t7', 'l.tsv');
    expect(l2.phases[0]).toEqual({ id: 7, name: 'Quartz', color: [1, 2, 3] });
  });

  it('reads colour cells written as "r,g,b", "r g b" or rgb(r,g,b)', () => {
    expect(parseLegend('Quartz,"236,220,180"\nPyrite,255 230 0', 'l.csv').phases.map((p) => p.color)).toEqual([[236, 220, 180], [255, 230, 0]]);
    expect(parseLegend('name,colour\nQuartz,"rgb(1, 2, 3)"', 'l.csv').phases[0].color).toEqual([1, 2, 3]);
    expect(parseLegend('[{"name":"Quartz","color":"1,2,3"}]', 'l.json').phases[0].color).toEqual([1, 2, 3]);
  });

  it('allows unclassified entries to share a colour', () => {
    const l = parseLegend('Unclassified,0,0,0\nUnknown,0,0,0\nQuartz,1,2,3', 'l.csv');
    expect(l.unclassified).toHaveLength(2);
  });

  it('reads JSON arrays and {phases}', () => {
    const l = parseLegend(JSON.stringify([{ name: 'Quartz', color: [1, 2, 3] }, { name: 'Pyrite', color: '#ffe600' }]), 'l.json');
    expect(l.phases[1]).toEqual({ id: 2, name: 'Pyrite', color: [255, 230, 0] });
    const l2 = parseLegend(JSON.stringify({ phases: [{ id: 4, name: 'Quartz', colour: '#010203' }] }), 'l.json');
    expect(l2.phases[0]).toEqual({ id: 4, name: 'Quartz', color: [1, 2, 3] });
  });

  it('maps Unclassified / Unknown / Not analysed to label 0, not to phases; Background (the resin) is a phase that trains as pore', () => {
    const l = parseLegend('id,name,r,g,b\n0,[Unclassified],0,0,0\n1,Quartz,1,2,3\n2,BACKGROUND,255,255,255\n3,Not analysed,9,9,9', 'l.csv');
    expect(l.phases.map((p) => p.name)).toEqual(['Quartz', 'BACKGROUND']);
    expect(l.unclassified.map((u) => u.name)).toEqual(['[Unclassified]', 'Not analysed']);
    expect(defaultClassFor('BACKGROUND')).toBe(1);
    expect(isUnclassifiedName('unknown')).toBe(true);
    expect(isUnclassifiedName('Unknown mineral X')).toBe(false);
    const l2 = parseLegend('Unknown,0,0,0\nQuartz,1,2,3', 'l.csv');
    expect(l2.phases).toEqual([{ id: 1, name: 'Quartz', color: [1, 2, 3] }]);
  });

  it('rejects a duplicate colour, naming both minerals and the colour', () => {
    const e = err(() => parseLegend('name,r,g,b\nQuartz,10,20,30\nCalcite,1,1,1\nAlbite,10,20,30', 'legend.csv'));
    expect(e.message).toContain('legend.csv');
    expect(e.message).toContain('Quartz');
    expect(e.message).toContain('Albite');
    expect(e.message).toContain('#0a141e');
  });

  it('rejects duplicate names, bad numbers (with line number), empty legends, mixed ids', () => {
    expect(err(() => parseLegend('Quartz,1,2,3\nquartz,4,5,6', 'l.csv')).message).toMatch(/"quartz" is listed twice.*line 1.*line 2/);
    expect(err(() => parseLegend('name,r,g,b\nQuartz,1,2,3\nPyrite,300,0,0', 'l.csv')).message).toMatch(/line 3.*0–255/);
    expect(err(() => parseLegend('name,r,g,b\nQuartz,1,2,3\nPyrite,x,0,0', 'l.csv')).message).toMatch(/line 3/);
    expect(err(() => parseLegend('name,r,g,b\nQuartz,1,2', 'l.csv')).message).toMatch(/line 2.*expected 4 columns/);
    expect(err(() => parseLegend('  \n', 'empty.csv')).message).toMatch(/empty\.csv is empty/);
    expect(err(() => parseLegend('name,r,g,b\n', 'h.csv')).message).toMatch(/lists no minerals/);
    expect(err(() => parseLegend('[]', 'l.json')).message).toMatch(/lists no minerals/);
    expect(err(() => parseLegend('[{"name":"Quartz","color":[1,2,3],"id":1},{"name":"Pyrite","color":[1,2,4]}]', 'l.json')).message).toMatch(/some entries give a phase id/);
    expect(err(() => parseLegend('{"phases": 3}', 'l.json')).message).toMatch(/l\.json/);
    expect(err(() => parseLegend('{oops', 'l.json')).message).toMatch(/not valid JSON/);
    expect(err(() => parseLegend('1,Quartz,1,2,3\n1,Pyrite,4,5,6', 'l.csv')).message).toMatch(/same phase id 1/);
    expect(err(() => parseLegend('0,Quartz,1,2,3', 'l.csv')).message).toMatch(/reserved for unclassified/);
  });

  it('parses hex colours', () => {
    expect(parseHexColor('#fff')).toEqual([255, 255, 255]);
    expect(parseHexColor('00ff7f')).toEqual([0, 255, 127]);
    expect(parseHexColor('#ggg')).toBeUndefined();
  });
});

"""Read petromap's exports with readers the project did not write (issue 16 §3), print JSON.

Run with Debian's /usr/bin/python3 (python3-nibabel, python3-tifffile, python3-zarr 2.x,
python3-jsonschema). Usage: read_exports.py <kind> <path> [probes-json]
  nifti  <file.nii>   nibabel: shape (x, y, z), dtype, affine, zooms, units, descrip, sha256 of the voxels
                      in (z, y, x) C order, the value and world position (mm) of each probe voxel
  tiff   <file.tif>   tifffile: shape, dtype, sha256, ImageJ metadata, X/YResolution, probe values
  zarr2  <store>      (or <zip>::<folder>) zarr-python 2: the group's .zattrs and each level's shape, chunks, dtype,
                      compressor and sha256; probe values of level 0
  ngff   <store> <v>  OME-Zarr metadata rules: the published JSON schema of version v (0.4: .zattrs,
                      strict schema; 0.5: zarr.json attributes) plus the rules of the spec text that
                      the schema cannot express; prints {"errors": [...]}
  csv    <file.csv>   the first bytes, and the rows as Python's csv module reads them ('utf-8-sig')
Probes: a JSON list of [z, y, x] voxel indices.
"""
import csv
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def sha(a):
    import numpy as np
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def nifti(path, probes):
    import nibabel as nib
    import numpy as np
    img = nib.load(path)
    a = np.asanyarray(img.dataobj)
    aff = img.affine
    return {
        'shape': list(a.shape),
        'dtype': str(a.dtype),
        'affine': aff.tolist(),
        'zooms': [float(z) for z in img.header.get_zooms()],
        'units': list(img.header.get_xyzt_units()),
        'descrip': img.header['descrip'].item().decode('ascii', 'replace'),
        'sform_code': int(img.header['sform_code']),
        'sha256_zyx': sha(a.transpose(2, 1, 0)),
        'probes': [{'value': int(a[x, y, z]), 'world_mm': (aff @ [x, y, z, 1])[:3].tolist()} for z, y, x in probes],
    }


def tiff(path, probes):
    import tifffile
    with tifffile.TiffFile(path) as t:
        a = t.asarray()
        page = t.pages[0]
        xres = page.tags['XResolution'].value
        yres = page.tags['YResolution'].value
        return {
            'shape': list(a.shape),
            'dtype': str(a.dtype),
            'is_imagej': bool(t.is_imagej),
            'imagej': {k: v for k, v in (t.imagej_metadata or {}).items() if isinstance(v, (int, float, str, bool))},
            'x_resolution': xres[0] / xres[1],
            'y_resolution': yres[0] / yres[1],
            'resolution_unit': int(page.tags['ResolutionUnit'].value),
            'sha256_zyx': sha(a),
            'probes': [{'value': int(a[z, y, x])} for z, y, x in probes],
        }


def zarr2(path, probes):
    import zarr
    if '::' in path:  # a zip of the store under a folder: <zip>::<folder>
        zpath, prefix = path.split('::', 1)
        g = zarr.open_group(zarr.ZipStore(zpath, mode='r'), mode='r', path=prefix)
    else:
        g = zarr.open_group(path, mode='r')
    attrs = g.attrs.asdict()
    levels = []
    for ds in attrs['multiscales'][0]['datasets']:
        arr = g[ds['path']]
        data = arr[:]
        levels.append({
            'path': ds['path'],
            'shape': list(arr.shape),
            'chunks': list(arr.chunks),
            'dtype': str(arr.dtype),
            'compressor': arr.compressor.codec_id if arr.compressor is not None else None,
            'sha256': sha(data),
        })
    a0 = g[attrs['multiscales'][0]['datasets'][0]['path']]
    return {'attrs': attrs, 'levels': levels, 'probes': [{'value': int(a0[0, z, y, x])} for z, y, x in probes]}


# units a space axis may have (OME-NGFF 0.4 / 0.5, "axes": UDUNITS-2 lengths)
SPACE_UNITS = {
    'angstrom', 'attometer', 'centimeter', 'decimeter', 'exameter', 'femtometer', 'foot', 'gigameter', 'hectometer',
    'inch', 'kilometer', 'megameter', 'meter', 'micrometer', 'mile', 'millimeter', 'nanometer', 'parsec', 'petameter',
    'picometer', 'terameter', 'yard', 'yoctometer', 'yottameter', 'zeptometer', 'zettameter',
}


def schema_errors(doc, version):
    import jsonschema
    folder = os.path.join(HERE, 'ngff-schemas', version)
    store = {}
    for name in os.listdir(folder):
        with open(os.path.join(folder, name)) as f:
            s = json.load(f)
        store[s['$id']] = s
    strict = store[f'https://ngff.openmicroscopy.org/{version}/schemas/strict_image.schema']
    resolver = jsonschema.RefResolver.from_schema(strict, store=store)
    v = jsonschema.Draft202012Validator(strict, resolver=resolver)
    return [f"schema: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(doc)]


def rule_errors(ms, arrays):
    """Rules of the spec text; `arrays` maps a dataset path to (ndim, dimension names or None)."""
    out = []
    axes = ms['axes']
    names = [a['name'] for a in axes]
    types = [a.get('type') for a in axes]
    if len(set(names)) != len(names):
        out.append('axes: names are not unique')
    order = {'time': 0, 'channel': 1, 'space': 2}
    ranks = [order.get(t, 1) for t in types]
    if ranks != sorted(ranks):
        out.append(f'axes: must be ordered time, channel, space; got {types}')
    if not 2 <= types.count('space') <= 3:
        out.append('axes: 2 or 3 space axes')
    for a in axes:
        if a.get('type') == 'space' and a.get('unit') not in SPACE_UNITS:
            out.append(f"axes: space axis {a['name']} has unit {a.get('unit')!r}, not a UDUNITS-2 length")
    prev = None
    for ds in ms['datasets']:
        ct = ds['coordinateTransformations']
        kinds = [t['type'] for t in ct]
        if kinds not in (['scale'], ['scale', 'translation']):
            out.append(f"dataset {ds['path']}: transformations must be one scale, optionally followed by one translation; got {kinds}")
        for t in ct:
            vec = t.get(t['type'])
            if len(vec) != len(axes):
                out.append(f"dataset {ds['path']}: {t['type']} has {len(vec)} values for {len(axes)} axes")
        scale = ct[0].get('scale')
        if prev is not None and any(s < p for s, p in zip(scale, prev)):
            out.append(f"dataset {ds['path']}: datasets must go from the highest to the lowest resolution")
        prev = scale
        if ds['path'] not in arrays:
            out.append(f"dataset {ds['path']}: no array there")
            continue
        ndim, dims = arrays[ds['path']]
        if ndim != len(axes):
            out.append(f"dataset {ds['path']}: the array has {ndim} dimensions for {len(axes)} axes")
        if dims is not None and list(dims) != names:
            out.append(f"dataset {ds['path']}: dimension_names {dims} differ from the axes {names}")
    return out


def load_json(*parts):
    with open(os.path.join(*parts)) as f:
        return json.load(f)


def ngff(path, version):
    errors = []
    v2 = version == '0.4'
    if v2:
        doc = load_json(path, '.zattrs')
        if load_json(path, '.zgroup').get('zarr_format') != 2:
            errors.append('.zgroup: zarr_format is not 2')
        ms_list = doc.get('multiscales', [])
    else:
        group = load_json(path, 'zarr.json')
        if group.get('zarr_format') != 3 or group.get('node_type') != 'group':
            errors.append('zarr.json: not a Zarr v3 group')
        doc = group.get('attributes', {})
        ms_list = doc.get('ome', {}).get('multiscales', [])
    errors += schema_errors(doc, version)
    # each level's array metadata: its number of dimensions (and v3 dimension names)
    arrays = {}
    for ms in ms_list:
        for ds in ms['datasets']:
            meta = os.path.join(path, ds['path'], '.zarray' if v2 else 'zarr.json')
            if not os.path.exists(meta):
                continue
            za = load_json(meta)
            arrays[ds['path']] = (len(za['shape']), None if v2 else za.get('dimension_names'))
            if v2 and za.get('dimension_separator') != '/':
                errors.append(f"dataset {ds['path']}: 0.4 asks for the '/' dimension separator")
            if not v2 and za.get('dimension_names') is None:
                errors.append(f"dataset {ds['path']}: 0.5 requires dimension_names")
    for ms in ms_list:
        errors += rule_errors(ms, arrays)
    return {'errors': errors}


def read_csv(path):
    with open(path, 'rb') as f:
        head = f.read(3)
    with open(path, newline='', encoding='utf-8-sig') as f:
        rows = list(csv.reader(f))
    return {'first_bytes': head.hex(), 'rows': rows}


def main():
    kind, path = sys.argv[1], sys.argv[2]
    probes = json.loads(sys.argv[3]) if len(sys.argv) > 3 and kind != 'ngff' else []
    if kind == 'nifti':
        out = nifti(path, probes)
    elif kind == 'tiff':
        out = tiff(path, probes)
    elif kind == 'zarr2':
        out = zarr2(path, probes)
    elif kind == 'ngff':
        out = ngff(path, sys.argv[3])
    elif kind == 'csv':
        out = read_csv(path)
    else:
        raise SystemExit(f'unknown kind {kind}')
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()

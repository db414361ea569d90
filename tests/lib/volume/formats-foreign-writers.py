"""Volumes as other tools write them, for tests/lib/volume/formats-foreign-writers.test.ts.

Writes into argv[1] a 12 x 20 x 24 (z, y, x) volume whose voxel (z, y, x) is (z*480 + y*24 + x) % 251,
scaled per file type, through Debian's python3-tifffile, python3-nibabel and python3-zarr (2.x),
and OME-Zarr 0.5 / Zarr v3 by hand (zarr-python 2 cannot write v3). File names say what each is.
"""
import gzip, json, os, shutil, sys
import numpy as np
import nibabel as nib
import tifffile
import zarr
from numcodecs import Blosc, Zlib

out = sys.argv[1]
os.chdir(out)
Z, Y, X = 12, 20, 24
base = (np.arange(Z * Y * X).reshape(Z, Y, X) % 251).astype(np.uint8)
u16 = base.astype(np.uint16) * 200

# TIFF stacks (tifffile, ImageJ hyperstack conventions, OME-TIFF)
tifffile.imwrite('u8.tif', base)
tifffile.imwrite('i16-signed.tif', base.astype(np.int16) * 100 - 12000)
tifffile.imwrite('f32.tif', base.astype(np.float32) / 8)
tifffile.imwrite('u16-big-endian.tif', u16, byteorder='>')
tifffile.imwrite('f32-big-endian.tif', base.astype(np.float32) / 8, byteorder='>')
tifffile.imwrite('u16-deflate-predictor.tif', u16, compression='zlib', predictor=True)
tifffile.imwrite('u16-tiled.tif', u16, tile=(16, 16))
tifffile.imwrite('u16-big-endian-deflate-predictor.tif', u16, compression='zlib', predictor=True, byteorder='>')
tifffile.imwrite('i16-big-endian-tiled-predictor.tif', base.astype(np.int16) * 100 - 12000, compression='zlib', predictor=True, byteorder='>', tile=(16, 16))
tifffile.imwrite('u16-bigtiff-tiled-deflate-be.tif', u16, tile=(16, 16), compression='zlib', bigtiff=True, byteorder='>')
tifffile.imwrite('u16-imagej-mm.tif', u16, imagej=True, resolution=(1 / 0.0025, 1 / 0.0025), metadata={'spacing': 0.003, 'unit': 'mm'})
tifffile.imwrite('i16-imagej-micron.tif', base.astype(np.int16) - 100, imagej=True, resolution=(1 / 2.5, 1 / 2.5), metadata={'spacing': 3.0, 'unit': 'micron'})
tifffile.imwrite('u8-resolution-cm.tif', base, resolution=(4000, 4000, 'CENTIMETER'))  # 2.5 µm
tifffile.imwrite('u8-resolution-inch.tif', base, resolution=(10160, 10160, 'INCH'))  # 2.5 µm
tifffile.imwrite('u8-ome.ome.tif', base, metadata={'axes': 'ZYX', 'PhysicalSizeX': 2.5, 'PhysicalSizeY': 2.5, 'PhysicalSizeZ': 3.0})
tifffile.imwrite('two-channels.ome.tif', np.zeros((4, 2, 10, 12), np.uint16), metadata={'axes': 'ZCYX'})
# a folder of slices numbered without zero padding: slice_1 ... slice_12 (slice_10 must come after slice_9)
os.makedirs('slices-unpadded')
for z in range(Z):
    tifffile.imwrite(f'slices-unpadded/slice_{z + 1}.tif', u16[z], imagej=True, resolution=(1 / 2.5, 1 / 2.5), metadata={'unit': 'micron', 'spacing': 3.0})

# SkyScan NRecon reconstructions: 8-bit BMP slices (grey palette, bottom-up rows) with the reconstruction log,
# the same as 16-bit TIFF slices without any resolution tag; and 16-bit PNG slices (Pillow)
from PIL import Image
LOG = '[System]\r\nScanner=Skyscan1272\r\n[Reconstruction]\r\nPixel Size (um)=4.99998\r\nResult Image Format=BMP\r\n'
for folder, ext in (('skyscan-bmp', 'bmp'), ('skyscan-tif', 'tif')):
    os.makedirs(folder)
    open(f'{folder}/sample_rec.log', 'w', newline='').write(LOG)
    for z in range(Z):
        if ext == 'bmp':
            Image.fromarray(base[z]).save(f'{folder}/sample_rec{z:08d}.bmp')
        else:
            tifffile.imwrite(f'{folder}/sample_rec{z:08d}.tif', u16[z])
os.makedirs('png16-slices')
for z in range(Z):
    Image.fromarray(u16[z]).save(f'png16-slices/slice_{z + 1}.png')

# NIfTI-1 (nibabel): x fastest on disk, mm
xyz = lambda a: np.ascontiguousarray(a.transpose(2, 1, 0))
img = nib.Nifti1Image(xyz(base.astype(np.int16)), np.diag([0.0025, 0.0025, 0.003, 1]))
img.header.set_xyzt_units('mm')
nib.save(img, 'i16.nii')
nib.save(img, 'i16.nii.gz')
img2 = nib.Nifti2Image(xyz(u16), np.diag([0.0025, 0.0025, 0.003, 1]))
img2.header.set_xyzt_units('mm')
nib.save(img2, 'u16-nifti2.nii.gz')

# OME-Zarr 0.4 / Zarr v2 as ome-zarr-py writes it (blosc level 0, zlib level 1), and the bioformats2raw layout
def ome_v2(root, data, bf2raw=False):
    g = zarr.open_group(root, mode='w')
    grp = g
    if bf2raw:
        g.attrs['bioformats2raw.layout'] = 3
        grp = g.create_group('0')
    datasets, lvl = [], data
    for i in range(2):
        grp.create_dataset(str(i), data=lvl, chunks=(8, 16, 16), compressor=Blosc(cname='zstd') if i == 0 else Zlib(), dimension_separator='/')
        datasets.append({'path': str(i), 'coordinateTransformations': [{'type': 'scale', 'scale': [3.0 * 2**i, 2.5 * 2**i, 2.5 * 2**i]}]})
        lvl = lvl[::2, ::2, ::2]
    axes = [{'name': a, 'type': 'space', 'unit': 'micrometer'} for a in 'zyx']
    grp.attrs['multiscales'] = [{'version': '0.4', 'name': 'scan', 'axes': axes, 'datasets': datasets}]

ome_v2('v2.ome.zarr', u16)
ome_v2('bioformats2raw.ome.zarr', u16, bf2raw=True)
g = zarr.open_group('v2-tczyx-mm.ome.zarr', mode='w')
g.create_dataset('0', data=u16[None, None], chunks=(1, 1, 8, 16, 16), compressor=Blosc())
g.attrs['multiscales'] = [{'version': '0.4', 'axes': [{'name': 't', 'type': 'time'}, {'name': 'c', 'type': 'channel'}] + [{'name': a, 'type': 'space', 'unit': 'millimeter'} for a in 'zyx'],
                           'datasets': [{'path': '0', 'coordinateTransformations': [{'type': 'scale', 'scale': [1, 1, 0.003, 0.0025, 0.0025]}]}]}]
g = zarr.open_group('v2-three-channels.ome.zarr', mode='w')
g.create_dataset('0', data=np.zeros((3, 4, 8, 8), np.uint8), chunks=(1, 4, 8, 8))
g.attrs['multiscales'] = [{'version': '0.4', 'axes': [{'name': 'c', 'type': 'channel'}] + [{'name': a, 'type': 'space', 'unit': 'micrometer'} for a in 'zyx'],
                           'datasets': [{'path': '0', 'coordinateTransformations': [{'type': 'scale', 'scale': [1, 1, 1, 1]}]}]}]
zarr.open_group('plain-group.zarr', mode='w').create_dataset('data', data=base, chunks=(4, 8, 8))

# OME-Zarr 0.5 / Zarr v3 (zarr.json), gzip chunks, and big-endian int16 without compression
def ome_v3(root, data, endian='little', gz=True, chunks=(8, 16, 16)):
    os.makedirs(root + '/s0')
    codecs = [{'name': 'bytes', 'configuration': {'endian': endian}}] + ([{'name': 'gzip', 'configuration': {'level': 5}}] if gz else [])
    axes = [{'name': a, 'type': 'space', 'unit': 'micrometer'} for a in 'zyx']
    ms = {'name': 'scan', 'axes': axes, 'datasets': [{'path': 's0', 'coordinateTransformations': [{'type': 'scale', 'scale': [3.0, 2.5, 2.5]}, {'type': 'translation', 'translation': [30.0, 0, 0]}]}]}
    json.dump({'zarr_format': 3, 'node_type': 'group', 'attributes': {'ome': {'version': '0.5', 'multiscales': [ms]}}}, open(root + '/zarr.json', 'w'))
    json.dump({'zarr_format': 3, 'node_type': 'array', 'shape': list(data.shape), 'data_type': str(data.dtype),
               'chunk_grid': {'name': 'regular', 'configuration': {'chunk_shape': list(chunks)}},
               'chunk_key_encoding': {'name': 'default', 'configuration': {'separator': '/'}},
               'fill_value': 0, 'codecs': codecs, 'dimension_names': ['z', 'y', 'x']}, open(root + '/s0/zarr.json', 'w'))
    for cz in range(0, Z, chunks[0]):
        for cy in range(0, Y, chunks[1]):
            for cx in range(0, X, chunks[2]):
                blk = np.zeros(chunks, data.dtype)
                sub = data[cz:cz + chunks[0], cy:cy + chunks[1], cx:cx + chunks[2]]
                blk[:sub.shape[0], :sub.shape[1], :sub.shape[2]] = sub
                b = blk.astype(blk.dtype.newbyteorder('>' if endian == 'big' else '<')).tobytes()
                p = f'{root}/s0/c/{cz // chunks[0]}/{cy // chunks[1]}'
                os.makedirs(p, exist_ok=True)
                open(f'{p}/{cx // chunks[2]}', 'wb').write(gzip.compress(b) if gz else b)

ome_v3('v3.ome.zarr', u16)
ome_v3('v3-i16-big-endian.ome.zarr', base.astype(np.int16) - 50, endian='big', gz=False)
print('ok')

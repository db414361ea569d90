/** Child process of the resumable-prediction test: node --import tsx predict-child.ts <store> <model> <out> <bz,by,bx> */
import { predictVolume } from '../../../lib/classify/predict-node';

const [storePath, modelDir, outDir, brick] = process.argv.slice(2);
const r = await predictVolume(storePath!, modelDir!, outDir!, { threads: 1, brick: brick!.split(',').map(Number) as [number, number, number] });
process.stdout.write(JSON.stringify(r) + '\n');

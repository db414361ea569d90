/** Shared helpers of the registration tests: the acceptance error measure and sample factory. */
import { generateSandstone, type SandstoneInput } from '../../../lib/synthetic';

export { registrationError } from '../../../lib/registration/quality';

/** Small synthetic sample (24 x 128 x 128 at 2 µm) so the suite stays within its CI budget. */
export function smallSample(input: SandstoneInput = {}) {
  return generateSandstone({ shape: [24, 128, 128], voxelUm: 2, ...input });
}

import { StepUnavailable } from '@/app/_components/projects/step-unavailable';

export default function CorrelatePage() {
  return (
    <StepUnavailable
      step="Correlate"
      what="Find the polished top surface in the XRM volume, extract the surface slab and register the EDS map onto it (affine, EDS pixel → voxel), with quality figures and an overlay to check the fit."
    />
  );
}

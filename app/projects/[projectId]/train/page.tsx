import { StepUnavailable } from '@/app/_components/projects/step-unavailable';

export default function TrainPage() {
  return (
    <StepUnavailable
      step="Train"
      what="Transfer the registered EDS labels to the surface voxels, choose the feature set and train the voxel classifier, with per-class accuracy on held-out surface pixels."
    />
  );
}

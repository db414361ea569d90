import { StepUnavailable } from '@/app/_components/projects/step-unavailable';

export default function ResultsPage() {
  return (
    <StepUnavailable
      step="Results"
      what="Predict the 3D mineral map brick by brick, then inspect labels, probabilities and uncertainty, the modal mineralogy and the depth profile, and export them."
    />
  );
}

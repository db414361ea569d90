/** Honest placeholder for a step whose backend does not exist yet. */
export function StepUnavailable({ step, what }: { step: string; what: string }) {
  return (
    <div className="card" data-testid="step-unavailable">
      <h2>{step}: not available yet</h2>
      <p>{what}</p>
      <p className="muted small">
        This step needs server procedures that are not in this build. Upload and inspect your data on the Data step meanwhile.
      </p>
    </div>
  );
}

"""Cross-cutting helpers used by the algorithm, the sidecar and the notebooks."""

/**
 * Figures a test measures at the level a user meets them (exit time, recovery time, RSS growth),
 * printed as one line each so `make test` output shows them beside the verdict. Tests assert on
 * outcomes with generous bounds; the figure is for the reader, never the assertion itself.
 */
export function printFigure(label: string, figures: Record<string, number | string>): void {
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${typeof v === 'number' ? round(v) : v}`);
  process.stdout.write(`[figure] ${label}: ${parts.join(' ')}\n`);
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

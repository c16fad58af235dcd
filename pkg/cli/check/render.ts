/** The report as text (`-o table`); JSON and YAML print the report object itself (pkg/cli/output.ts). */
import type { CheckStatus, ProbeCheckReport } from './types.js';

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', skip: '-' };

export function probeCheckText(r: ProbeCheckReport): string {
  const lines = [`Probe checks for pod ${r.namespace}/${r.pod} (mesh [${r.mesh}])`, ''];
  for (const c of r.checks) {
    lines.push(`${MARK[c.status]} ${c.title}`);
    for (const d of c.details) lines.push(`    ${d}`);
    for (const w of c.warnings ?? []) lines.push(`    ! ${w}`);
    if (c.status === 'fail' && c.fix) lines.push(`    fix: ${c.fix}`);
  }
  lines.push('');
  const ran = r.checks.filter((c) => c.status !== 'skip').length;
  const warned = r.checks.reduce((n, c) => n + (c.warnings?.length ?? 0), 0);
  const also = warned > 0 ? ` (${warned} warning${warned === 1 ? '' : 's'})` : '';
  lines.push(
    r.failed === 0 ? `All ${ran} checks passed${also}` : `${r.failed} of ${ran} checks failed${also}`,
  );
  return lines.join('\n') + '\n';
}

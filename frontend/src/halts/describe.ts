// Words for halts on the halts page.

import type { Halt, PastHalt } from './types';

const KINDS: Record<string, string> = {
  luld_pause: 'Price band pause (LULD)',
  manual: 'Halted by hand',
  market_wide: 'Market-wide breaker',
  volume_spike: 'Volume spike',
};

export function kindText(kind: string): string {
  return KINDS[kind] ?? kind;
}

export function untilText(halt: Pick<Halt, 'until' | 'kind'>): string {
  if (halt.until) return '';
  return halt.kind === 'market_wide' ? 'end of day' : 'until resumed';
}

export function imbalanceText(halt: Halt): string {
  const ind = halt.indicative;
  if (!ind) return '—';
  return ind.imbalance > 0 && ind.imbalance_side ? `${ind.imbalance} ${ind.imbalance_side}` : '0';
}

export function endedText(halt: PastHalt): string {
  switch (halt.ended_by) {
    case 'resume_request':
      return `Resumed by ${halt.resumed_by ?? 'a risk manager'}` + (halt.resume_reason ? `: ${halt.resume_reason}` : '');
    case 'pause_end':
      return halt.extensions > 0 ? `Pause ran out (extended ${halt.extensions}×)` : 'Pause ran out';
    case 'superseded':
      return 'Replaced by a later halt';
    default:
      return halt.active ? 'In force' : '—';
  }
}

export function reasonText(halt: PastHalt): string {
  return halt.reason || halt.message;
}

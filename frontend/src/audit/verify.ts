// "Verify chain": recompute every hash and say how far each shard's chain holds.

import { auditApi, errorText } from './api';
import { byId, shardName } from './dom';
import type { ChainVerifyResult } from './types';

/** "shard 0", or "web" for the web tier's chain. */
function chainName(shard: number): string {
  const name = shardName(shard);
  return name === 'web' ? name : `shard ${name}`;
}

export function verifyText(result: ChainVerifyResult): string {
  const heads = Object.entries(result.heads)
    .map(([shard, seq]) => ({ shard: Number(shard), seq }))
    .sort((a, b) => a.shard - b.shard);
  const bad = result.first_bad;
  const intactUpTo = heads
    .filter((h) => !bad || h.shard !== bad.shard)
    .map((h) => `${chainName(h.shard)} up to seq ${h.seq}`)
    .join(', ');
  if (bad) {
    const head = heads.find((h) => h.shard === bad.shard);
    return (
      `Broken: ${chainName(bad.shard)} seq ${bad.seq} does not verify (${bad.reason})` +
      (head ? `; intact up to seq ${head.seq}` : '') +
      (intactUpTo ? `. Others intact: ${intactUpTo}.` : '.')
    );
  }
  if (heads.length === 0) return 'The event log has no rows yet.';
  return `Intact: ${intactUpTo} (${result.checked} rows checked).`;
}

export class ChainVerify {
  private readonly button = byId<HTMLButtonElement>('audit-verify');
  private readonly output = byId('audit-verify-result');

  constructor() {
    this.button.addEventListener('click', () => void this.run());
  }

  private async run(): Promise<void> {
    this.button.disabled = true;
    this.output.hidden = false;
    this.output.className = 'verify-result pending';
    this.output.textContent = 'Verifying the chain…';
    try {
      const result = await auditApi.verify();
      this.output.className = `verify-result ${result.intact ? 'intact' : 'broken'}`;
      this.output.textContent = verifyText(result);
    } catch (err) {
      this.output.className = 'verify-result broken';
      this.output.textContent = `Verification failed: ${errorText(err)}`;
    } finally {
      this.button.disabled = false;
    }
  }
}

// "Cancel all": one REST mass cancel of the operator's own open orders.
//
// The REST answer is the total over every shard, while the socket also gets
// one mass_cancel.done frame per shard, each followed by an order.cancelled
// per order, for the same request. Those echoes are kept quiet for a moment
// so the total is what stays on screen. Mass cancels sent from elsewhere
// (another tab, the API) arrive only as frames; their per-shard counts are
// summed, and the per-order frames after them are quiet too.

import { errorText } from './api';
import { countText } from './describe';
import { byId } from './dom';
import type { StatusKind } from './ticket';
import type { MassCancelResult } from './types';

/** How long after a mass cancel's total is shown its other frames may still arrive. */
const ECHO_MS = 3000;

export interface CancelAllDeps {
  run(): Promise<MassCancelResult>;
  status(text: string, kind: StatusKind): void;
  /** Called when the request has finished, whatever its outcome. */
  settled(): void;
}

export class CancelAll {
  private readonly button = byId<HTMLButtonElement>('cancel-all');
  private inFlight = false;
  /** Until then, mass_cancel.done frames echo our own Cancel all. */
  private ownEchoUntil = 0;
  /** Until then, frames belong to a mass cancel whose total is already shown. */
  private quietUntil = 0;
  /** Orders counted so far for a mass cancel sent elsewhere. */
  private elsewhereCount = 0;

  constructor(private readonly deps: CancelAllDeps) {
    this.button.addEventListener('click', () => void this.click());
  }

  /** True while a mass cancel's total is on screen or on its way: per-order frames then add nothing. */
  get covered(): boolean {
    return this.inFlight || performance.now() < this.quietUntil;
  }

  onDone(cancelled: number): void {
    const now = performance.now();
    if (this.inFlight || now < this.ownEchoUntil) return;
    // A frame long after the last one starts a new count; a close one is another shard's share.
    if (now >= this.quietUntil) this.elsewhereCount = 0;
    this.elsewhereCount += cancelled;
    this.quietUntil = now + ECHO_MS;
    this.deps.status(`Mass cancel done: ${countText(this.elsewhereCount, 'order')} cancelled.`, 'notice');
  }

  private async click(): Promise<void> {
    if (this.inFlight || !window.confirm('Cancel all your open orders?')) return;
    this.inFlight = true;
    this.button.disabled = true;
    this.deps.status('Cancelling all open orders…', 'pending');
    try {
      const { cancelled_orders: n } = await this.deps.run();
      this.deps.status(`Cancel all: ${countText(n, 'order')} cancelled.`, 'ok');
    } catch (err) {
      this.deps.status(`Cancel all failed: ${errorText(err)}`, 'error');
    } finally {
      this.inFlight = false;
      this.ownEchoUntil = this.quietUntil = performance.now() + ECHO_MS;
      this.button.disabled = false;
      this.deps.settled();
    }
  }
}

// The trader's cancel-on-disconnect choice: when their last desk connection drops, the
// gateway asks the matcher to cancel their working DAY orders. Shown to traders only.

import { errorText } from './api';
import { byId } from './dom';
import type { StatusKind } from './ticket';
import type { TraderRiskSettings } from './types';

export interface CancelOnDisconnectDeps {
  load(): Promise<TraderRiskSettings>;
  save(changes: Partial<TraderRiskSettings>): Promise<TraderRiskSettings>;
  status(text: string, kind: StatusKind): void;
}

export class CancelOnDisconnect {
  private readonly field = byId('cod-field');
  private readonly box = byId<HTMLInputElement>('cancel-on-disconnect');

  constructor(private readonly deps: CancelOnDisconnectDeps) {
    this.box.addEventListener('change', () => void this.change());
  }

  /** Shows the switch with the trader's saved choice; stays hidden if it cannot be read. */
  async load(): Promise<void> {
    try {
      const settings = await this.deps.load();
      this.box.checked = settings.cancel_on_disconnect;
      this.field.hidden = false;
    } catch {
      this.field.hidden = true;
    }
  }

  private async change(): Promise<void> {
    const wanted = this.box.checked;
    this.box.disabled = true;
    try {
      const saved = await this.deps.save({ cancel_on_disconnect: wanted });
      this.box.checked = saved.cancel_on_disconnect;
      this.deps.status(
        saved.cancel_on_disconnect
          ? 'Cancel on disconnect is on: your DAY orders are cancelled when your last desk closes.'
          : 'Cancel on disconnect is off.',
        'ok',
      );
    } catch (err) {
      this.box.checked = !wanted;
      this.deps.status(`Could not change cancel on disconnect: ${errorText(err)}`, 'error');
    } finally {
      this.box.disabled = false;
    }
  }
}

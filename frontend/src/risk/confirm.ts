// The one confirmation dialog of the console: every kill switch engagement and release goes
// through it, and none is sent without a reason, which the audit log records with it. The
// reason handling is the shared dialog's; the console adds "still allow risk-reducing orders".

import { ReasonDialog } from '../shared/reason-dialog';
import { errorText } from './api';
import { byId } from './dom';

export interface ConfirmRequest {
  title: string;
  text: string;
  confirmLabel: string;
  /** Offer "still allow risk-reducing orders" (engagements only). */
  offerRiskReducing: boolean;
  /** Does the thing; if it throws, its sentence stays in the dialog for another try. */
  run(reason: string, allowRiskReducing: boolean): Promise<void>;
}

export class ConfirmDialog {
  private readonly reasons = new ReasonDialog(
    {
      dialog: 'risk-confirm',
      form: 'confirm-form',
      title: 'confirm-title',
      text: 'confirm-text',
      reason: 'confirm-reason',
      error: 'confirm-error',
      ok: 'confirm-ok',
      cancel: 'confirm-cancel',
    },
    errorText,
  );
  private readonly riskReducingField = byId('confirm-risk-reducing-field');
  private readonly riskReducing = byId<HTMLInputElement>('confirm-risk-reducing');

  open(request: ConfirmRequest): void {
    this.riskReducing.checked = false;
    this.riskReducingField.hidden = !request.offerRiskReducing;
    this.reasons.open({
      title: request.title,
      text: request.text,
      confirmLabel: request.confirmLabel,
      run: (reason) => request.run(reason, request.offerRiskReducing && this.riskReducing.checked),
    });
  }
}

// The one confirmation dialog of the console: every kill switch engagement and release goes
// through it, and none is sent without a reason, which the audit log records with it.

import { errorText } from './api';
import { byId, setText } from './dom';

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
  private readonly dialog = byId<HTMLDialogElement>('risk-confirm');
  private readonly form = byId<HTMLFormElement>('confirm-form');
  private readonly title = byId('confirm-title');
  private readonly text = byId('confirm-text');
  private readonly reason = byId<HTMLTextAreaElement>('confirm-reason');
  private readonly riskReducingField = byId('confirm-risk-reducing-field');
  private readonly riskReducing = byId<HTMLInputElement>('confirm-risk-reducing');
  private readonly error = byId('confirm-error');
  private readonly ok = byId<HTMLButtonElement>('confirm-ok');
  private current: ConfirmRequest | null = null;

  constructor() {
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.confirm();
    });
    byId('confirm-cancel').addEventListener('click', () => this.dialog.close());
    this.dialog.addEventListener('close', () => {
      this.current = null;
    });
  }

  open(request: ConfirmRequest): void {
    this.current = request;
    setText(this.title, request.title);
    setText(this.text, request.text);
    setText(this.ok, request.confirmLabel);
    setText(this.error, '');
    this.reason.value = '';
    this.riskReducing.checked = false;
    this.riskReducingField.hidden = !request.offerRiskReducing;
    this.ok.disabled = false;
    this.dialog.showModal();
    this.reason.focus();
  }

  private async confirm(): Promise<void> {
    const request = this.current;
    if (!request || this.ok.disabled) return;
    const reason = this.reason.value.trim();
    if (!reason) {
      setText(this.error, 'Give a reason: it is recorded in the audit log.');
      this.reason.focus();
      return;
    }
    this.ok.disabled = true;
    setText(this.error, '');
    try {
      await request.run(reason, request.offerRiskReducing && this.riskReducing.checked);
    } catch (err) {
      setText(this.error, errorText(err));
      this.ok.disabled = false;
      return;
    }
    if (this.current === request) this.dialog.close();
  }
}

// The reason dialog: no halt or resume is sent without a reason, which the journal records
// with it.

import { errorText } from './api';
import { byId, setText } from './dom';

export interface ReasonRequest {
  title: string;
  text: string;
  confirmLabel: string;
  /** Does the thing; if it throws, its sentence stays in the dialog for another try. */
  run(reason: string): Promise<void>;
}

export class ReasonDialog {
  private readonly dialog = byId<HTMLDialogElement>('halt-dialog');
  private readonly form = byId<HTMLFormElement>('halt-dialog-form');
  private readonly title = byId('halt-dialog-title');
  private readonly text = byId('halt-dialog-text');
  private readonly reason = byId<HTMLTextAreaElement>('halt-reason');
  private readonly error = byId('halt-dialog-error');
  private readonly ok = byId<HTMLButtonElement>('halt-dialog-ok');
  private current: ReasonRequest | null = null;

  constructor() {
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.confirm();
    });
    byId('halt-dialog-cancel').addEventListener('click', () => this.dialog.close());
    this.dialog.addEventListener('close', () => {
      this.current = null;
    });
  }

  open(request: ReasonRequest): void {
    this.current = request;
    setText(this.title, request.title);
    setText(this.text, request.text);
    setText(this.ok, request.confirmLabel);
    setText(this.error, '');
    this.reason.value = '';
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
      await request.run(reason);
    } catch (err) {
      setText(this.error, errorText(err));
      this.ok.disabled = false;
      return;
    }
    if (this.current === request) this.dialog.close();
  }
}

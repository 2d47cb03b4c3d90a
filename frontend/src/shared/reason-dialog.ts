// The reason dialog of the risk console and the halts page: nothing is sent without a reason,
// which the audit log records with it. Each page names its own elements.

import './reason-dialog.css';
import { byId, setText } from './dom';
import { errorText } from './http';

export interface ReasonDialogIds {
  dialog: string;
  form: string;
  title: string;
  text: string;
  reason: string;
  error: string;
  ok: string;
  cancel: string;
}

export interface ReasonRequest {
  title: string;
  text: string;
  confirmLabel: string;
  /** Does the thing; if it throws, its sentence stays in the dialog for another try. */
  run(reason: string): Promise<void>;
}

export class ReasonDialog {
  private readonly dialog: HTMLDialogElement;
  private readonly title: HTMLElement;
  private readonly text: HTMLElement;
  private readonly reason: HTMLTextAreaElement;
  private readonly error: HTMLElement;
  private readonly ok: HTMLButtonElement;
  private current: ReasonRequest | null = null;

  /** `describe`: the page's sentence for a failed call (the risk console adds the fields). */
  constructor(
    ids: ReasonDialogIds,
    private readonly describe: (err: unknown) => string = errorText,
  ) {
    this.dialog = byId<HTMLDialogElement>(ids.dialog);
    this.title = byId(ids.title);
    this.text = byId(ids.text);
    this.reason = byId<HTMLTextAreaElement>(ids.reason);
    this.error = byId(ids.error);
    this.ok = byId<HTMLButtonElement>(ids.ok);
    byId<HTMLFormElement>(ids.form).addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.confirm();
    });
    byId(ids.cancel).addEventListener('click', () => this.dialog.close());
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
      setText(this.error, this.describe(err));
      this.ok.disabled = false;
      return;
    }
    if (this.current === request) this.dialog.close();
  }
}

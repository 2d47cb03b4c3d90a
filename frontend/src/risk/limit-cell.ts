// One limit shown in people's units and edited in place, as the accounts' limits are: Edit
// opens an input beside the value, Save asks for the reason in the console's reason dialog and
// sends the change. The server judges the value: a refusal stays beside the field with its
// sentence, and the value shown stays the one in force. The firm policy and the instruments
// panels are made of these.

import { ApiRefusal } from '../shared/http';
import { inputText, typedLimit } from './accounts';
import { errorText } from './api';
import type { ConfirmDialog } from './confirm';
import { h, moneyText, setAttr, setText } from './dom';
import type { ChangeOutcome } from './types';

/** How the API gives a limit: money and percent as decimal strings, windows in milliseconds,
 * counts and lots as integers, a switch as a boolean; null is no limit (the control is off). */
export type LimitKind = 'money' | 'percent' | 'ms' | 'count' | 'lots' | 'switch';

export interface LimitSpec {
  /** The API's field name. */
  name: string;
  label: string;
  kind: LimitKind;
  /** What the limit does, shown on hover. */
  help: string;
}

export interface LimitCellDeps {
  /** Whether the user may change limits; if not, the value is shown without an editor. */
  canChange: boolean;
  confirm: ConfirmDialog;
  status(text: string): void;
}

export interface LimitOwner {
  /** Whose limit it is, in sentences: "the firm", "AAPL". */
  what: string;
  /** Sends `{field: value, reason}`; answers the outcome and the value now saved. */
  save(changes: Record<string, unknown>): Promise<{ outcome: ChangeOutcome; value: unknown }>;
}

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const secondsFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });

/** A limit's value as people read it: "$1,000.00", "10.00 %", "3,000 ms (3 s)", "none". */
export function limitText(kind: LimitKind, value: unknown): string {
  if (kind === 'switch') return value ? 'on' : 'off';
  if (value === null || value === undefined) return 'none';
  const text = String(value);
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  switch (kind) {
    case 'money':
      return n < 0 ? `-$${moneyText(text.replace('-', ''))}` : `$${moneyText(text)}`;
    case 'percent':
      return `${text} %`;
    case 'ms':
      // Display only: the value sent is the integer typed.
      return n >= 1000 ? `${intFmt.format(n)} ms (${secondsFmt.format(n / 1000)} s)` : `${intFmt.format(n)} ms`;
    case 'lots':
      return `${intFmt.format(n)} lot${n === 1 ? '' : 's'}`;
    default:
      return intFmt.format(n);
  }
}

/** The unit typed into the editor, in the API's terms. */
const INPUT_UNIT: Readonly<Record<LimitKind, string>> = {
  money: '$',
  percent: '%',
  ms: 'ms',
  count: '',
  lots: 'lots',
  switch: '',
};

/** A refusal about the reason is the dialog's to show: another reason may pass. */
function aboutTheReason(err: unknown): boolean {
  if (!(err instanceof ApiRefusal)) return false;
  return err.code === 'reason_required' || err.code === 'invalid_reason' || (err.fields !== null && 'reason' in err.fields);
}

/** "in force from event 42": the matcher journaled the change at that sequence number. */
export function inForceText(outcome: ChangeOutcome): string {
  if (outcome.changed.length === 0) return 'unchanged: it already was';
  const seq = outcome.events?.find((e) => typeof e.seq === 'number')?.seq;
  if (seq !== undefined) return `in force from event ${seq}`;
  return outcome.events === null ? 'saved; the matcher takes it when sent' : 'saved';
}

export class LimitCell {
  readonly el = h('div', 'limit-cell');
  private readonly shown = h('span', 'value');
  private readonly editButton = h('button', 'limit-edit', 'Edit');
  private readonly form = h('form', 'limit-form');
  private readonly input: HTMLInputElement | HTMLSelectElement;
  private readonly note = h('span', 'limit-note');
  private value: unknown = null;

  constructor(
    private readonly spec: LimitSpec,
    private readonly owner: LimitOwner,
    private readonly deps: LimitCellDeps,
  ) {
    this.el.dataset.field = spec.name;
    this.el.title = spec.help;
    const label = `${spec.label} (${owner.what})`;
    if (spec.kind === 'switch') {
      const select = h('select');
      for (const [value, text] of [
        ['true', 'on'],
        ['false', 'off'],
      ] as const) {
        const option = h('option', undefined, text);
        option.value = value;
        select.append(option);
      }
      this.input = select;
    } else {
      const input = h('input');
      input.type = 'text';
      input.inputMode = spec.kind === 'money' || spec.kind === 'percent' ? 'decimal' : 'numeric';
      input.placeholder = 'none';
      input.spellcheck = false;
      input.autocomplete = 'off';
      this.input = input;
    }
    this.input.name = spec.name;
    this.input.setAttribute('aria-label', label);
    this.note.setAttribute('aria-live', 'polite');

    this.form.noValidate = true;
    this.form.hidden = true;
    const unit = INPUT_UNIT[spec.kind];
    if (unit === '$') this.form.append(h('span', 'unit', unit));
    this.form.append(this.input);
    if (unit && unit !== '$') this.form.append(h('span', 'unit', unit));
    const save = h('button', 'primary limit-save', 'Save…');
    save.type = 'submit';
    save.setAttribute('aria-label', `Save ${label}`);
    const cancel = h('button', 'limit-cancel', 'Cancel');
    cancel.type = 'button';
    cancel.addEventListener('click', () => this.close());
    this.form.append(save, cancel);
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    this.form.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        this.close();
      }
    });

    this.editButton.type = 'button';
    this.editButton.setAttribute('aria-label', `Edit ${label}`);
    this.editButton.setAttribute('aria-expanded', 'false');
    this.editButton.hidden = !deps.canChange;
    this.editButton.addEventListener('click', () => this.open());
    this.el.append(this.shown, this.editButton, this.form, this.note);
    this.render();
  }

  get isEditing(): boolean {
    return !this.form.hidden;
  }

  /** The value in force (a load, a reload after a live change); an open editor keeps what is typed. */
  set(value: unknown): void {
    this.value = value;
    this.render();
  }

  private render(): void {
    setText(this.shown, limitText(this.spec.kind, this.value));
    setAttr(this.el, 'data-value', this.spec.kind === 'switch' ? String(Boolean(this.value)) : inputText(this.value));
  }

  private open(): void {
    if (!this.deps.canChange) return;
    if (this.input instanceof HTMLSelectElement) this.input.value = String(Boolean(this.value));
    else this.input.value = inputText(this.value);
    this.form.hidden = false;
    this.shown.hidden = true;
    this.editButton.hidden = true;
    this.editButton.setAttribute('aria-expanded', 'true');
    this.say('', '');
    this.input.focus();
    if (this.input instanceof HTMLInputElement) this.input.select();
  }

  private close(): void {
    this.form.hidden = true;
    this.shown.hidden = false;
    this.editButton.hidden = !this.deps.canChange;
    this.editButton.setAttribute('aria-expanded', 'false');
    if (this.el.dataset.state === 'refused') this.say('', '');
  }

  private say(text: string, state: '' | 'refused' | 'saved'): void {
    setText(this.note, text);
    if (state) this.el.dataset.state = state;
    else delete this.el.dataset.state;
  }

  private typed(): unknown {
    if (this.input instanceof HTMLSelectElement) return this.input.value === 'true';
    return typedLimit(this.input.value, this.spec.kind === 'money' || this.spec.kind === 'percent');
  }

  private submit(): void {
    const next = this.typed();
    const unchanged =
      this.spec.kind === 'switch' ? next === Boolean(this.value) : inputText(next) === inputText(this.value);
    if (unchanged) {
      this.say('Nothing changed.', 'refused');
      return;
    }
    const { label, kind } = this.spec;
    this.deps.confirm.open({
      title: `Change ${label.toLowerCase()} of ${this.owner.what}?`,
      text:
        `From ${limitText(kind, this.value)} to ${limitText(kind, next)}. The matcher applies it in ` +
        'sequence with the orders around it, from the next order on; the change, its old value and ' +
        'your reason are journaled.',
      confirmLabel: 'Change limit',
      offerRiskReducing: false,
      run: (reason) => this.send(next, reason),
    });
  }

  private async send(next: unknown, reason: string): Promise<void> {
    let answer: { outcome: ChangeOutcome; value: unknown };
    try {
      answer = await this.owner.save({ [this.spec.name]: next, reason });
    } catch (err) {
      if (aboutTheReason(err)) throw err;
      // The value is what was refused: its sentence belongs beside it, and the editor stays
      // open with what was typed.
      this.say(errorText(err), 'refused');
      return;
    }
    this.set(answer.value);
    this.close();
    const done = inForceText(answer.outcome);
    this.say(done, 'saved');
    this.deps.status(`${this.spec.label} of ${this.owner.what} set to ${limitText(this.spec.kind, answer.value)}: ${done}.`);
  }
}

// The firm-wide policy and the per-instrument limits, each value edited in place (limit-cell.ts).
// Both load over the risk API and reload when the matcher publishes a change of theirs, so the
// console shows what is in force whoever changed it (this page, another, the admin, the API).

import { errorText, riskApi } from './api';
import { byId, h, setText } from './dom';
import { LimitCell, type LimitCellDeps, type LimitSpec } from './limit-cell';
import type { FirmPolicy, InstrumentLimits } from './types';

/** The firm's controls, in the order an operator looks for them. */
export const FIRM_FIELDS: readonly LimitSpec[] = [
  {
    name: 'throttle_window_ms',
    label: 'Throttle window',
    kind: 'ms',
    help: "The message throttle's sliding window, per trader.",
  },
  {
    name: 'throttle_messages',
    label: 'Orders and modifies per window',
    kind: 'count',
    help: 'Orders and modifies a trader may send within the window; the next one is refused.',
  },
  {
    name: 'throttle_cancels',
    label: 'Cancels per window',
    kind: 'count',
    help: 'Cancels a trader may send within the window.',
  },
  {
    name: 'collar_percent',
    label: 'Price collar',
    kind: 'percent',
    help: 'A limit priced through the reference by more than this percent is refused.',
  },
  {
    name: 'collar_minimum',
    label: 'Price collar minimum',
    kind: 'money',
    help: '…or by more than this amount, whichever is greater.',
  },
  {
    name: 'duplicate_window_ms',
    label: 'Duplicate-order window',
    kind: 'ms',
    help: 'The same order (account, instrument, side, type, price, quantity) again within this window is refused.',
  },
  {
    name: 'authorised_users_only',
    label: 'Authorised users only',
    kind: 'switch',
    help: "Only an account's own traders may trade it.",
  },
];

/** An instrument's per-order limits, for every account. */
export const INSTRUMENT_FIELDS: readonly LimitSpec[] = [
  {
    name: 'max_order_lots',
    label: 'Max order qty',
    kind: 'lots',
    help: 'The largest single order in this instrument, in lots, for any account.',
  },
  {
    name: 'max_order_notional',
    label: 'Max order notional',
    kind: 'money',
    help: "The largest single order's value in this instrument, for any account.",
  },
];

function tableBody(id: string): HTMLTableSectionElement {
  const body = document.querySelector<HTMLTableSectionElement>(`#${id} tbody`);
  if (!body) throw new Error(`risk: missing #${id} tbody`);
  return body;
}

export class FirmPolicyPanel {
  private readonly body: HTMLTableSectionElement;
  private readonly state = byId('firm-status');
  private readonly cells = new Map<string, LimitCell>();

  constructor(private readonly deps: LimitCellDeps) {
    this.body = tableBody('risk-firm');
  }

  async reload(): Promise<void> {
    try {
      this.show(await riskApi.firmPolicy());
      setText(this.state, '');
    } catch (err) {
      setText(this.state, `Could not load the firm policy: ${errorText(err)}`);
    }
  }

  private show(policy: FirmPolicy): void {
    const known = new Set(FIRM_FIELDS.map((f) => f.name));
    // A control the API has and this page does not know yet is shown as it comes, read-only.
    const extra: LimitSpec[] = Object.keys(policy)
      .filter((name) => !known.has(name))
      .map((name) => ({ name, label: name.replace(/_/g, ' '), kind: 'count', help: '' }));
    for (const spec of [...FIRM_FIELDS, ...extra]) {
      if (!(spec.name in policy)) continue;
      let cell = this.cells.get(spec.name);
      if (!cell) {
        const editable = known.has(spec.name);
        cell = new LimitCell(
          spec,
          {
            what: 'the firm',
            save: async (changes) => {
              const answer = await riskApi.updateFirmPolicy(changes);
              return { outcome: answer, value: answer.firm[spec.name] };
            },
          },
          { ...this.deps, canChange: this.deps.canChange && editable },
        );
        this.cells.set(spec.name, cell);
        const row = h('tr', 'policy');
        row.dataset.field = spec.name;
        const label = h('th', 'label', spec.label);
        label.scope = 'row';
        label.title = spec.help;
        const value = h('td', 'value');
        value.append(cell.el);
        row.append(label, value);
        this.body.append(row);
      }
      cell.set(policy[spec.name]);
    }
  }
}

class InstrumentRow {
  readonly row = h('tr', 'instrument');
  readonly cells = new Map<string, LimitCell>();

  constructor(symbol: string, deps: LimitCellDeps) {
    this.row.dataset.symbol = symbol;
    const name = h('th', 'symbol', symbol);
    name.scope = 'row';
    this.row.append(name);
    for (const spec of INSTRUMENT_FIELDS) {
      const cell = new LimitCell(
        spec,
        {
          what: symbol,
          save: async (changes) => {
            const answer = await riskApi.updateInstrumentLimits(symbol, changes);
            return { outcome: answer, value: answer.instrument[spec.name] };
          },
        },
        deps,
      );
      this.cells.set(spec.name, cell);
      const td = h('td', spec.name);
      td.append(cell.el);
      this.row.append(td);
    }
  }

  show(limits: InstrumentLimits): void {
    for (const [name, cell] of this.cells) cell.set(limits[name] ?? null);
  }
}

export class InstrumentsPanel {
  private readonly body: HTMLTableSectionElement;
  private readonly state = byId('instruments-status');
  private readonly rows = new Map<string, InstrumentRow>();

  constructor(
    private readonly deps: LimitCellDeps,
    /** The listed symbols changed (for the restricted list's picker). */
    private readonly listed: (symbols: readonly string[]) => void,
  ) {
    this.body = tableBody('risk-instruments');
  }

  get symbols(): string[] {
    return [...this.rows.keys()];
  }

  async reload(): Promise<void> {
    let all: InstrumentLimits[];
    try {
      all = await riskApi.instrumentLimits();
    } catch (err) {
      setText(this.state, `Could not load the instruments: ${errorText(err)}`);
      return;
    }
    const seen = new Set<string>();
    for (const [symbol, row] of this.rows) {
      if (!all.some((limits) => limits.symbol === symbol)) {
        row.row.remove();
        this.rows.delete(symbol);
      }
    }
    for (const limits of all) {
      seen.add(limits.symbol);
      let row = this.rows.get(limits.symbol);
      if (!row) {
        row = new InstrumentRow(limits.symbol, this.deps);
        this.rows.set(limits.symbol, row);
        // In symbol order; rows already there stay put, so an open editor keeps its focus.
        const next = [...this.rows.keys()].filter((s) => s > limits.symbol).sort()[0];
        this.body.insertBefore(row.row, next !== undefined ? (this.rows.get(next)?.row ?? null) : null);
      }
      row.show(limits);
    }
    setText(this.state, `${seen.size} listed`);
    this.listed(this.symbols.sort());
  }
}

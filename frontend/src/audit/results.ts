// The results table: one page of the event log, rendered in one pass.

import { byId, cell, numberText, payloadText, positionText, utcText } from './dom';
import type { EventRow } from './types';

// Payload fields the table already shows as columns, left out of the payload cell.
const SHOWN_AS_COLUMNS = [
  'seq',
  'ts_ns',
  'kind',
  'command_id',
  'account',
  'symbol',
  'order_id',
  'client_order_id',
  'side',
  'price_ticks',
  'qty_lots',
  'order_type',
  'time_in_force',
  'reason',
] as const;
const COLUMN_COUNT = 16;

export function orderButton(orderId: number, title: string): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'order-link';
  button.dataset['orderId'] = String(orderId);
  button.textContent = String(orderId);
  button.title = title;
  return button;
}

function orderCell(row: EventRow): HTMLTableCellElement {
  const td = cell('order-id', '');
  if (row.order_id !== null) {
    td.append(orderButton(row.order_id, row.kind === 'trade' ? 'Taker: show its life' : 'Show its life'));
  }
  // A trade names its maker only in the payload; offer it too.
  const maker = row.payload['maker_order_id'];
  if (row.kind === 'trade' && typeof maker === 'number') {
    td.append(' ', orderButton(maker, 'Maker: show its life'));
  }
  return td;
}

function tableRow(row: EventRow): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.className = 'event';
  tr.dataset['kind'] = row.kind;
  if (row.side) tr.dataset['side'] = row.side;
  const payload = payloadText(row.payload, SHOWN_AS_COLUMNS);
  tr.append(
    cell('time', utcText(row.ts), `${row.ts} (${row.ts_ns} ns)`),
    cell('pos', positionText(row.shard, row.seq), row.command_id ? `command ${row.command_id}` : undefined),
    cell('kind', row.kind),
    cell('actor', row.actor ?? numberText(row.actor_user_id)),
    cell('account', row.account),
    cell('symbol', row.symbol),
    orderCell(row),
    cell('coid', row.client_order_id),
    cell('side', row.side),
    cell('price', numberText(row.price_ticks)),
    cell('qty', numberText(row.qty_lots)),
    cell('type', row.order_type),
    cell('tif', row.time_in_force),
    cell('reason', row.reason),
    cell('payload', payload, payload),
    cell('hash', row.hash.slice(0, 12), `hash ${row.hash}\nprev ${row.prev_hash}`),
  );
  return tr;
}

export class Results {
  private readonly body: HTMLTableSectionElement;

  constructor(onOrder: (orderId: number) => void) {
    const table = byId<HTMLTableElement>('audit-rows');
    const body = table.tBodies[0];
    if (!body) throw new Error('audit: the results table has no body');
    this.body = body;
    // One listener for every order link, present and future.
    table.addEventListener('click', (event) => {
      const target = event.target;
      if (!(target instanceof HTMLElement)) return;
      const button = target.closest<HTMLButtonElement>('button.order-link');
      const orderId = Number(button?.dataset['orderId']);
      if (button && Number.isSafeInteger(orderId)) onOrder(orderId);
    });
  }

  show(rows: EventRow[]): void {
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      tr.className = 'empty';
      const td = cell('empty', 'No event matches these filters.');
      td.colSpan = COLUMN_COUNT;
      tr.append(td);
      this.body.replaceChildren(tr);
      return;
    }
    const rowsFragment = document.createDocumentFragment();
    for (const row of rows) rowsFragment.append(tableRow(row));
    this.body.replaceChildren(rowsFragment);
  }

  markLoading(loading: boolean): void {
    this.body.classList.toggle('loading', loading);
  }
}

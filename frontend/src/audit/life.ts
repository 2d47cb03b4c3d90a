// The side panel: one order's full life, its events and the commands that caused them, in
// log order.

import { auditApi, errorText } from './api';
import { describeRow } from './describe';
import { byId, cell, positionText, utcText } from './dom';
import type { EventRow, OrderLife } from './types';

function byLogPosition(a: EventRow, b: EventRow): number {
  return a.shard - b.shard || a.seq - b.seq;
}

function lifeRow(row: EventRow, isCommand: boolean): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.className = isCommand ? 'life-command' : 'life-event';
  tr.dataset['kind'] = row.kind;
  tr.title = JSON.stringify(row.payload, null, 1);
  tr.append(
    cell('pos', positionText(row.shard, row.seq)),
    cell('time', utcText(row.ts), row.ts),
    cell('kind', isCommand ? `▸ ${row.kind}` : row.kind),
    cell('actor', row.actor ?? (row.actor_user_id === null ? '' : String(row.actor_user_id))),
    cell('detail', describeRow(row)),
  );
  return tr;
}

export class LifePanel {
  private readonly panel = byId('audit-life');
  private readonly title = byId('life-title');
  private readonly status = byId('life-status');
  private readonly body: HTMLTableSectionElement;
  private showing = 0;

  constructor() {
    const body = byId<HTMLTableElement>('life-rows').tBodies[0];
    if (!body) throw new Error('audit: the life table has no body');
    this.body = body;
    byId('life-close').addEventListener('click', () => this.close());
  }

  async open(orderId: number): Promise<void> {
    this.showing = orderId;
    this.panel.hidden = false;
    this.panel.dataset['orderId'] = String(orderId);
    this.title.textContent = `Order ${orderId}`;
    this.status.textContent = 'loading…';
    this.body.replaceChildren();
    let life: OrderLife;
    try {
      life = await auditApi.orderLife(orderId);
    } catch (err) {
      if (this.showing === orderId) this.status.textContent = errorText(err);
      return;
    }
    if (this.showing !== orderId) return; // another order was clicked meanwhile
    this.render(life);
  }

  close(): void {
    this.showing = 0;
    this.panel.hidden = true;
  }

  private render(life: OrderLife): void {
    const commands = new Set(life.commands);
    const timeline = [...life.events, ...life.commands].sort(byLogPosition);
    this.status.textContent =
      `${life.events.length} event${life.events.length === 1 ? '' : 's'}, ` +
      `${life.commands.length} command${life.commands.length === 1 ? '' : 's'}`;
    const rows = document.createDocumentFragment();
    for (const row of timeline) rows.append(lifeRow(row, commands.has(row)));
    this.body.replaceChildren(rows);
  }
}

// One line about a row of an order's life, from its payload: what the auditor reads first.

import type { EventRow } from './types';

function field(row: EventRow, name: string): string {
  const value = row.payload[name];
  if (value === undefined || value === null || value === '') return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function terms(row: EventRow): string {
  const price = field(row, 'price_ticks');
  const stop = field(row, 'stop_price_ticks');
  const parts = [field(row, 'side'), field(row, 'qty_lots'), field(row, 'symbol')];
  if (price && price !== '0') parts.push(`@ ${price}`);
  if (stop && stop !== '0') parts.push(`stop ${stop}`);
  parts.push(field(row, 'order_type'), field(row, 'time_in_force'));
  const account = field(row, 'account');
  if (account) parts.push(`· ${account}`);
  return parts.filter(Boolean).join(' ');
}

/** A short sentence for the life panel; the full payload is on the row's title. */
export function describeRow(row: EventRow): string {
  switch (row.kind) {
    case 'new_order':
    case 'order_accepted':
      return `${terms(row)} · client id ${field(row, 'client_order_id')}`;
    case 'trade':
      return (
        `${field(row, 'qty_lots')} @ ${field(row, 'price_ticks')} · ` +
        `maker ${field(row, 'maker_order_id')} (${field(row, 'maker_account')}, ` +
        `${field(row, 'maker_leaves_lots')} left) · taker ${field(row, 'taker_order_id')} ` +
        `(${field(row, 'taker_account')}, ${field(row, 'taker_leaves_lots')} left)`
      );
    case 'order_cancelled':
      return `${field(row, 'cancelled_lots')} lots cancelled · ${field(row, 'reason')}`;
    case 'order_reduced':
      return `${field(row, 'reduced_lots')} lots removed, ${field(row, 'leaves_lots')} left · ${field(row, 'reason')}`;
    case 'order_modified':
      return (
        `${field(row, 'previous_leaves_lots')} @ ${field(row, 'previous_price_ticks')} → ` +
        `${field(row, 'leaves_lots')} @ ${field(row, 'price_ticks')}` +
        (row.payload['kept_priority'] === true ? ' · kept priority' : ' · lost priority')
      );
    case 'modify_order':
      return `to ${field(row, 'qty_lots')} @ ${field(row, 'price_ticks')}`;
    case 'cancel_order':
      return `cancel order ${field(row, 'order_id')}`;
    case 'stop_triggered':
      return `triggered at ${field(row, 'trigger_price_ticks')}`;
    case 'cancel_rejected':
    case 'modify_rejected':
    case 'order_rejected':
    case 'command_rejected':
      return `${field(row, 'reason')}: ${field(row, 'message')}`;
    case 'mass_cancel':
      return 'mass cancel';
    case 'expire_orders':
      return `expire ${field(row, 'time_in_force')} orders`;
    default:
      return JSON.stringify(row.payload);
  }
}

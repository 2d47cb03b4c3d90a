// Utilisation bars: how much of a limit is used, coloured by the thresholds the risk stage
// alerts at (50, 75 and 90 %). Display only: the numbers are the matcher's.

import { h, setAttr } from './dom';

export type Level = 'none' | 'ok' | 'notice' | 'warn' | 'high' | 'over';

export function levelOf(percent: number | null): Level {
  if (percent === null) return 'none';
  if (percent >= 100) return 'over';
  if (percent >= 90) return 'high';
  if (percent >= 75) return 'warn';
  if (percent >= 50) return 'notice';
  return 'ok';
}

/** Percent of `limit` that `used` is; null without a limit. */
export function percentOf(used: number, limit: number | null): number | null {
  if (limit === null || !(limit > 0)) return null;
  return Math.max(0, (used / limit) * 100);
}

export class Bar {
  readonly el = h('div', 'bar');
  private readonly fill = h('span', 'fill');
  private readonly marks: HTMLElement[] = [];

  constructor() {
    this.el.setAttribute('role', 'meter');
    this.el.setAttribute('aria-valuemin', '0');
    this.el.setAttribute('aria-valuemax', '100');
    this.el.append(this.fill);
  }

  /** Shows `percent` of the limit used, and marks (in percent of the same limit) along it. */
  set(percent: number | null, label: string, marks: readonly number[] = []): void {
    const shown = percent === null ? 0 : Math.min(percent, 100);
    this.fill.style.width = `${shown.toFixed(1)}%`;
    setAttr(this.el, 'data-level', levelOf(percent));
    setAttr(this.el, 'data-percent', percent === null ? '' : percent.toFixed(1));
    setAttr(this.el, 'aria-valuenow', shown.toFixed(1));
    setAttr(this.el, 'aria-label', label);
    this.el.title = label;
    while (this.marks.length > marks.length) this.marks.pop()?.remove();
    while (this.marks.length < marks.length) {
      const mark = h('span', 'mark');
      this.marks.push(mark);
      this.el.append(mark);
    }
    marks.forEach((m, i) => {
      const mark = this.marks[i];
      if (mark) mark.style.left = `${Math.min(Math.max(m, 0), 100).toFixed(1)}%`;
    });
  }
}

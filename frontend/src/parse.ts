// Shape checks for what the operator types. Tick and lot rules stay with the
// server, whose exact rejection sentence is shown instead of a second opinion.

const PRICE_RE = /^\d+(\.\d+)?$/;
const QTY_RE = /^[1-9]\d*$/;

/** A positive plain decimal, returned as the trimmed string (prices never become floats). */
export function parsePrice(text: string): string | null {
  const t = text.trim();
  return PRICE_RE.test(t) && /[1-9]/.test(t) ? t : null;
}

/** A positive whole number that fits a JSON integer exactly. */
export function parseQuantity(text: string): number | null {
  const t = text.trim();
  if (!QTY_RE.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : null;
}

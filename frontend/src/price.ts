// Exact price handling. Prices arrive as decimal strings; for ordering and
// arithmetic they are turned into integers counted in units of 10^-decimals,
// where `decimals` comes from the instrument's tick_size string. No float
// ever touches a price.

const DECIMAL_RE = /^(-?)(\d+)(?:\.(\d*))?$/;

/** Number of significant decimals in a tick size: "0.01" -> 2, "0.10" -> 1, "1" -> 0. */
export function tickDecimals(tickSize: string): number {
  const m = DECIMAL_RE.exec(tickSize.trim());
  if (!m) return 2;
  return (m[3] ?? '').replace(/0+$/, '').length;
}

/**
 * "189.50" with 2 decimals -> 18950. Returns null for text that is not a plain
 * decimal or that carries non-zero digits finer than `decimals`.
 */
export function toUnits(price: string, decimals: number): number | null {
  const m = DECIMAL_RE.exec(price.trim());
  if (!m) return null;
  const sign = m[1] === '-' ? -1 : 1;
  let frac = m[3] ?? '';
  if (frac.length > decimals) {
    if (/[^0]/.test(frac.slice(decimals))) return null;
    frac = frac.slice(0, decimals);
  } else {
    frac = frac.padEnd(decimals, '0');
  }
  const units = Number((m[2] ?? '0') + frac);
  return Number.isSafeInteger(units) ? sign * units : null;
}

/** 18950 with 2 decimals -> "189.50". */
export function fromUnits(units: number, decimals: number): string {
  const neg = units < 0;
  const digits = String(Math.abs(units)).padStart(decimals + 1, '0');
  const whole = decimals === 0 ? digits : digits.slice(0, -decimals);
  const frac = decimals === 0 ? '' : '.' + digits.slice(-decimals);
  return (neg ? '-' : '') + whole + frac;
}


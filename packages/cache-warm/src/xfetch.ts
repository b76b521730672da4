/**
 * The XFetch rule (Vattani, Chierichetti, Lowenstein, "Optimal Probabilistic Cache Stampede
 * Prevention", VLDB 2015): a reader recomputes early when `now − Δ·β·ln(rand) ≥ expiry`, Δ being the
 * compute time. The chance rises smoothly towards expiry, so with traffic one reader recomputes
 * shortly before expiry and the key never expires, while nobody recomputes far too early.
 */
export function xfetchDue(
  now: number,
  expiresAt: number,
  computeMs: number,
  beta: number,
  random: () => number,
): boolean {
  // 1 − random() lies in (0, 1], so the log is finite.
  return now - computeMs * beta * Math.log(1 - random()) >= expiresAt;
}

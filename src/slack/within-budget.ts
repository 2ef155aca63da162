/**
 * Slack closes a view submission after 3 s. Core work that may take longer (it talks to the mail
 * server) races a budget: settled in time, the modal shows the result; late, the modal shows
 * "checking" and the caller awaits `settled` to report by other means.
 */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export async function withinBudget<T>(work: Promise<T>, budgetMs: number): Promise<{ outcome: Settled<T> | 'late'; settled: Promise<Settled<T>> }> {
  const settled = work.then(
    (value): Settled<T> => ({ ok: true, value }),
    (error: unknown): Settled<T> => ({ ok: false, error }),
  );
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), budgetMs);
  });
  const outcome = await Promise.race([settled, budget]);
  clearTimeout(timer);
  return { outcome, settled };
}
